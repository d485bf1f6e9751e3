"""月报表 pages (issue 14): the school's list of its reports and the period to open, one
report's page (its versions, the draft's header and measures, the principal's signing, the
correction), each version's XLSX, and the county's page of who has signed. Thin: each form
goes to its service in reports.monthly, whose AppError comes back onto the page; every record
through the jurisdiction filter (404 outside the area)."""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import jobs, jurisdiction
from accounts.choices import JobKind
from accounts.forms import PlaceFilterForm
from accounts.models import School
from accounts.permissions import can
from accounts.views import check
from kongchuo.errors import AppError

from . import monthly, monthly_jobs, selectors
from .models import MonthlyReport, ReportVersion
from .monthly_forms import CorrectForm, DraftForm, OpenForm
from .monthly_xlsx import HEADINGS
from .periods import period_of_report, user_period
from .permissions import MONTHLY_COUNTY, MONTHLY_FILL, MONTHLY_SIGN, MONTHLY_WORKBOOK


def _reports(user):
    return selectors.latest_versions(MonthlyReport.objects.for_user(user))


@require_GET
def index(request):
    """The reports of the user's area, newest period first, and the period to open."""
    user = request.user
    reports = _reports(user).order_by("-year", "-month", "school__code")
    page = Paginator(reports, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/monthly_list.html",
        {
            "title": "辍学月报表",
            "page_obj": page,
            "object_list": page.object_list,
            "open_form": OpenForm(user=user) if can(user, MONTHLY_FILL) else None,
            "may_follow": can(user, MONTHLY_COUNTY),
        },
    )


