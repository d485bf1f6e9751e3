"""The dashboards' table downloads (issue 14) as background jobs (accounts.jobs, issue 15
§6): the page stores which table and the dashboard's filters; the runner reads the filters
with the dashboard's own form, computes the indicators as the requester when it runs (their
area then), and hands the table over as XLSX, logged by ``indicators.export``."""

from accounts import jobs
from accounts.choices import JobKind
from accounts.models import Job, User
from kongchuo.errors import AppError

from . import indicators
from .dashboard_forms import DashboardFilterForm


def job_params(table: str, params) -> dict:
    """What the job keeps: the table and the dashboard form's own fields, as given."""
    fields = DashboardFilterForm.base_fields
    return {"table": table, "filters": {name: params.get(name, "") for name in fields}}


@jobs.runner(JobKind.INDICATOR_EXPORT, jobs.SIGNED_IN)
def run_indicator_export(job: Job, user: User) -> None:
    table = job.params.get("table", "")
    if table not in indicators.TABLES:
        raise AppError("没有这张表。", field="table")
    try:
        place, period = DashboardFilterForm(job.params.get("filters", {})).resolve(user)
    except indicators.PlaceNotFound:
        raise AppError("所选区域已不在您的管辖范围内，未导出。", field="area") from None
    result = indicators.indicators(user, place, period)
    content, filename = indicators.export(by=user, result=result, name=table)
    jobs.finish_with_file(
        job,
        content=content,
        filename=filename,
        message=f"已导出{result.place.name}{indicators.TABLES[table]}（{period.label}）。",
    )
