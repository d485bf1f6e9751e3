"""The 月报表 (DOMAIN.md §8, 002; issue 14 rules 1 and 2, bad input): rows from the ledger at
the report date, the measures column, the principal's signing, versions and corrections, the
masked ID numbers, the XLSX read back with openpyxl, the county page and workbook."""

import datetime
import io
from unittest import mock

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import jobs
from accounts.choices import AuditAction, JobKind
from accounts.models import AuditEvent, Job, School
from kongchuo.errors import AppError
from kongchuo.masking import mask_id_number
from ledger.choices import State
from ledger.models import LedgerEntry
from reports import monthly, selectors
from reports.models import MonthlyReport, ReportCadence, ReportRow, ReportVersion
from reports.monthly_xlsx import HEADINGS, LATE_MARK, TITLE
from reports.periods import current_period, period_for
from returns import services as return_services
from returns.choices import Method
from tests import export_jobs
from tests.ledger.conftest import entry_in, head_class, make_student

STAFF = "xz1_xx1_guanli"
PRINCIPAL = "xz1_xx1_xiaozhang"
ATTACHED_PRINCIPAL = "xz1_xx2_xiaozhang"  # 完全小学 attached to xx1, the 中心校
OTHER_PRINCIPAL = "xz2_xx1_xiaozhang"  # a 中心校 of the county's other township
COUNTY = "xian_staff"
TODAY = timezone.localdate


def period():
    return current_period(TODAY(), bimonthly=False)


def school(world, username=STAFF) -> School:
    return world.user(username).school


def open_report(world, username=STAFF, school_user=STAFF, **kwargs) -> MonthlyReport:
    today = TODAY()
    return monthly.report_open(
        by=world.user(username),
        school=school(world, school_user),
        year=kwargs.pop("year", today.year),
        month=kwargs.pop("month", today.month),
        **kwargs,
    )


def draft(report) -> ReportVersion:
    return report.versions.order_by("-number").first()


def fill_header(world, version, username=STAFF, measures=None):
    return monthly.draft_update(
        by=world.user(username),
        version=version,
        changes=monthly.DraftChanges(
            filled_by="王老师", phone="0872-1234567", measures=measures or {}
        ),
    )


def signed(world, report, username=PRINCIPAL, now=None) -> ReportVersion:
    version = fill_header(world, draft(report))
    return monthly.version_sign(by=world.user(username), version=version, now=now)


def footprint(report) -> tuple:
    return (
        list(ReportVersion.objects.filter(report=report).values().order_by("pk")),
        list(ReportRow.objects.filter(version__report=report).values().order_by("pk")),
        AuditEvent.objects.exclude(action=AuditAction.LOGIN).count(),  # a client's login
    )


@pytest.fixture
def dropouts(world):
    """Two confirmed dropouts of xx1 (one 劝返中), and a pending and a returned child who are
    not on the form."""
    klass = head_class(world)
    on_form = [
        entry_in(world, State.CONFIRMED, make_student(world, name="张一", grade=1, klass=klass)),
        entry_in(world, State.PERSUADING, make_student(world, name="李二", grade=3)),
        entry_in(world, State.PROPOSED, make_student(world, name="王三", grade=5)),
    ]
    off_form = [
        entry_in(world, State.PENDING, make_student(world, name="赵四", grade=2)),
        entry_in(world, State.RETURNED, make_student(world, name="钱五", grade=2)),
    ]
    return on_form, off_form


# -- rule 1: the form's rows ------------------------------------------------------------------


def test_rule1_rows_are_the_schools_dropouts_on_the_ledger_at_the_report_date(world, dropouts):
    on_form, off_form = dropouts
    report = open_report(world)
    rows = list(draft(report).rows.order_by("position"))
    assert {row.entry_id for row in rows} == {entry.pk for entry in on_form}
    assert [row.position for row in rows] == [1, 2, 3]
    first = next(row for row in rows if row.entry_id == on_form[0].pk)
    entry = LedgerEntry.objects.select_related("student__klass", "school").get(pk=on_form[0].pk)
    assert (first.school_name, first.name, first.gender, first.grade, first.class_name) == (
        entry.school.name,
        "张一",
        "男",
        "一年级",
        entry.student.klass.name,
    )
    assert first.id_number == entry.id_number and len(first.id_number) == 18
    assert first.reason == "学习困难/厌学" and first.poverty_registered is False
    assert draft(report).report_date == TODAY()


