"""Page forms of the 劝返 case. They parse input and offer sensible choices; every rule is
the service's (returns.services), whose errors come back onto the field they name — the
field names here are the ones its AppErrors use."""

from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts import lookups
from accounts.choices import RegionLevel
from accounts.forms import ScopedForm
from accounts.models import SchoolClass, User, grade_label
from ledger.forms import StudentLookupMixin

from .choices import Department, Help, Method, Placement, Step
from .services import DUTY_ROLES

_TEAM_ROLES = sorted(set().union(*DUTY_ROLES.values()))


def _text(label, *, required=True, help_text="", rows=3):
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _date(label, *, required=True, help_text="", not_after_today=False):
    attrs = {"type": "date"}
    if not_after_today:
        attrs["max"] = timezone.localdate().isoformat()
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs, format="%Y-%m-%d"),
    )


def person_label(user: User) -> str:
    return f"{user.full_name or user.username}（{user.get_role_display()}）"


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class AskingForm(ScopedForm):
    """A missing required field asks for it by name, as the services do."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            verb = (
                "请选择"
                if isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
                else "请填写"
            )
            field.error_messages["required"] = f"{verb}{field.label}。"


class CaseForm(AskingForm):
    """A form about one case: ``case`` is given by the view."""

    def __init__(self, *args, case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)


class OpenForm(AskingForm):
    """下达劝返指令: the proposal confirmed (劝返乡镇 left empty or the proposed one) or another
    township with a reason."""

    township = lookups.RegionField(
        levels=(RegionLevel.TOWNSHIP,),
        label="改派给乡镇",
        required=False,
        help_text="输入乡镇名称搜索后选择；留空即按上面的规则确认",
    )
    reason = _text("改派理由", required=False, help_text="改派其他乡镇时必填")
    note = _text("指令说明", required=False, help_text="给乡镇的工作要求，可不填")

    def __init__(self, *args, moved_applies: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if moved_applies:
            self.fields["moved_after_dropout"] = forms.BooleanField(
                label="该生辍学后已迁出就读地", required=False
            )
            self.order_fields(["moved_after_dropout"])


class AcknowledgeForm(CaseForm):
    note = _text("签收说明", required=False, rows=2)


class ReassignForm(CaseForm):
    township = lookups.RegionField(levels=(RegionLevel.TOWNSHIP,), label="改派给乡镇")
    reason = _text("改派理由")


class NoticeForm(CaseForm):
    region = lookups.RegionField(
        levels=(RegionLevel.COUNTY, RegionLevel.TOWNSHIP),
        label="告知对象（乡镇或县）",
        help_text="户籍地乡镇，或户籍地在县外时的户籍地县；输入名称搜索后选择",
    )
    text = _text("告知内容", rows=4)


class TeamForm(CaseForm):
    """结对包保: tick who is on the team; accounts elsewhere in the county by user name."""

    members = PeopleField(
        User.objects.none(),
        label="包保人员",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="勾选的人组成包保小组，取消勾选即退出；包保身份按账号角色确定",
    )
    usernames = forms.CharField(
        label="添加本县其他账号",
        required=False,
        max_length=300,
        help_text="填写用户名，多个用逗号或空格分隔",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.case
        townships = [pk for pk in (case.township_id, case.co_township_id) if pk]
        nearby = Q(region_id__in=townships) | Q(region__parent_id__in=townships)
        if case.school_id:
            nearby |= Q(school_id=case.school_id)
        self.fields["members"].queryset = (
            User.objects.filter(is_active=True, role__in=_TEAM_ROLES)
            .filter(nearby | Q(case_memberships__case=case))
            .distinct()
            .order_by("role", "username")
        )
        self.initial.setdefault("members", list(case.members.values_list("user_id", flat=True)))

    def clean_usernames(self):
        names = [n for n in self.cleaned_data["usernames"].replace("，", ",").split(",") if n]
        names = list(dict.fromkeys(part for n in names for part in n.split()))
        county = self.case.county.prefix
        found = {
            user.username: user
            for user in User.objects.filter(username__in=names, is_active=True).filter(
                Q(region__code__startswith=county) | Q(school__township__code__startswith=county)
            )
        }
        missing = [name for name in names if name not in found]
        if missing:
            raise forms.ValidationError(f"找不到本县的在用账号：{'、'.join(missing)}。")
        return list(found.values())

    def people(self) -> list[User]:
        chosen = {user.pk: user for user in self.cleaned_data["members"]}
        chosen.update({user.pk: user for user in self.cleaned_data["usernames"]})
        return list(chosen.values())


class PlanForm(CaseForm):
    cause = _text("原因分析", rows=4)
    measures = _text("劝返措施", rows=4)
    help = forms.MultipleChoiceField(
        label="帮扶措施",
        choices=Help.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        latest = self.case.plans.first()
        if latest is not None:
            self.initial.update(cause=latest.cause, measures=latest.measures, help=latest.help)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; the cleaned value is a list."""

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ActionForm(CaseForm):
    """劝返记录 — a home visit recorded on a phone in under a minute: today's date, the team
    ticked, one tap for the method, what happened, photos from the camera."""

    date = _date("劝返日期", not_after_today=True)
    method = forms.ChoiceField(
        label="劝返方式", choices=Method.choices, initial=Method.VISIT, widget=forms.RadioSelect
    )
    departments = forms.MultipleChoiceField(
        label="参与部门（联合劝返）",
        choices=Department.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    participants = PeopleField(
        User.objects.none(),
        label="同去的包保人员",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="记录人自动计入",
    )
    participant_names = forms.CharField(
        label="其他参与人员", required=False, max_length=200, help_text="如村民小组长、亲属"
    )
    result = _text("劝返情况及结果", rows=4)
    attachments = MultipleFileField(
        label="照片或PDF",
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"}),
        help_text="可拍照或选择多张照片；JPG、PNG或PDF，每个不超过10 MB，照片的位置信息会被去除",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
        self.fields["participants"].queryset = (
            User.objects.filter(case_memberships__case=self.case)
            .exclude(pk=self.user.pk)
            .order_by("case_memberships__added_at")
        )
        if not self.fields["participants"].queryset.exists():
            del self.fields["participants"]


class StepForm(CaseForm):
    """推进劝返步骤: every step is accepted here so that the service, not the form, answers a
    step backwards; only the steps ahead are offered."""

    step = forms.TypedChoiceField(
        label="推进到", choices=Step.choices, coerce=int, widget=forms.RadioSelect
    )
    step_deadline = _date("责令改正截止日期", required=False, help_text="推进到责令改正时必填")
    reason = _text("理由", required=False, help_text="跳过步骤时必填", rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ahead = [(step.value, step.label) for step in Step if step > self.case.step]
        self.fields["step"].widget.choices = ahead
        if ahead:
            self.fields["step"].initial = ahead[0][0]


class ReturnForm(StudentLookupMixin, CaseForm):
    """登记复学: placement, the receiving school, class and grade (the suggestion preset)."""

    placement = forms.ChoiceField(
        label="安置方式", choices=Placement.choices, initial=Placement.REGULAR
    )
    school = lookups.SchoolField(anywhere=True, label="复学学校")
    klass = forms.ModelChoiceField(
        SchoolClass.objects.all(), label="复学班级", required=False, empty_label="暂不分班"
    )
    grade = forms.TypedChoiceField(
        label="复学年级",
        choices=[("", "按班级或建议"), *((n, grade_label(n)) for n in range(1, 10))],
        coerce=int,
        empty_value=None,
        required=False,
    )
    returned_on = _date("复学日期", not_after_today=True)
    note = _text("复学情况", required=False, rows=2)

    def __init__(self, *args, suggested_grade: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        entry = self.case.entry
        if entry.student_id:
            del self.fields["student"], self.fields["student_key"]
        else:
            self.fields["student_key"].label = "入学后的学生身份证号或学籍号"
            self.fields["student_key"].help_text = "未入学儿童须先由学校建立学生档案"
        self.fields["returned_on"].initial = timezone.localdate()
        self.fields["grade"].initial = suggested_grade
        if entry.school_id:
            self.fields["school"].initial = entry.school
        # The classes of the school chosen (or about to be): no list of every class of a county.
        school = self.fields["school"].initial
        if self.is_bound:
            try:
                school = self.fields["school"].clean(self.data.get("school"))
            except forms.ValidationError:
                school = None
        self.fields["klass"].queryset = SchoolClass.objects.filter(school=school).order_by(
            "-school_year", "grade", "name"
        )


class DeferForm(CaseForm):
    court_ruling = forms.BooleanField(
        label="法院已判决且监护人已履行义务", required=False, help_text="有判决时勾选"
    )
    reason = _text("延缓入学或休学理由")


class CloseForm(CaseForm):
    note = _text("跟踪情况")
