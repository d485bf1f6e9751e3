import django_filters
from django.db.models import Exists, OuterRef

from kongchuo.filters import DateFilter, IdFilter

from ..choices import NOT_PRESENT, Mark
from ..models import AttendanceMark, RollCall


class RollCallFilter(django_filters.FilterSet):
    # Ids are compared as numbers, as for students: out of area and missing look the same.
    school = IdFilter(field_name="school_id", label="学校编号")
    klass = IdFilter(field_name="klass_id", label="班级编号")
    date_from = DateFilter(field_name="date", lookup_expr="gte", label="日期不早于（YYYY-MM-DD）")
    date_to = DateFilter(field_name="date", lookup_expr="lte", label="日期不晚于（YYYY-MM-DD）")
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
