"""考勤表导入 (issue 16): long and wide sheets in real XLSX and GBK CSV files, every bad cell
named by row, column and reason, all-or-nothing unless 只导入有效行, and the imported days
going through the phone roll's own submit path and 疑似辍学 rule."""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from openpyxl import Workbook, load_workbook

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent, Region, SchoolClass
from attendance import imports
from attendance.choices import Mark
from attendance.models import AttendanceMark, RollCall
from kongchuo.errors import AppError
from ledger.choices import EntryKind
from ledger.models import LedgerEntry
from students.calendar import day_set
from students.models import DayKind
from tests.attendance.conftest import (
    COUNTY,
    FRI,
    MON,
    PRINCIPAL,
    THU,
    TUE,
    WED,
    county_admin,
    pupil,
    take,
)

SAT = MON + datetime.timedelta(days=5)
SUMMER = datetime.date(2026, 8, 3)
LONG_HEADINGS = ["学籍号或身份证号", "姓名", "日期", "考勤状态"]


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def long_rows(*entries) -> list[list]:
    """(student, day, word) → the long layout's rows under its headings."""
    return [LONG_HEADINGS] + [[s.student_number, s.name, day, word] for s, day, word in entries]


def run(world, content, *, valid_only=False, user=PRINCIPAL):
    return imports.import_attendance(by=world.user(user), content=content, valid_only=valid_only)


def footprint():
    return (
        sorted(RollCall.objects.values_list("klass", "date")),
        sorted(AttendanceMark.objects.values_list("student", "date", "status")),
        LedgerEntry.objects.count(),
    )


def marks():
    return dict(
        ((student, date), status)
        for student, date, status in AttendanceMark.objects.values_list("student", "date", "status")
    )


def test_long_layout_imports_each_class_day_through_submit(world, klass, pupils):
    content = xlsx(
        long_rows(
            (pupils[0], MON, "迟到"),
            (pupils[1], MON, "病假"),
            (pupils[2], MON, "√"),
            (pupils[0], TUE, "事"),
            (pupils[1], TUE, ""),
        )
    )
    result = run(world, content)
    assert result.written and not result.errors and result.layout == imports.LONG
    assert (result.class_days, result.records, result.marks) == (2, 5, 3)
    assert marks() == {
        (pupils[0].pk, MON): Mark.LATE,
        (pupils[1].pk, MON): Mark.SICK,
        (pupils[0].pk, TUE): Mark.PERSONAL,
    }
    # The phone roll's path: one audited roll call per class-day.
    rolls = RollCall.objects.filter(klass=klass)
    assert sorted(rolls.values_list("date", flat=True)) == [MON, TUE]
    assert AuditEvent.objects.filter(object_type=RollCall._meta.label).count() == 2


def test_wide_layout_one_column_per_day_blank_is_present(world, klass, pupils):
    content = xlsx(
        [
            ["学籍号", "姓名", MON, "10月13日", "2026-10-14"],
            [pupils[0].student_number, pupils[0].name, "旷课", None, "病"],
            [pupils[1].student_number, pupils[1].name, None, "迟", None],
        ]
    )
    result = run(world, content)
    assert result.layout == imports.WIDE and not result.errors
    assert (result.class_days, result.records, result.marks) == (3, 6, 3)
    assert marks() == {
        (pupils[0].pk, MON): Mark.UNEXCUSED,
        (pupils[1].pk, TUE): Mark.LATE,
        (pupils[0].pk, WED): Mark.SICK,
    }


def test_gbk_csv_is_read_and_students_matched_by_name_and_class(world, klass, pupils):
    text = f"姓名,班级,日期,考勤状态\n{pupils[0].name},{klass},{MON:%Y/%m/%d},旷课\n"
    result = run(world, text.encode("gbk"))
    assert not result.errors and marks() == {(pupils[0].pk, MON): Mark.UNEXCUSED}


def test_students_not_in_the_file_keep_their_marks(world, klass, pupils):
    take(world, klass, MON, {pupils[3]: Mark.SICK})
    run(world, xlsx(long_rows((pupils[0], MON, "迟到"))))
    assert marks() == {(pupils[3].pk, MON): Mark.SICK, (pupils[0].pk, MON): Mark.LATE}


def _sole_error(world, content):
    before = footprint()
    result = run(world, content)
    assert not result.written and footprint() == before, "nothing written"
    (error,) = result.errors
    return error


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (SUMMER, "不在校历的学期内"),
        (SAT, "是周末"),
        (datetime.date(2099, 3, 2), "晚于今天"),
    ],
    ids=["outside-term", "weekend", "future"],
)
def test_bad_input_a_day_that_is_no_school_day_names_row_and_date_column(
    world, klass, pupils, day, reason
):
    content = xlsx(long_rows((pupils[0], MON, "旷课"), (pupils[1], day, "旷课")))
    error = _sole_error(world, content)
    assert (error.row, error.column) == (3, "日期") and reason in error.message


