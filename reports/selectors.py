"""Reads of the monthly reports that more than one page, task or API share."""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import School

from .models import ReportVersion
from .periods import ReportPeriod


def signed_versions(period: ReportPeriod) -> QuerySet[ReportVersion]:
    """The signed versions of the period's reports, of every school."""
    return ReportVersion.objects.filter(
        report__year=period.year, report__month=period.month, signed_at__isnull=False
    )


def unsigned_schools(schools: QuerySet[School], period: ReportPeriod) -> QuerySet[School]:
    """The schools among ``schools`` whose report for ``period`` no principal has signed yet."""
    signed = signed_versions(period).filter(report__school=OuterRef("pk"))
    return schools.filter(~Exists(signed))