def test_rule1_an_entry_closed_after_the_report_date_is_still_on_that_dates_form(world):
    ten_days_ago = timezone.now() - datetime.timedelta(days=10)
    with mock.patch("django.utils.timezone.now", return_value=ten_days_ago):
        entry = entry_in(world, State.PROPOSED, make_student(world, name="孙六"))
    from ledger import services

    services.entry_approve(by=world.user("xian_admin"), entry=entry, comment="同意")
    assert LedgerEntry.objects.get(pk=entry.pk).state == State.CLOSED
    then = timezone.localdate(ten_days_ago) + datetime.timedelta(days=2)
    xx1 = school(world)
    assert [e.pk for e in selectors.form_entries([xx1.pk], then)] == [entry.pk]
    assert list(selectors.form_entries([xx1.pk], TODAY())) == []
    # Nor is a child put on the ledger after the report date.
    assert list(selectors.form_entries([xx1.pk], then - datetime.timedelta(days=5))) == []


def test_rule1_columns_and_header_block_in_the_forms_order_on_the_page(world, dropouts):
    report = open_report(world)
    page = world.client(STAFF).get(f"/reports/monthly/{report.pk}/").content.decode()
    positions = [page.index(f"<th>{heading}</th>") for heading in HEADINGS]
    assert positions == sorted(positions)
    assert HEADINGS == (
        "序号", "学校", "姓名", "性别", "年级", "班级", "身份证号码", "辍学原因",
        "是否为建档立卡贫困家庭子女", "控辍保学措施",
    )  # fmt: skip
    for label in ("学校（盖章）", "报送时间", "填表人", "联系电话"):
        assert f"<dt>{label}</dt>" in page


def test_rule1_measures_come_from_the_return_cases_actions_else_the_entrys_own(world):
    staff = world.user(STAFF)
    with_case = entry_in(world, State.CONFIRMED, make_student(world, name="周七"))
    case = return_services.case_open(by=world.user(COUNTY), entry=with_case)
    case = return_services.case_acknowledge(by=world.user("xz1_ganbu"), case=case)
    return_services.action_record(
        by=world.user("xz1_ganbu"),
        case=case,
        date=TODAY(),
        method=Method.VISIT,
        result="监护人同意下周送孩子返校",
    )
    own = entry_in(world, State.CONFIRMED, make_student(world, name="吴八"))
    from ledger import services

    services.entry_update(
        by=staff,
        entry=own,
        reason=own.reason,
        whereabouts=own.whereabouts,
        measures="班主任每周电话联系",
    )
    rows = {row.name: row.measures for row in draft(open_report(world)).rows.all()}
    assert rows["周七"] == f"{TODAY():%-m月%-d日}上门：监护人同意下周送孩子返校"
    assert rows["吴八"] == "班主任每周电话联系"


def test_bad_input_over_long_measures_names_the_row_and_nothing_is_saved(world, dropouts):
    report = open_report(world)
    version = draft(report)
    first, second = version.rows.order_by("position")[:2]
    client = world.client(STAFF)
    before = footprint(report)
    long_text = "家" * (monthly.MEASURES_LENGTH + 1)
    with pytest.raises(AppError) as refused:
        fill_header(world, version, measures={first.pk: "已家访", second.pk: long_text})
    assert f"第{second.position}行（{second.name}）的控辍保学措施不能超过500个字" in str(
        refused.value.message
    )
    assert f"measures_{second.pk}" in refused.value.errors
    assert footprint(report) == before
    # On the page: the message by the row, the text kept for fixing.
    response = client.post(
        f"/reports/monthly/{report.pk}/edit/",
        {"filled_by": "王老师", "phone": "", f"measures_{first.pk}": "已家访",
         f"measures_{second.pk}": long_text, f"measures_{version.rows.last().pk}": ""},
    )  # fmt: skip
    page = response.content.decode()
    assert "未保存" in page and f"第{second.position}行（{second.name}）" in page
    assert footprint(report) == before


def test_draft_measures_and_header_are_saved_and_audited(world, dropouts):
    report = open_report(world)
    version = draft(report)
    row = version.rows.first()
    fill_header(world, version, measures={row.pk: "已家访两次"})
    row.refresh_from_db()
    version.refresh_from_db()
    assert row.measures == "已家访两次" and version.filled_by == "王老师"
    assert AuditEvent.objects.filter(object_id=str(version.pk), action=AuditAction.UPDATE).exists()


