"""Page forms for the ledger. Choice fields offer only records inside the user's area; the
services decide everything else."""

from django import forms
from django.db.models import Q

from accounts import lookups
from accounts.choices import RegionLevel
from accounts.forms import ScopedForm
from kongchuo import crypto
from students.choices import Gender, KeyGroup
from students.identity import normalise_id_number
from students.models import Student

from .choices import Action, ClosureReason, EntryKind, Reason, RecordCheck, Source, Whereabouts
from .services import EntryData

_DATE = forms.DateInput(attrs={"type": "date"})
_TEXT = forms.Textarea(attrs={"rows": 3})


def _note(label="说明", required=True, help_text=""):
    return forms.CharField(
        label=label, widget=_TEXT, required=required, max_length=2000, help_text=help_text
    )


def _find_student(user, raw: str) -> Student | None:
    key = normalise_id_number(raw)
    if not key:
        return None
    return (
        Student.objects.for_user(user)
        .filter(Q(id_hash=crypto.match_hash(key)) | Q(student_number=key))
        .select_related("school")
        .first()
    )


class StudentLookupMixin(forms.Form):
    """A student chosen on the page they came from (hidden id) or typed as an ID number or
    学籍号; both only inside the user's area."""

    student = forms.ModelChoiceField(
        Student.objects.all(), required=False, widget=forms.HiddenInput
    )
    student_key = forms.CharField(
        label="学生身份证号或学籍号",
        required=False,
        max_length=30,
        help_text="从学生页面进入时已选定学生；未入学儿童留空",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("student") is None and cleaned.get("student_key"):
            student = _find_student(self.user, cleaned["student_key"])
            if student is None:
                self.add_error("student_key", "在您的管辖范围内找不到该身份证号或学籍号的学生。")
            cleaned["student"] = student
        return cleaned


class ReasonFields(forms.Form):
    """Why the child is out of school and where they are: asked when an entry is added and
    whenever it is updated."""

    reason = forms.ChoiceField(label="主要辍学原因", choices=Reason.choices)
    other_reasons = forms.MultipleChoiceField(
        label="其他原因",
        choices=Reason.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    whereabouts = forms.ChoiceField(label="人员现状", choices=Whereabouts.choices)


class EntryForm(StudentLookupMixin, ReasonFields, ScopedForm):
    """新增台账记录, with the 学籍 check step for a child who has no student record."""

    # The fields of the 学籍 check (a 未入学 child's) and of the dropout itself, shared by the
    # forms that start from this one.
    RECORD_CHECK = [
        "record_check",
        "name",
        "gender",
        "birth_date",
        "id_number",
        "hukou_region",
        "key_groups",
        "person_status",
        "family_situation",
        "parent_contact",
        "department_opinion",
    ]
    CIRCUMSTANCES = ["reason", "other_reasons", "whereabouts", "township", "measures", "note"]
    SECTIONS = [
        ("学生", ["student", "student_key", "kind", "source", "found_on"]),
        ("学籍核查（未入学儿童必填）", RECORD_CHECK),
        ("辍学情况", CIRCUMSTANCES),
    ]

    kind = forms.ChoiceField(label="类别", choices=EntryKind.choices)
    source = forms.ChoiceField(label="来源", choices=Source.choices)
    found_on = forms.DateField(label="发现日期", widget=_DATE, required=False)
    record_check = forms.ChoiceField(
        label="学籍核查结果",
        choices=[("", "—"), *RecordCheck.choices],
        required=False,
        help_text="先在全国学籍系统核查；已有学生档案的无需填写",
    )
    name = forms.CharField(label="姓名", max_length=50, required=False)
    gender = forms.ChoiceField(label="性别", choices=[("", "—"), *Gender.choices], required=False)
    birth_date = forms.DateField(label="出生日期", widget=_DATE, required=False)
    id_number = forms.CharField(label="身份证号", max_length=30, required=False)
    # A migrant child's 户籍地 may be anywhere in the country (searched nationally).
    hukou_region = lookups.RegionField(label="户籍地（乡镇或村）", required=False)
    key_groups = forms.MultipleChoiceField(
        label="重点群体",
        choices=KeyGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="已有学生档案的按档案记录",
    )
    person_status = _note("人员现状说明", required=False)
    family_situation = _note("家庭情况", required=False)
    parent_contact = forms.CharField(label="父母联系方式", max_length=100, required=False)
    department_opinion = _note("相关部门意见", required=False)
    township = lookups.RegionField(
        levels=(RegionLevel.TOWNSHIP,),
        label="责任乡镇",
        required=False,
        help_text="默认为户籍地所在乡镇；输入名称搜索后选择，或填写9位乡镇代码",
    )
    measures = _note("已采取的控辍保学措施", required=False)
    note = _note("情况说明", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A school reports what it finds; others add by hand. Every creator may add any
        # kind, a 未入学 child included (002: the 中心校 keeps the roster of school-age
        # children and the ledger of dropouts and of children never enrolled).
        self.fields["source"].initial = (
            Source.SCHOOL_REPORT if self.user.school_id else Source.MANUAL
        )

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def to_data(self) -> EntryData:
        data = dict(self.cleaned_data)
        data.pop("student_key", None)
        return EntryData(**data)


class ExcludeForm(ScopedForm):
    note = _note("排除理由（核实情况）")


class ConfirmForm(ScopedForm):
    note = _note("核实情况", required=False)


class AssignForm(ScopedForm):
    township = lookups.RegionField(levels=(RegionLevel.TOWNSHIP,), label="负责劝返的乡镇")
    note = _note(required=False)


class ReturnForm(StudentLookupMixin, ScopedForm):
    note = _note("复学情况", help_text="复学学校、年级和安置方式")


class ProposeForm(ScopedForm):
    closure_reason = forms.ChoiceField(label="销号原因", choices=ClosureReason.choices)
    evidence_text = _note("证明情况", required=False, help_text="与上传文件至少提供一项")
    evidence_file = forms.FileField(
        label="证明材料文件", required=False, help_text="PDF、图片、Word或Excel，不超过10 MB"
    )


class CommentForm(ScopedForm):
    comment = _note("审核意见", required=False)


class RejectForm(ScopedForm):
    comment = _note("退回意见")


class NoteForm(ScopedForm):
    note = _note()


class UpdateForm(ReasonFields, ScopedForm):
    measures = _note("控辍保学措施", required=False)
    note = _note("说明", required=False)

    @staticmethod
    def initial_for(entry) -> dict:
        return {
            "reason": entry.reason,
            "other_reasons": entry.other_reasons,
            "whereabouts": entry.whereabouts,
            "measures": entry.measures,
        }


ACTION_FORMS = {
    Action.EXCLUDE: ExcludeForm,
    Action.CONFIRM: ConfirmForm,
    Action.ASSIGN: AssignForm,
    Action.RETURN: ReturnForm,
    Action.PROPOSE: ProposeForm,
    Action.APPROVE: CommentForm,
    Action.REJECT: RejectForm,
    Action.REOPEN: NoteForm,
    Action.REVIEW: NoteForm,
    Action.UPDATE: UpdateForm,
}
