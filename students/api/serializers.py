"""Students API: input serializers parse requests into service arguments; output serializers
render records with personal identifiers masked (DOMAIN.md §10)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import ScopedCodeRelatedField, ScopedPrimaryKeyRelatedField
from accounts.models import Region, School, SchoolClass
from kongchuo.api import BlankAsNullChoiceField, by_id_or_code

from ..choices import DisabilityGrade, DisabilityType, EventKind, Gender, KeyGroup
from ..models import EnrollmentEvent, Guardian, IdType, Student, Transfer
from ..selectors import transfer_targets
from ..services import GuardianData, StudentData, current_values

# ---------------------------------------------------------------------------------------------
# Students


class GuardianInputSerializer(serializers.Serializer):
    name = serializers.CharField(label="监护人姓名", max_length=50, allow_blank=True)
    relation = serializers.CharField(label="关系", max_length=10, allow_blank=True, default="")
    phone = serializers.CharField(label="联系电话", max_length=20, allow_blank=True, default="")


class StudentInputSerializer(serializers.Serializer):
    """What a client says about a student: the fields of services.StudentData. The rules
    (ID number checksum, grade range, duplicates, area) are the service's; this only parses.

    PUT replaces the record (omitted optional fields take their defaults, omitted guardians
    are removed); PATCH changes only the fields given."""

    name = serializers.CharField(label="姓名", max_length=50, allow_blank=True)
    gender = serializers.ChoiceField(label="性别", choices=Gender.choices)
    birth_date = serializers.DateField(label="出生日期")
    id_type = serializers.ChoiceField(
        label="身份证件类型", choices=IdType.choices, default=IdType.RESIDENT
    )
    id_number = serializers.CharField(
        label="证件号码", max_length=30, allow_blank=True, default="", trim_whitespace=True
    )
    ethnicity = serializers.CharField(label="民族", max_length=10, default="汉族")
    school = ScopedPrimaryKeyRelatedField(
        what="学校", label="学校编号", queryset=School.objects.all(), required=False
    )
    school_code = ScopedCodeRelatedField(
        what="学校", label="学校标识码", queryset=School.objects.all(), required=False
    )
    klass = ScopedPrimaryKeyRelatedField(
        what="班级",
        label="班级编号",
        queryset=SchoolClass.objects.all(),
        allow_null=True,
        default=None,
    )
    grade = serializers.IntegerField(
        label="年级", help_text="1–6 为小学一至六年级，7–9 为初一至初三"
    )
    entry_date = serializers.DateField(label="入学日期", allow_null=True, default=None)
    student_number = serializers.CharField(
        label="学籍号", max_length=30, allow_blank=True, default=""
    )
    # A migrant child's 户籍地 may be anywhere in the country, and the divisions are public
    # reference data: looked up among all regions. Its level (乡镇 or 村) is the service's rule.
    hukou_region = serializers.PrimaryKeyRelatedField(
        label="户籍地编号",
        queryset=Region.objects.all(),
        allow_null=True,
        default=None,
        error_messages={
            "does_not_exist": "户籍地“{pk_value}”不存在。",
            "incorrect_type": "户籍地应填写数字编号。",
        },
    )
    hukou_region_code = serializers.SlugRelatedField(
        label="户籍地区划代码",
        slug_field="code",
        queryset=Region.objects.all(),
        required=False,
        error_messages={
            "does_not_exist": "户籍地区划代码“{value}”不存在。",
            "invalid": "户籍地区划代码无效。",
        },
    )
    address = serializers.CharField(label="现住址", max_length=200, allow_blank=True, default="")
    guardians = GuardianInputSerializer(label="监护人", many=True, default=list)
    key_groups = serializers.ListField(
        label="重点群体",
        child=serializers.ChoiceField(choices=KeyGroup.choices),
        default=list,
    )
    disability_type = serializers.ChoiceField(
        label="残疾类型", choices=DisabilityType.choices, allow_blank=True, default=""
    )
    disability_grade = serializers.ChoiceField(
        label="残疾等级", choices=DisabilityGrade.choices, allow_null=True, default=None
    )

    def validate(self, attrs):
        by_id_or_code(attrs, "school", "学校")
        by_id_or_code(attrs, "hukou_region", "户籍地")
        if not self.partial and attrs.get("school") is None:
            raise serializers.ValidationError({"school": ["请填写学校编号或学校标识码。"]})
        return attrs

    def student_data(self, *, current: Student | None = None) -> StudentData:
        """The service argument: the validated input, over ``current``'s values for a PATCH."""
        values = current_values(current) if current is not None else {}
        for name, value in self.validated_data.items():
            if name == "guardians":
                value = [GuardianData(**guardian) for guardian in value]
            elif name == "key_groups":
                value = set(value)
            values[name] = value
        return StudentData(**values)


class GuardianSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="masked_phone", label="联系电话（脱敏）", read_only=True)

    class Meta:
        model = Guardian
        fields = ["name", "relation", "phone"]


class StudentSerializer(serializers.ModelSerializer):
    """A student as the API shows it: the ID number and guardian phones are masked, always."""

    gender_display = serializers.CharField(source="get_gender_display", read_only=True)
    id_number = serializers.CharField(
        source="masked_id_number", label="身份证号（脱敏）", read_only=True
    )
    id_missing = serializers.BooleanField(label="缺身份证号", read_only=True)
    # Set by the roster import (a national file says it); read-only here until the
    # services take it (issue 18).
    id_type = serializers.ChoiceField(label="身份证件类型", choices=IdType.choices, read_only=True)
    school_code = serializers.CharField(source="school.code", label="学校标识码", read_only=True)
    grade_display = serializers.CharField(source="grade_label", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    hukou_region_code = serializers.CharField(
        source="hukou_region.code", label="户籍地区划代码", allow_null=True, read_only=True
    )
    key_groups = serializers.SerializerMethodField(label="重点群体")
    disability_type = BlankAsNullChoiceField(
        label="残疾类型", choices=DisabilityType.choices, help_text="无残疾时为 null"
    )
    guardians = GuardianSerializer(many=True, read_only=True)

    class Meta:
        model = Student
        fields = [
            "id",
            "name",
            "gender",
            "gender_display",
            "birth_date",
            "ethnicity",
            "id_number",
            "id_type",
            "id_missing",
            "student_number",
            "school",
            "school_code",
            "klass",
            "grade",
            "grade_display",
            "entry_date",
            "status",
            "status_display",
            "hukou_region",
            "hukou_region_code",
            "address",
            "key_groups",
            "disability_type",
            "disability_grade",
            "guardians",
            "merged_into",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(KeyGroup.choices)))
    def get_key_groups(self, student: Student) -> list[str]:
        return student.key_group_values


# ---------------------------------------------------------------------------------------------
# 学籍 events and transfers


class EventInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(label="异动类型", choices=EventKind.choices)
    date = serializers.DateField(label="异动日期")
    reason = serializers.CharField(label="原因", max_length=200, allow_blank=True)
    document = serializers.CharField(label="证明材料", max_length=200, allow_blank=True, default="")
    # The receiving school of a 转出 is usually outside the sender's area (another township or
    # county): any school a 转出 may name (selectors.transfer_targets; the service also
    # refuses the student's own school).
    to_school = serializers.PrimaryKeyRelatedField(
        label="转入学校编号（系统内）",
        queryset=transfer_targets(),
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "转入学校“{pk_value}”不存在。"},
    )
    to_school_code = serializers.SlugRelatedField(
        label="转入学校标识码（系统内）",
        slug_field="code",
        queryset=transfer_targets(),
        required=False,
        error_messages={"does_not_exist": "学校标识码“{value}”不存在。"},
    )
    destination = serializers.CharField(
        label="转往/来自（系统外）", max_length=200, allow_blank=True, default=""
    )

    def validate(self, attrs):
        by_id_or_code(attrs, "to_school", "转入学校")
        return attrs


class EventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_after_display = serializers.CharField(source="get_status_after_display", read_only=True)
    operator = serializers.CharField(source="operator.username", label="经办人", read_only=True)

    class Meta:
        model = EnrollmentEvent
        fields = [
            "id",
            "kind",
            "kind_display",
            "date",
            "reason",
            "document",
            "school",
            "other_school",
            "destination",
            "status_after",
            "status_after_display",
            "operator",
            "created_at",
        ]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = serializers.CharField(
        source="requested_by.username", label="申请人", read_only=True
    )

    class Meta:
        model = Transfer
        fields = [
            "id",
            "student",
            "from_school",
            "to_school",
            "date",
            "reason",
            "document",
            "status",
            "status_display",
            "requested_by",
            "requested_at",
        ]
        read_only_fields = fields