def test_refresh_keeps_written_measures(world, dropouts):
    on_form, _ = dropouts
    report = open_report(world)
    version = draft(report)
    row = version.rows.get(entry=on_form[0])
    fill_header(world, version, measures={row.pk: "已家访两次"})
    entry_in(world, State.CONFIRMED, make_student(world, name="郑九"))
    monthly.draft_refresh(by=world.user(STAFF), version=version)
    rows = {r.name: r.measures for r in version.rows.all()}
    assert rows["张一"] == "已家访两次" and "郑九" in rows


# -- rule 2 and bad input: signing, versions ----------------------------------------------------


def test_only_the_principal_signs_and_the_signing_is_recorded_with_name_and_time(world, dropouts):
    report = open_report(world)
    fill_header(world, draft(report))
    before = footprint(report)
    with pytest.raises(AppError, match="只能由校长"):
        monthly.version_sign(by=world.user(STAFF), version=draft(report))
    assert footprint(report) == before
    response = world.client(STAFF).post(f"/reports/monthly/{report.pk}/sign/")
    assert response.status_code == 403 and footprint(report) == before
    world.client(PRINCIPAL).post(f"/reports/monthly/{report.pk}/sign/")
    version = draft(report)
    assert version.signed_by == world.user(PRINCIPAL) and version.signed_at is not None
    audit = AuditEvent.objects.filter(object_id=str(version.pk)).latest("pk")
    assert "电子签发" in audit.detail


def test_a_centre_schools_principal_signs_for_its_attached_school(world):
    make_student(world, "xz1_xx2_guanli")  # the attached school has pupils
    attached = school(world, ATTACHED_PRINCIPAL)
    assert attached.parent_id == school(world, PRINCIPAL).pk
    report = open_report(world, username=PRINCIPAL, school_user=ATTACHED_PRINCIPAL)
    assert signed(world, report, username=PRINCIPAL).signed_by == world.user(PRINCIPAL)
    other = open_report(world, username=ATTACHED_PRINCIPAL, school_user=ATTACHED_PRINCIPAL)
    assert other.pk == report.pk  # the same report: one per school and period
    with pytest.raises(AppError, match="不在您的管辖范围内"):
        open_report(world, username=OTHER_PRINCIPAL, school_user=ATTACHED_PRINCIPAL)
    response = world.client(OTHER_PRINCIPAL).get(f"/reports/monthly/{report.pk}/")
    assert response.status_code == 404


def test_signing_on_or_after_the_20th_is_late(world, dropouts):
    due = period().due_on
    before_due = timezone.make_aware(datetime.datetime.combine(due, datetime.time(23, 0)))
    on_time = signed(world, open_report(world), now=before_due - datetime.timedelta(days=1))
    assert on_time.late is False
    other = open_report(world, username="xz1_xx2_guanli", school_user="xz1_xx2_guanli")
    late = signed(
        world, other, now=timezone.make_aware(datetime.datetime.combine(due, datetime.time(8)))
    )
    assert late.late is True
    page = world.client(COUNTY).get(f"/reports/monthly/{other.pk}/").content.decode()
    assert 'data-testid="late"' in page


def test_bad_input_a_signed_version_never_changes(world, dropouts):
    report = open_report(world)
    version = signed(world, report)
    before = footprint(report)
    with pytest.raises(AppError, match="已由校长签发，不能修改"):
        fill_header(world, version, measures={version.rows.first().pk: "改"})
    with pytest.raises(AppError, match="已由校长签发"):
        monthly.draft_refresh(by=world.user(STAFF), version=version)
    with pytest.raises(AppError, match="已由校长签发"):
        monthly.version_sign(by=world.user(PRINCIPAL), version=version)
    response = world.client(STAFF).post(f"/reports/monthly/{report.pk}/edit/", {"filled_by": "x"})
    assert response.status_code == 302
    assert footprint(report) == before


