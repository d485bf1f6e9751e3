"""The indicator dashboards (issue 14): county, city and province (and a township's or a
school's own). Thin: read the filters, ask reports.indicators, render the figures with their
definitions, charts (drawn in the browser from the embedded JSON) and tables, and hand any
table over as XLSX (logged) through a background job (reports.exports). An area outside the
user's is a 404."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import jobs
from accounts.choices import JobKind
from kongchuo.errors import AppError

from . import exports, indicators
from .dashboard_forms import DashboardFilterForm

CHARTS = (
    ("by_month", "各月确认辍学人数", "line"),
    ("by_reason", "辍学原因", "pie"),
    ("by_key_group", "重点群体辍学人数", "bar"),
    ("by_grade", "各年级辍学人数", "bar"),
    ("by_area", "各区域辍学人数", "bar"),
)


def _result(request):
    form = DashboardFilterForm(request.GET)
    place, period = form.resolve(request.user)
    return form, indicators.indicators(request.user, place, period)


def _filters(params) -> list[tuple[str, str]]:
    """The page's filters, for the download forms to post back with their table."""
    return [(name, value) for name, value in params.items() if name != "table" and value]


def _refused(request, error: AppError, params=None):
    """The page again with the filters and what was wrong with them (nothing computed)."""
    params = request.GET if params is None else params
    context = {"form": DashboardFilterForm(params), "error": error.message}
    return render(request, "reports/dashboard.html", context, status=400)


def dashboard(request):
    try:
        form, result = _result(request)
    except AppError as error:
        return _refused(request, error)
    data = result.as_dict()
    charts = [
        {
            "name": name,
            "title": title,
            "kind": kind,
            "table": indicators.table(result, name),
        }
        for name, title, kind in CHARTS
        if result.tables()[name]
    ]
    rates = [
        ("dropout_rate", "辍学率", result.dropout_rate, ()),
        ("consolidation_rate", "九年义务教育巩固率", result.consolidation_rate,
         indicators.CONSOLIDATION_TARGETS),
        ("enrolment_rate", "小学净入学率", result.enrolment_rate, indicators.ENROLMENT_TARGETS),
    ]  # fmt: skip
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "result": result,
            "data": data,
            "charts": charts,
            "rates": [
                {
                    "key": key,
                    "label": label,
                    "rate": rate,
                    "targets": targets,
                    "definition": indicators.DEFINITIONS[key],
                }
                for key, label, rate, targets in rates
            ],
            "filters": _filters(request.GET),
        },
    )


@require_POST
def download(request):
    """One table of the dashboard (``table``), with the page's filters, as XLSX: the filters
    are checked now (a wrong one is the page with its reason, an area not the user's a 404)
    and the table is made by a background job, whose page offers the file."""
    table = request.POST.get("table", "")
    if table not in indicators.TABLES:
        raise Http404("没有这张表。")
    try:
        DashboardFilterForm(request.POST).resolve(request.user)
    except AppError as error:
        return _refused(request, error, request.POST)
    job = jobs.job_start(
        by=request.user,
        kind=JobKind.INDICATOR_EXPORT,
        params=exports.job_params(table, request.POST),
    )
    return redirect("job-detail", pk=job.pk)