@require_POST
def open_report(request):
    check(request.user, MONTHLY_FILL)
    form = OpenForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = monthly.report_open(
                by=request.user, school=data["school"], year=data["year"], month=data["month"]
            )
        except AppError as exc:
            messages.error(request, exc.message)
            return redirect("reports-monthly")
        messages.success(
            request, "已按台账生成月报表，请核对名单、填写控辍保学措施和填表人后由校长签发。"
        )
        return redirect("reports-monthly-detail", pk=report.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
    return redirect("reports-monthly")


def _report(request, pk) -> MonthlyReport:
    return jurisdiction.get_or_404(
        request.user, MonthlyReport.objects.select_related("school__township"), pk=pk
    )


def _detail(request, report, *, draft_form=None, correct_form=None, status=200):
    user = request.user
    versions = list(report.versions.select_related("signed_by", "created_by").order_by("-number"))
    shown = versions[0]
    wanted = request.GET.get("version")
    if wanted and wanted.isdigit():
        shown = next((v for v in versions if v.number == int(wanted)), shown)
    try:
        reveal = monthly.reveal_ids(by=user, version=shown, asked=request.GET.get("reveal") == "1")
    except AppError as exc:
        messages.error(request, exc.message)
        reveal = False
    rows = list(selectors.version_rows(shown))
    for row in rows:
        row.shown_id = monthly.shown_id(row.id_number, reveal)
    draft = not shown.is_signed and shown is versions[0]
    may_fill = can(user, MONTHLY_FILL)
    if draft and may_fill and draft_form is None:
        draft_form = DraftForm(
            initial={"filled_by": shown.filled_by, "phone": shown.phone}, rows=rows
        )
    latest_signed = versions[0].is_signed
    period = period_of_report(report)
    return render(
        request,
        "reports/monthly_detail.html",
        {
            "title": f"{report.school.name} {period.label}辍学月报表",
            "report": report,
            "period": period,
            "versions": versions,
            "version": shown,
            "rows": rows,
            "headings": HEADINGS,
            "reveal": reveal,
            "may_reveal": monthly.may_reveal(user),
            "draft": draft,
            "draft_form": draft_form if draft and may_fill else None,
            "may_sign": draft and can(user, MONTHLY_SIGN),
            "correct_form": (correct_form or CorrectForm()) if latest_signed and may_fill else None,
            "measures_length": monthly.MEASURES_LENGTH,
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_GET
def detail(request, pk):
    return _detail(request, _report(request, pk))


def _back(report):
    return redirect("reports-monthly-detail", pk=report.pk)


@require_POST
def edit(request, pk):
    report = _report(request, pk)
    check(request.user, MONTHLY_FILL)
    try:
        version = monthly.editable_draft(report)
    except AppError as exc:
        messages.error(request, exc.message)
        return _back(report)
    form = DraftForm(request.POST, rows=version.rows.order_by("position"))
    if form.is_valid():
        try:
            monthly.draft_update(by=request.user, version=version, changes=form.changes())
        except AppError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "已保存。核对无误后请校长签发；签发后不能再修改。")
            return _back(report)
    messages.error(request, "未保存：请按提示修改后再保存。")
    return _detail(request, report, draft_form=form)


def _act(request, pk, permission: str, act, success: str):
    report = _report(request, pk)
    check(request.user, permission)
    try:
        act(report)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return _back(report)


@require_POST
def refresh(request, pk):
    return _act(
        request,
        pk,
        MONTHLY_FILL,
        lambda report: monthly.draft_refresh(
            by=request.user, version=monthly.editable_draft(report)
        ),
        "已按台账重新生成名单，已填写的措施保留。",
    )


@require_POST
def sign(request, pk):
    def act(report):
        version = monthly.version_sign(by=request.user, version=monthly.editable_draft(report))
        if version.late:
            messages.warning(request, f"已过{report.due_on:%m月%d日}截止日，本次报送记为逾期。")

    return _act(
        request, pk, MONTHLY_SIGN, act, "已签发，报送县教体局。如需更正，请填写更正原因生成新版本。"
    )


@require_POST
def correct(request, pk):
    report = _report(request, pk)
    check(request.user, MONTHLY_FILL)
    form = CorrectForm(request.POST)
    form.is_valid()
    try:
        version = monthly.report_correct(
            by=request.user, report=report, reason=form.cleaned_data.get("correction_reason", "")
        )
    except AppError as exc:
        form.add_error("correction_reason", exc.message)
        messages.error(request, f"未更正：{exc.message}")
        return _detail(request, report, correct_form=form)
    messages.success(
        request, f"已生成第{version.number}版，请核对后由校长重新签发；原版本保留可下载。"
    )
    return _back(report)


@require_POST
def version_xlsx(request, pk):
    """The version's XLSX, a background job: its page shows the progress, then the file."""
    version = jurisdiction.get_or_404(
        request.user, ReportVersion.objects.select_related("report__school"), pk=pk
    )
    try:
        job = monthly_jobs.version_workbook_start(
            by=request.user, version=version, reveal=request.POST.get("reveal") == "1"
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return _back(version.report)
    messages.success(request, f"已开始生成第{version.number}版月报表，完成后可在本页下载。")
    return redirect("job-detail", pk=job.pk)


def _period_param(request, params) -> tuple[int, int]:
    """The period asked for (``year``, ``month``), this month when none or a bad one."""
    today = timezone.localdate()
    try:
        year = int(params.get("year") or today.year)
        month = int(params.get("month") or today.month)
        datetime.date(year, month, 1)
    except ValueError:
        messages.error(request, "年份或月份无效，已显示本月。")
        year, month = today.year, today.month
    return year, month


@require_GET
def county(request):
    """Who has signed the period's report, who signed late, who has not: counts, then a
    list (cards on a phone), filtered by township."""
    user = request.user
    check(user, MONTHLY_COUNTY)
    year, month = _period_param(request, request.GET)
    period = user_period(user, year, month)
    places = PlaceFilterForm(request.GET, user=user, fields=("township",))
    township = places.ids()["township"]
    schools = School.objects.for_user(user)
    if township:
        schools = schools.filter(township_id=township)
    rows = list(selectors.school_status(schools, period).order_by("township__code", "code"))
    state = request.GET.get("state", "")
    counts = selectors.status_counts(rows)
    if state:
        rows = [row for row in rows if selectors.status_of(row) == state]
    today = timezone.localdate()
    return render(
        request,
        "reports/monthly_county.html",
        {
            "title": f"{period.label}辍学月报表报送情况",
            "period": period,
            "rows": rows,
            "counts": counts,
            "state": state,
            "places": places,
            "overdue": today >= period.due_on,
            "may_export": can(user, MONTHLY_WORKBOOK),
        },
    )


@require_POST
def county_workbook(request):
    check(request.user, MONTHLY_WORKBOOK)
    year, month = _period_param(request, request.POST)
    job = jobs.job_start(
        by=request.user, kind=JobKind.REPORT_WORKBOOK, params={"year": year, "month": month}
    )
    messages.success(request, "已开始生成县级月报表工作簿，完成后可在本页下载。")
    return redirect(reverse("job-detail", args=[job.pk]))