def test_bad_input_a_correction_needs_a_reason_and_makes_a_new_version(world, dropouts):
    on_form, _ = dropouts
    report = open_report(world)
    first = draft(report)
    row = first.rows.get(entry=on_form[0])
    fill_header(world, first, measures={row.pk: "已家访"})
    first = monthly.version_sign(by=world.user(PRINCIPAL), version=first)
    before = footprint(report)
    with pytest.raises(AppError, match="必须填写更正原因"):
        monthly.report_correct(by=world.user(STAFF), report=report, reason="  ")
    page = (
        world.client(STAFF)
        .post(f"/reports/monthly/{report.pk}/correct/", {"correction_reason": ""})
        .content.decode()
    )
    assert "必须填写更正原因" in page
    assert footprint(report) == before
    entry_in(world, State.CONFIRMED, make_student(world, name="冯十"))
    second = monthly.report_correct(by=world.user(STAFF), report=report, reason="漏报冯十")
    assert (second.number, second.correction_reason, second.is_signed) == (2, "漏报冯十", False)
    rows = {r.name: r.measures for r in second.rows.all()}
    assert rows["张一"] == "已家访" and "冯十" in rows and second.filled_by == "王老师"
    # The first version is kept as it was, and both are downloadable.
    assert list(ReportRow.objects.filter(version=first).values().order_by("pk")) == before[1]
    client = world.client(STAFF)
    for version in (first, second):
        _, content = export_jobs.export(client, f"/reports/monthly/versions/{version.pk}/xlsx/")
        assert _sheet(content).cell(4 + version.rows.count(), 1).value is None
    with pytest.raises(AppError, match="尚未签发"):
        monthly.report_correct(by=world.user(STAFF), report=report, reason="再改")
    assert monthly.version_sign(by=world.user(PRINCIPAL), version=second).is_signed


def test_bad_input_a_report_for_a_future_month_is_refused(world):
    today = TODAY()
    next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    with pytest.raises(AppError, match="尚未到填报时间"):
        open_report(world, year=next_month.year, month=next_month.month)
    assert not MonthlyReport.objects.exists()
    response = world.client(STAFF).post(
        "/reports/monthly/open/",
        {"school": school(world).pk, "year": next_month.year, "month": next_month.month},
        follow=True,
    )
    assert "尚未到填报时间" in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_bimonthly_province_reports_every_two_months(world):
    province = school(world).township.parent.parent.parent
    ReportCadence.objects.create(province=province, bimonthly=True, changed_by=world.user(COUNTY))
    today = TODAY()
    report = open_report(world, month=today.month)
    expected = period_for(today.year, today.month, bimonthly=True)
    assert (report.month, report.months, report.due_on) == (expected.month, 2, expected.due_on)
    page = world.client(COUNTY).get("/reports/monthly/county/").content.decode()
    assert expected.label in page and "双月报" in page


# -- masking ----------------------------------------------------------------------------------


def test_id_numbers_are_masked_unless_revealed_by_one_allowed_and_audited(world, dropouts):
    report = open_report(world)
    row = draft(report).rows.first()
    masked = mask_id_number(row.id_number)
    official = world.client("xz1_ganbu")  # sees the report, may not reveal
    page = official.get(f"/reports/monthly/{report.pk}/?reveal=1").content.decode()
    assert masked in page and row.id_number not in page and "无权查看完整身份证号" in page
    client = world.client(PRINCIPAL)
    page = client.get(f"/reports/monthly/{report.pk}/").content.decode()
    assert masked in page and row.id_number not in page
    reveals = AuditEvent.objects.filter(action=AuditAction.REVEAL).count()
    page = client.get(f"/reports/monthly/{report.pk}/?reveal=1").content.decode()
    assert row.id_number in page
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL).count() == reveals + 1


# -- the XLSX ---------------------------------------------------------------------------------


def _sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


