"""Reads of the monthly reports that more than one page, task or API share.

Which children the 月报表 lists (DOMAIN.md §5, §8): the school's ledger entries of kind 辍学
or 疑似辍学 whose state *at the end of the report date* — the last line of the entry's
timeline (EntryEvent) written by then — is one of FORM_STATES: 已确认辍学, 劝返中 and
销号待审核 (a closure not yet approved by the county still counts). Not listed: 待核实 (not
verified as a dropout yet), 已复学（跟踪） (attending again), 已排除 and 已销号, 未入学
children (never enrolled: the school-age roster's business, not a dropout form's), and
entries put on the ledger after the report date. An entry closed after the report date is
still on that date's form.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import School
from ledger.choices import EntryKind, State
from ledger.models import EntryEvent, LedgerEntry
from returns.models import CaseAction

from .models import MonthlyReport, ReportRow, ReportVersion
from .periods import ReportPeriod

FORM_STATES = frozenset({State.CONFIRMED, State.PERSUADING, State.PROPOSED})
FORM_KINDS = frozenset({EntryKind.DROPOUT, EntryKind.SUSPECTED})


def signed_versions(period: ReportPeriod) -> QuerySet[ReportVersion]:
    """The signed versions of the period's reports, of every school."""
    return ReportVersion.objects.filter(
        report__year=period.year, report__month=period.month, signed_at__isnull=False
    )


def unsigned_schools(schools: QuerySet[School], period: ReportPeriod) -> QuerySet[School]:
    """The schools among ``schools`` whose report for ``period`` no principal has signed yet."""
    signed = signed_versions(period).filter(report__school=OuterRef("pk"))
    return schools.filter(~Exists(signed))


def end_of(day: datetime.date) -> datetime.datetime:
    """The first instant after ``day`` (local time): events before it happened by then."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) + (
        datetime.timedelta(days=1)
    )


def form_entries(school_ids: Iterable[int], report_date: datetime.date) -> QuerySet[LedgerEntry]:
    """The entries the form of each school lists on ``report_date``, in form order (school,
    then 年级, 班级, 姓名), with what the row needs loaded."""
    state_then = (
        EntryEvent.objects.filter(entry=OuterRef("pk"), at__lt=end_of(report_date))
        .order_by("-at", "-id")
        .values("state_after")[:1]
    )
    return (
        LedgerEntry.objects.filter(school_id__in=list(school_ids), kind__in=sorted(FORM_KINDS))
        .annotate(state_then=Subquery(state_then))
        .filter(state_then__in=sorted(FORM_STATES))
        .select_related("school", "student__klass")
        .order_by("school_id", "grade", "student__klass__name", "name", "pk")
    )


def case_actions(entry_ids: Iterable[int], report_date: datetime.date) -> dict[int, list]:
    """The 劝返 actions recorded by ``report_date`` on each entry's cases, oldest first."""
    found = defaultdict(list)
    actions = (
        CaseAction.objects.filter(case__entry_id__in=list(entry_ids), date__lte=report_date)
        .select_related("case")
        .order_by("date", "id")
    )
    for action in actions:
        found[action.case.entry_id].append(action)
    return found


def latest_versions(reports: QuerySet[MonthlyReport]) -> QuerySet[MonthlyReport]:
    """``reports`` with their versions (newest first) loaded, for lists and the API."""
    return reports.select_related("school__township").prefetch_related(
        Prefetch(
            "versions",
            queryset=ReportVersion.objects.select_related("signed_by").order_by("-number"),
        )
    )


def version_rows(version: ReportVersion) -> QuerySet[ReportRow]:
    return version.rows.order_by("position")


def school_status(schools: QuerySet[School], period: ReportPeriod) -> QuerySet[School]:
    """``schools`` annotated for the county's page: ``report_id`` (None: not opened), the
    first signing of the period (``signed_at``, ``late``) and ``signed_count`` of versions."""
    reports = MonthlyReport.objects.filter(
        school=OuterRef("pk"), year=period.year, month=period.month
    )
    first_signed = signed_versions(period).filter(report__school=OuterRef("pk")).order_by("number")
    return schools.annotate(
        report_id=Subquery(reports.values("pk")[:1]),
        signed_at=Subquery(first_signed.values("signed_at")[:1]),
        late=Subquery(first_signed.values("late")[:1]),
    ).select_related("township")


STATUSES = {"signed": "按时签发", "late": "逾期签发", "unsigned": "未签发"}


def status_of(school: School) -> str:
    """A school of ``school_status``: signed on time, signed late, or not signed."""
    if school.signed_at is None:
        return "unsigned"
    return "late" if school.late else "signed"


def status_counts(rows: Iterable[School]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for school in rows:
        counts[status_of(school)] += 1
    return counts


def unsigned_under_either_cadence(province: str, day: datetime.date) -> tuple[Q, Q]:
    """For a count of schools in one query with the cadence looked up inside it (the home
    page): the condition "has not signed the report of ``day``'s period under the cadence
    province ``province`` has", and the condition "the province has a 双月报"."""
    from .models import ReportCadence
    from .periods import period_for

    bimonthly = Q(Exists(ReportCadence.objects.filter(province__code=province, bimonthly=True)))
    monthly_period, bimonthly_period = (
        period_for(day.year, day.month, bimonthly=flag) for flag in (False, True)
    )

    def unsigned(period):
        return ~Q(Exists(signed_versions(period).filter(report__school=OuterRef("pk"))))

    condition = (~bimonthly & unsigned(monthly_period)) | (bimonthly & unsigned(bimonthly_period))
    return condition, bimonthly