def test_bad_input_a_holiday_of_the_calendar(world, klass, pupils):
    day_set(
        by=county_admin(), owner=Region.objects.get(code=COUNTY), date=FRI, kind=DayKind.HOLIDAY
    )
    error = _sole_error(world, xlsx(long_rows((pupils[0], FRI, "旷课"))))
    assert (error.row, error.column) == (2, "日期") and "节假日" in error.message


def test_bad_input_a_weekend_column_of_the_wide_layout_is_named_once(world, klass, pupils):
    content = xlsx([["学籍号", MON, SAT], *([p.student_number, "", ""] for p in pupils)])
    error = _sole_error(world, content)
    assert (error.row, error.column) == (1, f"{SAT:%Y-%m-%d}") and "周末" in error.message


def test_bad_input_unknown_student_and_unknown_status_word(world, klass, pupils):
    content = xlsx(
        [
            LONG_HEADINGS,
            ["G000", "无此人", MON, "旷课"],
            [pupils[0].student_number, pupils[0].name, MON, "睡觉"],
        ]
    )
    before = footprint()
    result = run(world, content)
    assert footprint() == before
    first, second = result.errors
    assert (first.row, first.column) == (2, "学籍号或身份证号") and "G000" in first.message
    assert (second.row, second.column) == (3, "考勤状态") and "“睡觉”无法识别" in second.message


def test_bad_input_another_schools_student_is_unknown(world, klass, pupils):
    other_principal = world.user("xz2_xx1_xiaozhang")
    other_class = SchoolClass.objects.create(
        school=other_principal.school, school_year=klass.school_year, grade=2, name="2班"
    )
    elsewhere = pupil(world, other_class, by="xz2_xx1_xiaozhang")
    error = _sole_error(world, xlsx(long_rows((elsewhere, MON, "旷课"))))
    assert error.column == "学籍号或身份证号" and "本校在读学生中没有" in error.message


def test_bad_input_the_same_student_and_day_twice(world, klass, pupils):
    error = _sole_error(world, xlsx(long_rows((pupils[0], MON, "迟到"), (pupils[0], MON, "旷课"))))
    assert error.row == 3 and "与第2行重复" in error.message


def test_all_or_nothing_by_default_leaves_nothing(world, klass, pupils):
    content = xlsx(
        long_rows((pupils[0], MON, "旷课"), (pupils[1], TUE, "迟到"), (pupils[2], SAT, "旷课"))
    )
    before = footprint()
    result = run(world, content)
    assert result.errors and not result.written and footprint() == before


def test_valid_only_imports_the_valid_rows_and_lists_the_bad_ones(world, klass, pupils):
    content = xlsx(
        long_rows((pupils[0], MON, "旷课"), (pupils[1], TUE, "迟到"), (pupils[2], SAT, "旷课"))
    )
    result = run(world, content, valid_only=True)
    assert result.written and [error.row for error in result.errors] == [4]
    assert marks() == {(pupils[0].pk, MON): Mark.UNEXCUSED, (pupils[1].pk, TUE): Mark.LATE}


def test_the_dropout_rule_opens_an_entry_from_three_imported_unexcused_days(world, klass, pupils):
    """疑似辍学 rule: 3 unexcused school days in a row, imported, open a ledger entry."""
    content = xlsx(
        long_rows(*((pupils[0], day, "旷课") for day in (MON, TUE, WED)), (pupils[1], WED, "旷"))
    )
    result = run(world, content)
    entry = LedgerEntry.objects.get()
    assert result.opened == [entry.pk]
    assert entry.student == pupils[0] and entry.kind == EntryKind.SUSPECTED


def test_reimporting_the_same_file_changes_nothing(world, klass, pupils):
    content = xlsx(long_rows(*((pupils[0], day, "旷课") for day in (MON, TUE, WED, THU))))
    run(world, content)
    before = footprint(), AuditEvent.objects.count()
    again = run(world, content)
    assert again.changed == 0 and again.opened == []
    assert (footprint(), AuditEvent.objects.count()) == before