def test_xlsx_has_the_forms_title_header_columns_page_setup_and_the_ledgers_values(world, dropouts):
    on_form, _ = dropouts
    report = open_report(world)
    due = period().due_on
    version = signed(
        # 07:00 in China is the day before in UTC: 报送时间 is the local date.
        world,
        report,
        now=timezone.make_aware(datetime.datetime.combine(due, datetime.time(7))),
    )
    job, content = export_jobs.export(
        world.client(COUNTY), f"/reports/monthly/versions/{version.pk}/xlsx/"
    )
    assert (
        job.result_name
        == f"辍学月报表-{report.school.name}-{report.year}{report.month:02d}-第1版.xlsx"
    )
    sheet = _sheet(content)
    assert sheet["A1"].value == f"{TITLE}（{period().label}）"
    assert "A1:J1" in {str(merged) for merged in sheet.merged_cells.ranges}
    header = [sheet.cell(2, column).value for column in (1, 4, 7, 9)]
    assert header == [
        f"学校（盖章）：{report.school.name}",
        f"报送时间：{due:%Y-%m-%d}{LATE_MARK}",
        "填表人：王老师",
        "联系电话：0872-1234567",
    ]
    assert tuple(sheet.cell(3, column).value for column in range(1, 11)) == HEADINGS
    entries = {
        entry.pk: entry
        for entry in LedgerEntry.objects.filter(pk__in=[e.pk for e in on_form]).select_related(
            "school"
        )
    }
    rows = list(version.rows.order_by("position"))
    for at, row in enumerate(rows, start=4):
        entry = entries[row.entry_id]
        values = [sheet.cell(at, column).value for column in range(1, 11)]
        assert values[:3] == [at - 3, entry.school.name, entry.name]
        assert values[6] == mask_id_number(entry.id_number)  # masked: not asked to reveal
        assert values[7] == entry.get_reason_display() and values[8] == "否"
    assert sheet.cell(4 + len(rows), 1).value is None
    assert sheet["A4"].border.left.style == "thin"
    assert sheet.column_dimensions["G"].width > 20
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    # One page wide (fitToWidth is left out of the file when it is OOXML's default, 1), as
    # many pages tall as it takes.
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows.replace("$", "") == "1:3"
    assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text


def test_xlsx_has_full_ids_only_for_one_allowed_who_asked(world, dropouts):
    report = open_report(world)
    version = draft(report)
    full = version.rows.order_by("position").first().id_number
    url = f"/reports/monthly/versions/{version.pk}/xlsx/"
    _, content = export_jobs.export(world.client(PRINCIPAL), url, {"reveal": "1"})
    assert _sheet(content)["G4"].value == full
    reveals = AuditEvent.objects.filter(action=AuditAction.REVEAL, object_id=str(version.pk))
    assert reveals.count() == 1
    before = Job.objects.count()
    refused = world.client("xz1_ganbu").post(url, {"reveal": "1"}, follow=True)
    assert "无权查看完整身份证号" in refused.content.decode()
    assert Job.objects.count() == before


def test_xlsx_is_a_job_of_the_requester_logged_with_its_row_count(world, dropouts):
    """Issue 15 §6: the version's file is made in the background, downloadable only by who
    asked for it, and the export is in the audit trail with its number of rows."""
    report = open_report(world)
    version = draft(report)
    client = world.client(STAFF)
    job = export_jobs.start(client, f"/reports/monthly/versions/{version.pk}/xlsx/")
    assert (job.kind, job.status, job.requested_by.username) == (
        JobKind.REPORT_VERSION,
        "queued",
        STAFF,
    )
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404  # not made yet
    job = export_jobs.run(job)
    rows = version.rows.count()
    assert rows and str(rows) in job.message
    export_jobs.refused_to_others(job, world.client(PRINCIPAL), world.client(COUNTY))
    logged = AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=world.user(STAFF)).get()
    assert logged.detail.endswith(f"第1版，共{rows}行")
    assert _sheet(export_jobs.download(client, job))["G4"].value == mask_id_number(
        version.rows.order_by("position").first().id_number
    )


def test_xlsx_job_checks_the_reveal_again_when_it_runs(world, dropouts):
    report = open_report(world)
    version = draft(report)
    job = export_jobs.start(
        world.client(PRINCIPAL), f"/reports/monthly/versions/{version.pk}/xlsx/", {"reveal": "1"}
    )
    with mock.patch.object(monthly, "may_reveal", return_value=False):
        job = export_jobs.run(job)
    assert job.status == "failed" and "已无权查看完整身份证号" in job.message
    assert not job.result


# -- the county -------------------------------------------------------------------------------


