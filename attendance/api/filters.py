import django_filters
from django.db.models import Exists, OuterRef

from kongchuo.filters import DateFilter, IdFilter
from students.models import Student

from ..choices import NOT_PRESENT, Mark, WatchReason
from ..models import AttendanceMark, RollCall, WatchPeriod


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


class WatchFilter(django_filters.FilterSet):
    school = IdFilter(field_name="school_id", label="学校编号")
    klass = IdFilter(field_name="klass_id", label="班级编号")
    reason = django_filters.ChoiceFilter(
        choices=WatchReason.choices, method="filter_reason", label="监测原因（当前成立的）"
    )

    class Meta:
        model = Student
        fields: list[str] = []

    def filter_reason(self, queryset, name, value):
        holding = WatchPeriod.objects.filter(
            student=OuterRef("pk"), ended_on__isnull=True, reason=value
        )
        return queryset.filter(Exists(holding))
