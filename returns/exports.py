"""The 劝返 case export: the filtered case list as XLSX. ID numbers are always masked (the case
list needs no full number; the ledger's export is where a county may reveal them), strings
are written as text (kongchuo.xlsx), and every export is in the audit trail. It is a
background job (accounts.jobs, issue 15 §6): the page stores the list's filters, and the
runner reads the cases again as the requester when it runs."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import audit, jobs
from accounts.choices import JobKind
from accounts.models import Job, User
from kongchuo.replicas import reading
from kongchuo.xlsx import workbook_bytes

from . import selectors
from .choices import Method
from .models import CaseAction, ReturnCase

HEADINGS = [
    "序号", "姓名", "性别", "出生日期", "身份证号", "学校", "年级", "责任乡镇", "共同劝返乡镇",
    "劝返主体认定依据", "状态", "劝返步骤", "责令改正期限", "是否逾期", "下达日期", "签收日期",
    "最近劝返日期", "劝返次数", "联合劝返次数", "安置方式", "复学学校", "复学年级", "复学日期",
    "跟踪截止日期", "结案日期",
]  # fmt: skip
_TEXT_COLUMNS = frozenset({HEADINGS.index("身份证号")})
# selectors.cases' filters a job may carry (returns.list_views.list_filters gives them).
FILTERS = ("mine", "open_only", "query", "county", "township", "step", "state", "overdue", "due")


def _action_count(**condition) -> Coalesce:
    actions = (
        CaseAction.objects.filter(case=OuterRef("pk"), **condition)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(actions, output_field=IntegerField()), 0)


def _day(moment):
    return timezone.localtime(moment).date() if moment else None


def _row(index: int, case: ReturnCase) -> list:
    entry = case.entry
    return [
        index,
        entry.name,
        entry.get_gender_display(),
        entry.birth_date,
        entry.masked_id_number,
        case.school.name if case.school else "",
        entry.grade_label,
        case.township.name if case.township else "县教体局暂管",
        case.co_township.name if case.co_township else "",
        case.get_responsible_rule_display(),
        case.get_state_display(),
        case.get_step_display(),
        case.step_deadline,
        case.urgency == 0,
        _day(case.instructed_at),
        _day(case.acknowledged_at),
        case.last_action_on,
        case.action_count,
        case.joint_count,
        case.get_placement_display(),
        case.return_school.name if case.return_school else "",
        case.return_grade_label,
        case.returned_on,
        case.follow_up_until,
        _day(case.closed_at),
    ]


@reading()
def export_cases(
    *, by, cases: QuerySet[ReturnCase], title: str = "劝返案件", job: Job | None = None
) -> tuple[bytes, int]:
    """``cases`` (from selectors.cases: scoped, filtered, with ``urgency``) as an XLSX
    workbook, logged as an export of ``title``; ``job``'s progress reported as it goes."""
    cases = cases.select_related("return_school").annotate(
        action_count=_action_count(), joint_count=_action_count(method=Method.JOINT)
    )
    rows = (_row(index, case) for index, case in enumerate(cases.iterator(chunk_size=2000), 1))
    if job is not None:
        rows = jobs.with_progress(job, rows, cases.count())
    content, count = workbook_bytes(title, HEADINGS, rows, text_columns=_TEXT_COLUMNS)
    audit.record_export(actor=by, what=title, rows=count)
    return content, count


def job_filters(filters: dict) -> dict:
    """The filters a job keeps: only selectors.cases' own, in JSON."""
    return {name: filters[name] for name in FILTERS if name in filters}


@jobs.runner(JobKind.RETURN_CASE_EXPORT, jobs.SIGNED_IN)
def run_case_export(job: Job, user: User) -> None:
    """The list the requester had filtered, read again as them (their area now)."""
    filters = job_filters(job.params.get("filters", {}))
    title = job.params.get("title") or "劝返案件"
    content, count = export_cases(
        by=user, cases=selectors.cases(user, **filters), title=title, job=job
    )
    jobs.finish_with_file(
        job,
        content=content,
        filename=f"returns-{timezone.localdate():%Y%m%d}.xlsx",
        message=f"已导出 {count} 个劝返案件。",
    )