def test_county_page_lists_signed_late_and_unsigned_schools_by_township(world, dropouts):
    due = period().due_on
    signed(
        world,
        open_report(world),
        now=timezone.make_aware(datetime.datetime.combine(due, datetime.time(8))),
    )
    xx2 = open_report(world, username="xz1_xx2_guanli", school_user="xz1_xx2_guanli")
    signed(
        world,
        xx2,
        username=PRINCIPAL,
        now=timezone.make_aware(datetime.datetime(due.year, due.month, 1, 9)),
    )
    client = world.client(COUNTY)
    schools = School.objects.for_user(world.user(COUNTY)).count()
    response = client.get("/reports/monthly/county/")
    page = response.content.decode()
    assert 'data-testid="count-signed">1<' in page and 'data-testid="count-late">1<' in page
    assert f'data-testid="count-unsigned">{schools - 2}<' in page
    assert 'class="table cards"' in page
    township = school(world).township
    other = School.objects.for_user(world.user(COUNTY)).exclude(township=township).first()
    filtered = client.get(f"/reports/monthly/county/?township={township.code}")
    names = {row.name for row in filtered.context["rows"]}
    assert school(world).name in names and other.name not in names
    late_only = client.get("/reports/monthly/county/?state=late").context["rows"]
    assert [row.pk for row in late_only] == [school(world).pk]


def test_county_page_queries_do_not_grow_with_the_schools(world):
    client = world.client(COUNTY)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/reports/monthly/county/").status_code == 200
        return len(captured)

    few = queries()
    open_report(world)
    open_report(world, username="xz1_xx2_guanli", school_user="xz1_xx2_guanli")
    assert queries() == few


def test_county_workbook_job_has_a_summary_and_one_form_sheet_per_school(world, dropouts):
    due = period().due_on
    signed(
        world,
        open_report(world),
        now=timezone.make_aware(datetime.datetime(due.year, due.month, 1, 9)),
    )
    county = world.user(COUNTY)
    job = jobs.job_start(
        by=county, kind=JobKind.REPORT_WORKBOOK, params={"year": due.year, "month": due.month}
    )
    jobs.job_run(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "done", job.message
    schools = list(School.objects.for_user(county).order_by("township__code", "code"))
    assert (job.done, job.total) == (len(schools), len(schools))
    with job.result.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == len(schools) + 1
    summary = book["汇总"]
    lines = {summary.cell(r, 3).value: summary.cell(r, 4).value for r in range(3, len(schools) + 3)}
    assert lines[school(world).name] == "按时签发"
    assert list(lines.values()).count("未签发") == len(schools) - 1
    sheet = book.worksheets[1 + [s.pk for s in schools].index(school(world).pk)]
    assert tuple(sheet.cell(3, c).value for c in range(1, 11)) == HEADINGS
    assert (
        sheet.page_setup.orientation == "landscape"
        and sheet.print_title_rows.replace("$", "") == "1:3"
    )
    assert {sheet.cell(r, 3).value for r in range(4, 7)} == {"张一", "李二", "王三"}
    refused = jobs.job_start
    with pytest.raises(AppError):
        refused(by=world.user(STAFF), kind=JobKind.REPORT_WORKBOOK, params={})


# -- home items -------------------------------------------------------------------------------


def test_home_lists_the_report_to_sign_at_school_and_the_unsigned_schools_at_the_county(world):
    label = f"{period().label}月报表待签发"
    page = world.client(PRINCIPAL).get("/").content.decode()
    assert label in page and 'data-testid="count-reports-monthly-school">3<' in page
    schools = School.objects.for_user(world.user(COUNTY)).count()
    county = world.client(COUNTY).get("/").content.decode()
    assert f'data-testid="count-reports-monthly-unsigned">{schools}<' in county
    signed(world, open_report(world))
    page = world.client(PRINCIPAL).get("/").content.decode()
    assert 'data-testid="count-reports-monthly-school">2<' in page
    county = world.client(COUNTY).get("/").content.decode()
    assert f'data-testid="count-reports-monthly-unsigned">{schools - 1}<' in county


def test_bad_input_signing_without_the_filled_by_is_refused(world, dropouts):
    report = open_report(world)
    before = footprint(report)
    with pytest.raises(AppError, match="请先填写填表人"):
        monthly.version_sign(by=world.user(PRINCIPAL), version=draft(report))
    assert footprint(report) == before


@pytest.mark.parametrize("url", ["/reports/monthly/", "/api/v1/reports/monthly/"])
def test_report_lists_queries_do_not_grow_with_the_reports(world, url):
    client = world.client(COUNTY)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    signed(world, open_report(world))
    few = queries()
    for username in ("xz1_xx2_guanli", "xz1_xx3_guanli"):
        signed(world, open_report(world, username=username, school_user=username))
    correct = monthly.report_correct(
        by=world.user(STAFF), report=MonthlyReport.objects.first(), reason="漏报"
    )
    assert correct.number == 2
    assert queries() == few