def test_files_that_are_no_attendance_sheet_are_refused(world, klass, pupils):
    for content, reason in (
        (b"", "文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "旧版 Excel"),
        (xlsx([["甲", "乙"], ["1", "2"]]), "缺少“学籍号或身份证号”或“姓名”列"),
        (xlsx([["姓名", "备注"], ["张三", "x"]]), "也没有日期列"),
    ):
        with pytest.raises(AppError, match=reason):
            run(world, content)


def test_a_class_teacher_may_not_import(world, klass, pupils):
    with pytest.raises(AppError, match="只有校长和学校管理员"):
        run(world, xlsx(long_rows((pupils[0], MON, "旷课"))), user="xz1_xx1_banzhuren")


def test_templates_of_both_layouts_read_back_and_import(world, klass, pupils):
    wide = load_workbook(
        io.BytesIO(imports.template_bytes(world.user(PRINCIPAL), imports.WIDE))
    ).active
    assert [c.value for c in wide[1]][:3] == ["学籍号或身份证号", "姓名", "班级"]
    long = imports.template_bytes(world.user(PRINCIPAL), imports.LONG)
    assert [c.value for c in load_workbook(io.BytesIO(long)).active[1]] == [
        "学籍号或身份证号",
        "姓名",
        "班级",
        "日期",
        "考勤状态",
    ]
    # Today may be outside the test terms: the template still reads as a long sheet, and
    # any refusal names the date column.
    result = run(world, long)
    assert result.layout == imports.LONG
    assert all(error.column == "日期" for error in result.errors)


def _start(world, content, **params):
    return jobs.job_start(
        by=world.user(PRINCIPAL),
        kind=JobKind.ATTENDANCE_IMPORT,
        params=params,
        upload=ContentFile(content, name="考勤表.xlsx"),
    )


def test_import_job_reports_what_was_imported(world, klass, pupils):
    job = _start(world, xlsx(long_rows(*((pupils[0], day, "旷课") for day in (MON, TUE, WED)))))
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.percent == 100
    assert job.params["summary"] == {
        "class_days": 3,
        "records": 3,
        "marks": 3,
        "changed": 3,
        "opened": 1,
        "written": True,
    }
    page = world.client(PRINCIPAL).get(f"/jobs/{job.pk}/").content.decode()
    assert "自动登记疑似辍学 1 人" in page and "导入考勤表" in page


def test_import_job_with_bad_rows_fails_with_the_error_list_and_annotated_file(
    world, klass, pupils
):
    job = _start(world, xlsx(long_rows((pupils[0], MON, "旷课"), (pupils[1], SAT, "旷课"))))
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "发现 1 行错误，未导入任何数据" in job.message
    assert job.params["errors"][0]["row"] == 3 and not RollCall.objects.exists()
    client = world.client(PRINCIPAL)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "错误明细" in page and "是周末" in page
    download = client.get(f"/jobs/{job.pk}/download/")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0] == "原行号" and rows[0][-1] == "错误说明"
    assert rows[2][0] == 3 and "周末" in rows[2][-1] and rows[1][-1] in (None, "")


def test_import_job_valid_only_is_done_and_still_hands_the_error_file(world, klass, pupils):
    job = _start(
        world,
        xlsx(long_rows((pupils[0], MON, "旷课"), (pupils[1], SAT, "旷课"))),
        valid_only=True,
    )
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and "另有 1 行有错未导入" in job.message
    assert job.result and marks() == {(pupils[0].pk, MON): Mark.UNEXCUSED}


def test_upload_page_and_templates_for_the_school(world, klass, pupils):
    client = world.client(PRINCIPAL)
    page = client.get("/attendance/import/")
    assert page.status_code == 200 and "每天一列" in page.content.decode()
    for layout in (imports.LONG, imports.WIDE):
        download = client.get(f"/attendance/import/template/{layout}/")
        assert download.status_code == 200
        load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    upload = ContentFile(xlsx(long_rows((pupils[0], MON, "旷课"))), name="考勤表.xlsx")
    answer = client.post("/attendance/import/", {"file": upload, "valid_only": "on"})
    job = jobs.Job.objects.get(kind=JobKind.ATTENDANCE_IMPORT)
    assert answer.status_code == 302 and answer["Location"] == f"/jobs/{job.pk}/"
    assert job.params["valid_only"] is True
    assert world.client("xz1_xx1_banzhuren").get("/attendance/import/").status_code == 403


def test_a_wide_heading_of_month_and_day_is_the_latest_such_day_and_a_day_no_year_has_is_none():
    """Month and day alone mean the latest such day not after today: 2月29日 in a year without
    one is last year's leap day; 2月30日 is not a date at all (never a crash)."""
    today = datetime.date(2029, 3, 10)
    assert imports._heading_date("2月29日", today) == datetime.date(2028, 2, 29)
    assert imports._heading_date("3月9日", today) == datetime.date(2029, 3, 9)
    assert imports._heading_date("12月1日", today) == datetime.date(2028, 12, 1)
    assert imports._heading_date("2月30日", today) is None
