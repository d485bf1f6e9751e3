"""The indicator dashboards (issue 14): county, city and province (and a township's or a
school's own). Thin: read the filters, ask reports.indicators, render the figures with their
definitions, charts (drawn in the browser from the embedded JSON) and tables, and hand any
table over as XLSX (logged). An area outside the user's is a 404."""

from django.http import Http404
from django.shortcuts import render

from kongchuo import xlsx
from kongchuo.errors import AppError

from . import indicators
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


def _without_table(params) -> str:
    """The page's filters as a query string, for the download links to add their table."""
    params = params.copy()
    params.pop("table", None)
    return params.urlencode()


def _refused(request, error: AppError):
    """The page again with the filters and what was wrong with them (nothing computed)."""
    context = {"form": DashboardFilterForm(request.GET), "error": error.message}
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
            "query": _without_table(request.GET),
        },
    )


def download(request):
    """One table of the dashboard (``table``), with the page's filters, as XLSX."""
    table = request.GET.get("table", "")
    if table not in indicators.TABLES:
        raise Http404("没有这张表。")
    try:
        _, result = _result(request)
    except AppError as error:
        return _refused(request, error)
    content, filename = indicators.export(by=request.user, result=result, name=table)
    return xlsx.download(content, filename)
