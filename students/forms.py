"""Page forms for students. Choice fields offer only records inside the user's area."""

from django import forms
from django.db.models import Q

from accounts import lookups
from accounts.forms import ScopedForm
from accounts.models import School, SchoolClass, current_school_year, grade_label

from .choices import (
    ETHNIC_GROUPS,
    GUARDIAN_RELATIONS,
    OTHER_ETHNICITIES,
    DisabilityGrade,
    DisabilityType,
    EventKind,
    Gender,
    KeyGroup,
)
from .models import IdType
from .selectors import transfer_classes
from .services import GuardianData, StudentData

GRADE_CHOICES = [(g, grade_label(g)) for g in range(1, 10)]
GUARDIAN_SLOTS = 2
_DATE = forms.DateInput(attrs={"type": "date"})


class StudentForm(ScopedForm):
    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", choices=Gender.choices)
    birth_date = forms.DateField(label="出生日期", widget=forms.DateInput(attrs={"type": "date"}))
    ethnicity = forms.ChoiceField(
        label="民族", choices=[(e, e) for e in ETHNIC_GROUPS + OTHER_ETHNICITIES], initial="汉族"
    )
    id_type = forms.TypedChoiceField(
        label="身份证件类型",
        choices=IdType.choices,
        initial=IdType.RESIDENT,
        required=False,
        empty_value=IdType.RESIDENT,
    )
    id_number = forms.CharField(
        label="身份证号",
        max_length=30,
        required=False,
        help_text="居民身份证暂无可留空，系统会标记；“其他”证件无号码时留空，由学校留存证明",
    )
    student_number = forms.CharField(label="学籍号", max_length=30, required=False)
    school = lookups.SchoolField(label="学校")
    grade = forms.TypedChoiceField(label="年级", coerce=int, choices=GRADE_CHOICES)
    # The classes of the student's school only (a county has thousands of classes).
    klass = forms.ModelChoiceField(
        SchoolClass.objects.none(),
        label="班级",
        required=False,
        help_text="本校本学年的班级；改了学校请先保存，再选择新学校的班级",
    )
    entry_date = forms.DateField(
        label="入学日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # A migrant child's 户籍地 may be anywhere in the country (searched nationally).
    hukou_region = lookups.RegionField(label="户籍地（乡镇或村）", required=False)
    address = forms.CharField(label="现住址", max_length=200, required=False)
    key_groups = forms.MultipleChoiceField(
        label="重点群体",
        choices=KeyGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    disability_type = forms.ChoiceField(
        label="残疾类型", choices=[("", "—"), *DisabilityType.choices], required=False
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级",
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *DisabilityGrade.choices],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        school = self._school()
        self.fields["klass"].queryset = (
            SchoolClass.objects.for_user(self.user)
            .filter(school=school)
            # This school year's classes, and the one the student is in now.
            .filter(Q(school_year=current_school_year()) | Q(pk=self.initial.get("klass")))
            .order_by("grade", "name")
            if school is not None
            else SchoolClass.objects.none()
        )
        for slot in range(1, GUARDIAN_SLOTS + 1):
            required = slot == 1
            self.fields[f"guardian{slot}_name"] = forms.CharField(
                label=f"监护人{slot}姓名", max_length=50, required=required
            )
            self.fields[f"guardian{slot}_relation"] = forms.ChoiceField(
                label=f"监护人{slot}关系",
                choices=[(r, r) for r in GUARDIAN_RELATIONS],
                required=required,
            )
            self.fields[f"guardian{slot}_phone"] = forms.CharField(
                label=f"监护人{slot}电话", max_length=20, required=False
            )

    def _school(self) -> School | None:
        """The school whose classes are offered: the one typed (when it is in the area), else
        the one the form starts with."""
        field = self.fields["school"]
        try:
            raw = self.data.get(self.add_prefix("school")) if self.is_bound else None
            chosen = field.clean(raw if raw else self.initial.get("school"))
        except forms.ValidationError:
            return None
        return chosen

    def to_data(self) -> StudentData:
        data = dict(self.cleaned_data)
        guardians = []
        for slot in range(1, GUARDIAN_SLOTS + 1):
            name = data.pop(f"guardian{slot}_name", "")
            relation = data.pop(f"guardian{slot}_relation", "")
            phone = data.pop(f"guardian{slot}_phone", "")
            if name:
                guardians.append(GuardianData(name=name, relation=relation, phone=phone))
        data["key_groups"] = set(data["key_groups"])
        return StudentData(guardians=guardians, **data)

    @staticmethod
    def initial_for(student) -> dict:
        initial = {
            name: getattr(student, name)
            for name in (
                "name",
                "gender",
                "birth_date",
                "ethnicity",
                "id_type",
                "student_number",
                "grade",
                "entry_date",
                "address",
                "disability_type",
                "disability_grade",
            )
        }
        initial.update(
            id_number=student.id_number or "",
            school=student.school,
            klass=student.klass_id,
            hukou_region=student.hukou_region,
            key_groups=student.key_group_values,
        )
        for slot, guardian in enumerate(student.guardians.all()[:GUARDIAN_SLOTS], start=1):
            initial.update(
                {
                    f"guardian{slot}_name": guardian.name,
                    f"guardian{slot}_relation": guardian.relation,
                    f"guardian{slot}_phone": guardian.phone,
                }
            )
        return initial


class EventForm(ScopedForm):
    kind = forms.ChoiceField(
        label="异动类型",
        choices=[
            (k.value, k.label) for k in EventKind if k not in (EventKind.ENROL, EventKind.MERGE)
        ],
    )
    date = forms.DateField(label="异动日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="原因", max_length=200)
    document = forms.CharField(
        label="证明材料", max_length=200, required=False, help_text="如转学联系函编号、医院证明等"
    )
    # Any school of the system (children move across counties); the service refuses the
    # student's own (students.selectors.transfer_targets).
    to_school = lookups.SchoolField(
        anywhere=True,
        label="转入学校（本系统内）",
        required=False,
        help_text="转出到本系统内其他学校时填写：输入校名搜索后选择，由对方学校确认接收",
    )
    destination = forms.CharField(label="转往/来自（系统外）", max_length=200, required=False)


class TransferDecisionForm(ScopedForm):
    # Required to accept, not to send back: the service says so (students.services).
    klass = forms.ModelChoiceField(
        SchoolClass.objects.all(),
        label="编入班级",
        required=False,
        error_messages={"invalid_choice": "所选班级不是转入学校本学年该年级的班级。"},
    )
    note = forms.CharField(label="处理意见", max_length=200, required=False)

    def __init__(self, *args, transfer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if transfer is not None:
            classes = transfer_classes(transfer).for_user(self.user)
            self.fields["klass"].queryset = classes
