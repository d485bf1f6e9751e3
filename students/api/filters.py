import django_filters
from django.db.models import Exists, OuterRef

from ..choices import NOT_PRESENT, KeyGroup, Mark, Status
from ..identity import normalise_id_number
from ..models import AttendanceMark, RollCall, Student


class StudentFilter(django_filters.FilterSet):
    # Ids are compared as numbers, not looked up: an out-of-area id simply matches nothing,
    # the same as an id that does not exist.
    school = django_filters.NumberFilter(field_name="school_id", label="学校编号")
    school_code = django_filters.CharFilter(field_name="school__code", label="学校标识码")
    klass = django_filters.NumberFilter(field_name="klass_id", label="班级编号")
    grade = django_filters.NumberFilter(label="年级")
    status = django_filters.ChoiceFilter(choices=Status.choices, label="学籍状态")
    key_group = django_filters.ChoiceFilter(
        choices=KeyGroup.choices, method="filter_key_group", label="重点群体"
    )
    id_number = django_filters.CharFilter(method="filter_id_number", label="身份证号（完整）")
    name = django_filters.CharFilter(lookup_expr="icontains", label="姓名（包含）")
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="更新时间不早于（ISO 8601）"
    )

    class Meta:
        model = Student
        fields: list[str] = []

    def filter_key_group(self, queryset, name, value):
        return queryset.filter(**{KeyGroup(value).value: True})

    def filter_id_number(self, queryset, name, value):
        return queryset.filter(id_number=normalise_id_number(value))


# The query parameter is "class", which cannot be an attribute name in Python.
StudentFilter.base_filters["class"] = StudentFilter.base_filters.pop("klass")


class RollCallFilter(django_filters.FilterSet):
    # Ids are compared as numbers, as for students: out of area and missing look the same.
    school = django_filters.NumberFilter(field_name="school_id", label="学校编号")
    klass = django_filters.NumberFilter(field_name="klass_id", label="班级编号")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="日期不早于")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="日期不晚于")
    status = django_filters.ChoiceFilter(
        # Presence is not stored (no row), so only the other marks can be looked for.
        choices=[(m.value, m.label) for m in Mark if m in NOT_PRESENT],
        method="filter_status",
        label="有学生为该考勤状态",
    )

    class Meta:
        model = RollCall
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        # EXISTS rather than a join: one row per class-day, no DISTINCT under the cursor.
        marks = AttendanceMark.objects.filter(roll=OuterRef("pk"), status=value)
        return queryset.filter(Exists(marks))
