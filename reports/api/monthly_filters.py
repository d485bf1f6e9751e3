import django_filters

from kongchuo.filters import IdFilter, StrictBooleanFilter

from ..models import MonthlyReport, ReportVersion


class MonthlyReportFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label="年份")
    month = django_filters.NumberFilter(label="月份（报表期间的最后一个月）")
    school = IdFilter(label="学校编号")
    signed = StrictBooleanFilter(method="filter_signed", label="已有签发版本")

    class Meta:
        model = MonthlyReport
        fields: list[str] = []

    def filter_signed(self, queryset, name, value):
        signed = ReportVersion.objects.filter(signed_at__isnull=False).values("report_id")
        return queryset.filter(pk__in=signed) if value else queryset.exclude(pk__in=signed)
