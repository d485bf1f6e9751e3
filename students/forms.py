"""Page forms for students. Choice fields offer only records inside the user's area."""

from django import forms

from accounts.choices import RegionLevel
from accounts.forms import ScopedForm
from accounts.models import Region, School, SchoolClass, grade_label

from .choices import (
    ETHNIC_GROUPS,
    GUARDIAN_RELATIONS,
    DisabilityGrade,
    DisabilityType,
    EventKind,
    Gender,
    KeyGroup,
)
from .selectors import transfer_targets
from .services import GuardianData, StudentData

GRADE_CHOICES = [(g, grade_label(g)) for g in range(1, 10)]
GUARDIAN_SLOTS = 2
_DATE = forms.DateInput(attrs={"type": "date"})


class StudentForm(ScopedForm):
    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", choices=Gender.choices)
    birth_date = forms.DateField(label="出生日期", widget=forms.DateInput(attrs={"type": "date"}))
    ethnicity = forms.ChoiceField(
        label="民族", choices=[(e, e) for e in ETHNIC_GROUPS], initial="汉族"
    )
    id_number = forms.CharField(
        label="身份证号", max_length=30, required=False, help_text="暂无身份证号可留空，系统会标记"
    )
    student_number = forms.CharField(label="学籍号", max_length=30, required=False)
    school = forms.ModelChoiceField(School.objects.all(), label="学校")
    grade = forms.TypedChoiceField(label="年级", coerce=int, choices=GRADE_CHOICES)
    klass = forms.ModelChoiceField(
        SchoolClass.objects.select_related("school"), label="班级", required=False
    )
    entry_date = forms.DateField(
        label="入学日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    hukou_region = forms.ModelChoiceField(
        Region.objects.filter(level__gte=RegionLevel.TOWNSHIP),
        label="户籍地（乡镇或村）",
        required=False,
    )
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
            school=student.school_id,
            klass=student.klass_id,
            hukou_region=student.hukou_region_id,
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
        label="异动类型", choices=[(k.value, k.label) for k in EventKind if k != EventKind.ENROL]
    )
    date = forms.DateField(label="异动日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="原因", max_length=200)
    document = forms.CharField(
        label="证明材料", max_length=200, required=False, help_text="如转学联系函编号、医院证明等"
    )
    to_school = forms.ModelChoiceField(
        School.objects.all(),
        label="转入学校（本系统内）",
        required=False,
        help_text="转出到本县学校时选择，由对方学校确认接收",
    )
    destination = forms.CharField(label="转往/来自（系统外）", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = transfer_targets(self.user)


class TransferDecisionForm(ScopedForm):
    klass = forms.ModelChoiceField(SchoolClass.objects.all(), label="编入班级", required=False)
    note = forms.CharField(label="处理意见", max_length=200, required=False)
