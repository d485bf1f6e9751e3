"""The 月报表 workbooks, background jobs (accounts.jobs, issue 15 §6). One school's version
(the page's and the API's download), and the county's workbook (issue 14 rule 2): a summary
sheet first, then one sheet per school of the user's area in the paper form's layout — the
latest signed version, or, for a school that has not signed, the form its ledger gives on
the report date marked 未签发. Progress is reported per school; the sheets are streamed
(reports.monthly_xlsx), and the rows are read as plain values, a county's at a time."""

import datetime
import os
import tempfile
from collections import defaultdict

from django.core.files import File
from django.db.models import Max
from django.utils import timezone

from accounts import audit, jobs, jurisdiction
from accounts.choices import JobKind
from accounts.models import Job, School, User
from kongchuo.errors import AppError
from kongchuo.replicas import reading

from . import monthly, selectors
from .models import ReportRow, ReportVersion
from .monthly_xlsx import (
    UNSIGNED_MARK,
    FormHeader,
    FormWorkbook,
    version_filename,
    version_header,
    version_workbook,
)
from .periods import ReportPeriod, user_period
from .permissions import MONTHLY_WORKBOOK

SUMMARY_SHEET = "汇总"
SUMMARY_HEADINGS = ("序号", "乡镇", "学校", "报送状态", "签发人", "签发时间", "版本", "辍学人数")
SUMMARY_WIDTHS = (6, 16, 24, 14, 12, 18, 6, 10)


def version_workbook_start(*, by: User, version: ReportVersion, reveal: bool) -> Job:
    """Queue the XLSX of one version of a school's form. Full ID numbers only when asked for
    and allowed: checked (and the reveal audited) now, and checked again when it runs."""
    revealed = monthly.reveal_ids(by=by, version=version, asked=reveal)
    params = {"version": version.pk, "reveal": revealed}
    return jobs.job_start(by=by, kind=JobKind.REPORT_VERSION, params=params)


@jobs.runner(JobKind.REPORT_VERSION, jobs.SIGNED_IN)
@reading()
def run_version_workbook(job: Job, user: User) -> None:
    versions = ReportVersion.objects.select_related("report__school", "signed_by")
    version = jurisdiction.scope(user, versions).filter(pk=job.params["version"]).first()
    if version is None:
        raise AppError("该月报表已不在您的管辖范围内，未导出。")
    reveal = bool(job.params.get("reveal"))
    if reveal and not monthly.may_reveal(user):
        raise AppError("当前账号已无权查看完整身份证号，未导出。")
    rows = list(selectors.version_rows(version))
    content = version_workbook(version, rows, reveal=reveal)
    report = version.report
    what = f"{report.school.name}{report.year}年{report.month}月辍学月报表第{version.number}版"
    audit.record_export(actor=user, what=what, rows=len(rows))
    jobs.finish_with_file(
        job,
        content=content,
        filename=version_filename(version),
        message=f"已生成{what}，共 {len(rows)} 名学生。",
    )


def _signed_rows(version_ids: list[int]) -> dict[int, list[dict]]:
    rows = defaultdict(list)
    values = (
        ReportRow.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position")
        .values("version_id", *monthly.ROW_FIELDS)
    )
    for row in values.iterator(chunk_size=2000):
        rows[row.pop("version_id")].append(row)
    return rows


def _live_rows(school_ids: list[int], day: datetime.date) -> dict[int, list[dict]]:
    rows = defaultdict(list)
    for values in monthly.ledger_rows(school_ids, day):
        rows[values.pop("entry").school_id].append(values)
    return rows


def write_county_workbook(
    target, user: User, period: ReportPeriod, *, today: datetime.date, progress=None
) -> int:
    """Write the workbook of every school of ``user``'s area to ``target``; returns the
    number of schools. ``progress(done, total)`` after each school."""
    schools = list(
        selectors.school_status(School.objects.for_user(user), period).order_by(
            "township__code", "code"
        )
    )
    latest_signed = dict(
        selectors.signed_versions(period)
        .filter(report__school__in=[school.pk for school in schools])
        .values("report__school")
        .annotate(latest=Max("pk"))
        .values_list("report__school", "latest")
    )
    versions = {
        version.report.school_id: version
        for version in selectors.signed_versions(period)
        .filter(pk__in=latest_signed.values())
        .select_related("report__school", "signed_by")
    }
    signed_rows = _signed_rows([version.pk for version in versions.values()])
    day = monthly.report_date(period, today)
    live = _live_rows([school.pk for school in schools if school.pk not in versions], day)

    book = FormWorkbook(target)
    summary = book.sheet(SUMMARY_SHEET)
    for column, width in enumerate(SUMMARY_WIDTHS):
        summary.set_column(column, column, width)
    summary.repeat_rows(0, 1)
    summary.merge_range(
        0, 0, 0, len(SUMMARY_HEADINGS) - 1, f"{period.label}辍学月报表报送汇总", book.title
    )
    for column, heading in enumerate(SUMMARY_HEADINGS):
        summary.write_string(1, column, heading, book.heading)
    for done, school in enumerate(schools, start=1):
        version = versions.get(school.pk)
        if version is not None:
            header = version_header(version)
            count = book.add_form(school.name, header, signed_rows[version.pk], reveal=False)
            state = "逾期签发" if version.late else "按时签发"
            cells = (
                version.signed_by.full_name or version.signed_by.username,
                header.signed_on,
                str(version.number),
            )
        else:
            header = FormHeader(
                school=school.name,
                period=period,
                signed_on="",
                filled_by="",
                phone="",
                note=f"{UNSIGNED_MARK}本表据{day:%Y-%m-%d}台账生成，学校尚未签发。",
            )
            count = book.add_form(school.name, header, live[school.pk], reveal=False)
            state, cells = "未签发", ("", "", "")
        line = (str(done), school.township.name, school.name, state, *cells)
        for column, value in enumerate(line):
            summary.write_string(done + 1, column, value, book.cell)
        summary.write_number(done + 1, len(line), count, book.centre)
        if progress is not None:
            progress(done, len(schools))
    book.close()
    return len(schools)


@jobs.runner(JobKind.REPORT_WORKBOOK, MONTHLY_WORKBOOK)
@reading()
def run_county_workbook(job: Job, user: User) -> None:
    period = user_period(user, int(job.params["year"]), int(job.params["month"]))
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        count = write_county_workbook(
            path,
            user,
            period,
            today=timezone.localdate(),
            progress=lambda done, total: jobs.report_progress(job, done, total),
        )
        audit.record_export(actor=user, what=f"{period.label}县级辍学月报表", rows=count)
        area = user.region.name if user.region_id else "全部"
        with open(path, "rb") as result:
            jobs.finish_with_file(
                job,
                content=File(result),
                filename=f"辍学月报表-{area}-{period.year}{period.month:02d}.xlsx",
                message=f"已生成 {count} 所学校的月报表及汇总表。",
            )
    finally:
        os.unlink(path)
