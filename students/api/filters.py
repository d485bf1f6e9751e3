import django_filters

from kongchuo import crypto
from kongchuo.filters import IdFilter, IsoDateTimeFilter, PositiveIntegerFilter

from ..choices import KeyGroup, Status
from ..identity import normalise_id_number
from ..models import Student


class StudentFilter(django_filters.FilterSet):
    # Ids are compared as numbers, not looked up: an out-of-area id simply matches nothing,
    # the same as an id that does not exist.
    school = IdFilter(field_name="school_id", label="学校编号")
    school_code = django_filters.CharFilter(field_name="school__code", label="学校标识码")
    klass = IdFilter(field_name="klass_id", label="班级编号")
    grade = PositiveIntegerFilter(label="年级")
    status = django_filters.ChoiceFilter(choices=Status.choices, label="学籍状态")
    key_group = django_filters.ChoiceFilter(
        choices=KeyGroup.choices, method="filter_key_group", label="重点群体"
    )
    id_number = django_filters.CharFilter(method="filter_id_number", label="身份证号（完整）")
    name = django_filters.CharFilter(lookup_expr="icontains", label="姓名（包含）")
    updated_since = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="更新时间不早于（ISO 8601）"
    )

    class Meta:
        model = Student
        fields: list[str] = []

    def filter_key_group(self, queryset, name, value):
        return queryset.filter(**{KeyGroup(value).value: True})

    def filter_id_number(self, queryset, name, value):
        return queryset.filter(id_hash=crypto.match_hash(normalise_id_number(value)))


# The query parameter is "class", which cannot be an attribute name in Python.
StudentFilter.base_filters["class"] = StudentFilter.base_filters.pop("klass")
