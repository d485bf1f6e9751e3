"""考勤表导入 (issue 16): a school that keeps the roll in Excel uploads a week or a month of
it, as .xlsx or CSV (UTF-8 or GBK, read by ``kongchuo.spreadsheets``).

Two layouts, told apart by the headings: *long* — one row per student per day (学籍号或身份证号
/姓名, 日期, 考勤状态) — and *wide* — one row per student, one column per date, a blank cell
meaning 出勤. Every row is checked before anything is written: the student must be on the
uploading school's roll (by 学籍号, ID number, or name — with the class when the name is not
unique), the date a school day of the school's calendar and not in the future, the status a
known word. Each bad cell comes back with its row, column and reason.

What is valid goes through ``services.submit_many`` — the bulk variant of the phone roll's
``submit``, with its checks, writes and rule check for each class-day, in date order — so the
cut-off, the audit trail and the 疑似辍学 rule apply unchanged.
A student the file does not mention keeps the mark the class-day already has. By default the
whole file is one transaction and nothing is written while any row is bad; ``valid_only``
imports the valid rows and still lists the bad ones.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import Job, School, SchoolClass, User
from accounts.permissions import require
from kongchuo import spreadsheets
from kongchuo.errors import AppError
from kongchuo.xlsx import workbook_bytes
from students import calendar
from students.choices import ENROLLED_STATUSES
from students.models import DayKind, Student
from students.roster import cell_text, parse_date

from . import services
from .choices import Mark
from .models import AttendanceMark, RollCall
from .permissions import IMPORT
from .selectors import rules_for_school

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
# A school month of a large school in the long layout: 3,000 students × 23 days.
MAX_ROWS = 70_000
SHOWN_ERRORS = 50
# Class-days between two progress reports of the job.
PROGRESS_EVERY = 20
ERROR_HEADING = "错误说明"
ROW_HEADING = "原行号"

LONG, WIDE = "long", "wide"
ID_HEADING, NAME_HEADING, CLASS_HEADING = "学籍号或身份证号", "姓名", "班级"
DATE_HEADING, STATUS_HEADING = "日期", "考勤状态"
# The headings each column is recognised by (spaces removed).
_ID_HEADINGS = {ID_HEADING, "学籍号", "身份证号", "学籍号/身份证号", "证件号", "身份证件号"}
_DATE_HEADINGS = {DATE_HEADING, "考勤日期"}
_STATUS_HEADINGS = {STATUS_HEADING, "状态", "考勤", "出勤情况", "考勤情况"}
_CLASS_HEADINGS = {CLASS_HEADING, "班级名称"}

# The words a roll is written in: the statuses' labels and their common short forms.
STATUS_WORDS = {
    **{label: value for value, label in Mark.choices},
    **dict.fromkeys(("", "到", "√", "✓", "✔", "正常", "到校", "在校", "已到"), Mark.PRESENT),
    **dict.fromkeys(("迟", "迟到", "晚到"), Mark.LATE),
    **dict.fromkeys(("病", "病假"), Mark.SICK),
    **dict.fromkeys(("事", "事假"), Mark.PERSONAL),
    **dict.fromkeys(("旷", "旷课", "无故缺勤", "缺勤", "×", "✗", "✘"), Mark.UNEXCUSED),
}
WORD_LIST = "出勤（或留空、到、√）、迟到、病假、事假、旷课"
# Wide-layout headings written without a year: 10月12日, 10-12, 10/12, 10.12.
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")

LAYOUT_HELP = (
    "考勤表的第一行应为列标题，可用两种格式之一："
    f"①每行一名学生一天：{ID_HEADING}（或{NAME_HEADING}）、{DATE_HEADING}、{STATUS_HEADING}；"
    f"②每行一名学生、每天一列：{ID_HEADING}（或{NAME_HEADING}）后面每列的标题为日期（如 2026-10-12）。"
    "请下载模板对照填写。"
)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    layout: str = ""
    class_days: int = 0  # class-days submitted
    records: int = 0  # student-days imported
    marks: int = 0  # of which not present (late, leave, unexcused)
    changed: int = 0  # class-days whose roll changed
    opened: list[int] = field(default_factory=list)  # ledger entries the rule opened
    written: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({error.row for error in self.errors})


@dataclass
class _Sheet:
    layout: str
    heading_row: int
    headings: list[str]
    rows: list[tuple[int, list]]  # data rows: (row number, cells)
    ids: int | None
    names: int | None
    classes: int | None
    dates: int | None = None  # long
    statuses: int | None = None  # long
    day_columns: dict[int, datetime.date] = field(default_factory=dict)  # wide


# --- reading ---------------------------------------------------------------------------------


def check_file(content: bytes, filename: str = "") -> None:
    """The checks on the file as a whole (the upload page runs them too)."""
    if not content:
        raise AppError("文件是空的，请选择填写好的考勤表（.xlsx 或 CSV）。")
    spreadsheets.check_size(len(content), MAX_FILE_BYTES, advice="请按周或按月分批导入。")
    if content.startswith(spreadsheets.OLE_MAGIC):
        raise AppError(spreadsheets.OLD_XLS)
    if content.startswith(spreadsheets.ZIP_MAGIC):
        spreadsheets.check_xlsx(content, max_unzipped=MAX_UNZIPPED_BYTES, what="考勤表")


def _records(content: bytes) -> list[tuple[int, list]]:
    if content.startswith(spreadsheets.ZIP_MAGIC):
        cells = spreadsheets.read_sheet(
            content,
            max_rows=MAX_ROWS,
            too_many="文件有 {rows} 行，超过单次导入 {limit} 行的上限，请分批导入。",
        )
        return list(enumerate(cells, start=1))
    text, _ = spreadsheets.decode(content)
    records = []
    for number, cells in spreadsheets.csv_rows(text):
        if number > MAX_ROWS + 1:
            raise AppError(f"文件超过单次导入 {MAX_ROWS} 行的上限，请分批导入。")
        records.append((number, cells))
    return records


def _filled(cells: list) -> bool:
    return any(cell_text(cell) for cell in cells)


def _plain(heading: str) -> str:
    return re.sub(r"\s+", "", heading)


def _heading_date(raw, today: datetime.date) -> datetime.date | None:
    """The date a wide layout's column heading names, or None for a heading that is not a
    date. Month and day alone mean the latest such day not after today."""
    if isinstance(raw, datetime.date | datetime.datetime):
        return parse_date(raw)
    text = cell_text(raw)
    match = _MONTH_DAY.match(text)
    if match:
        month, day = (int(part) for part in match.groups())
        found = None  # stays None for a day no year has (2月30日)
        for year in (today.year, today.year - 1):
            try:
                found = datetime.date(year, month, day)
            except ValueError:
                continue  # 2月29日 of a year without one: the year before may have it
            if found <= today:
                return found
        return found
    try:
        return parse_date(text)
    except ValueError:
        return None


def _sheet(content: bytes, today: datetime.date) -> _Sheet:
    records = _records(content)
    filled = [(number, cells) for number, cells in records if _filled(cells)]
    if not filled:
        raise AppError("文件中没有内容。" + LAYOUT_HELP)
    (heading_row, raw_headings), data = filled[0], filled[1:]
    headings = [cell_text(cell) for cell in raw_headings]
    plain = [_plain(heading) for heading in headings]

    def find(names: set[str]) -> int | None:
        return next((i for i, heading in enumerate(plain) if heading in names), None)

    ids, names, classes = find(_ID_HEADINGS), find({NAME_HEADING}), find(_CLASS_HEADINGS)
    if ids is None and names is None:
        raise AppError(f"第{heading_row}行缺少“{ID_HEADING}”或“{NAME_HEADING}”列。" + LAYOUT_HELP)
    if not data:
        raise AppError(f"文件只有第{heading_row}行的列标题，没有考勤数据。")
    dates, statuses = find(_DATE_HEADINGS), find(_STATUS_HEADINGS)
    if dates is not None and statuses is not None:
        return _Sheet(LONG, heading_row, headings, data, ids, names, classes, dates, statuses)
    student_columns = {ids, names, classes}
    day_columns = {
        i: day
        for i, raw in enumerate(raw_headings)
        if i not in student_columns and (day := _heading_date(raw, today)) is not None
    }
    if not day_columns:
        raise AppError(
            f"第{heading_row}行既没有“{DATE_HEADING}”“{STATUS_HEADING}”列，也没有日期列。"
            + LAYOUT_HELP
        )
    return _Sheet(WIDE, heading_row, headings, data, ids, names, classes, day_columns=day_columns)


# --- checking --------------------------------------------------------------------------------


class _Roll:
    """The uploading school's students on roll, found by 学籍号, ID number or name."""

    def __init__(self, by: User, school: School):
        self.students = list(
            Student.objects.for_user(by)
            .filter(school=school, status__in=ENROLLED_STATUSES, klass__isnull=False)
            .select_related("klass")
            .only("pk", "name", "student_number", "id_number", "klass")
        )
        self.by_code: dict[str, Student] = {}
        self.by_name: dict[str, list[Student]] = defaultdict(list)
        for student in self.students:
            for code in (student.student_number, student.id_number):
                if code:
                    self.by_code[code.upper()] = student
            self.by_name[student.name].append(student)

    def find(self, sheet: _Sheet, cells: list) -> tuple[Student | None, str, str]:
        """The student a row names, or None with the column at fault and why."""
        code = _cell(cells, sheet.ids).upper()
        name = _cell(cells, sheet.names)
        klass = _cell(cells, sheet.classes)
        id_column = sheet.headings[sheet.ids] if sheet.ids is not None else ""
        name_column = sheet.headings[sheet.names] if sheet.names is not None else ""
        if code:
            student = self.by_code.get(code)
            if student is None:
                return None, id_column, f"本校在读学生中没有学籍号或身份证号为“{code}”的学生。"
            if name and name != student.name:
                return None, name_column, f"姓名“{name}”与{code}对应的学生“{student.name}”不一致。"
            return student, "", ""
        if not name:
            return None, id_column or name_column, "请填写学生的学籍号、身份证号或姓名。"
        same = self.by_name.get(name, [])
        if klass:
            same = [s for s in same if klass in (str(s.klass), s.klass.name)]
        if len(same) == 1:
            return same[0], "", ""
        if not same:
            where = f"{klass}的" if klass else ""
            return None, name_column, f"本校{where}在读学生中没有“{name}”。"
        return None, name_column, f"本校有{len(same)}名学生叫“{name}”，请填写学籍号或身份证号。"


def _cell(cells: list, index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cell_text(cells[index])


class _Days:
    """Whether the school may record a day: the calendar's reasons first, in words a school
    knows (weekend, holiday, outside the term, future), then the submit path's own refusal
    (the cut-off, the account's rights), asked once per day."""

    def __init__(self, by: User, school: School, klass: SchoolClass | None, today):
        self.by, self.klass, self.today = by, klass, today
        self.calendar = calendar.calendar_for(school)
        self.rules = rules_for_school(school)
        self.seen: dict[datetime.date, str] = {}

    def problem(self, day: datetime.date) -> str:
        if day not in self.seen:
            self.seen[day] = self._problem(day)
        return self.seen[day]

    def _problem(self, day: datetime.date) -> str:
        when = f"{day:%Y-%m-%d}"
        if day > self.today:
            return f"{when}晚于今天，不能登记考勤。"
        if self.calendar.term_of(day) is None:
            return f"{when}不在校历的学期内（假期或学期外），无需登记考勤。"
        kind = self.calendar.days.get(day)
        if kind == DayKind.HOLIDAY:
            return f"{when}按校历是节假日，无需登记考勤。"
        if day.weekday() >= 5 and kind != DayKind.WORKDAY:
            return f"{when}是周末（校历未设为调休上课日），无需登记考勤。"
        if self.klass is not None:
            refused = services.refusal(self.by, self.klass, day, self.rules, self.calendar)
            if refused is not None:
                return refused.message
        return ""


@dataclass
class _Checked:
    # (class, day) → student → (row, status)
    days: dict[tuple[int, datetime.date], dict[int, tuple[int, str]]]
    classes: dict[int, SchoolClass]
    errors: list[RowError]


def _check(by: User, school: School, sheet: _Sheet, today) -> _Checked:
    roll = _Roll(by, school)
    # The submit path's refusal depends on the school and the account, not the class: any
    # class of the school stands for all (none: every row is an unknown student anyway).
    days = _Days(by, school, roll.students[0].klass if roll.students else None, today)
    found: dict[tuple[int, datetime.date], dict[int, tuple[int, str]]] = defaultdict(dict)
    classes: dict[int, SchoolClass] = {}
    errors: list[RowError] = []
    bad_columns: set[int] = set()
    if sheet.layout == WIDE:
        for index, day in sheet.day_columns.items():
            problem = days.problem(day)
            if problem:
                errors.append(RowError(sheet.heading_row, sheet.headings[index], problem))
                bad_columns.add(index)
    for number, cells in sheet.rows:
        student, column, reason = roll.find(sheet, cells)
        if student is None:
            errors.append(RowError(number, column, reason))
            continue
        classes[student.klass_id] = student.klass
        if sheet.layout == LONG:
            entries = [(sheet.dates, None, sheet.statuses)]
        else:
            entries = [(i, day, i) for i, day in sheet.day_columns.items() if i not in bad_columns]
        for date_index, day, status_index in entries:
            if day is None:
                day, problem = _row_date(cells, date_index)
                problem = problem or (days.problem(day) if day else "")
                if problem:
                    errors.append(RowError(number, sheet.headings[date_index], problem))
                    continue
            word = _cell(cells, status_index).replace(" ", "")
            status = STATUS_WORDS.get(word)
            heading = sheet.headings[status_index]
            if status is None:
                errors.append(
                    RowError(number, heading, f"考勤状态“{word}”无法识别，应为{WORD_LIST}之一。")
                )
                continue
            marks = found[(student.klass_id, day)]
            if student.pk in marks:
                earlier = marks[student.pk][0]
                errors.append(
                    RowError(
                        number,
                        heading,
                        f"{student.name}{day:%Y-%m-%d}的考勤与第{earlier}行重复，每人每天只能登记一次。",
                    )
                )
                continue
            marks[student.pk] = (number, status)
    return _Checked(found, classes, errors)


def _row_date(cells: list, index: int) -> tuple[datetime.date | None, str]:
    raw = cells[index] if index < len(cells) else None
    try:
        day = parse_date(raw)
    except ValueError as exc:
        return None, str(exc)
    return (day, "") if day else (None, "请填写考勤日期，如 2026-10-12。")


# --- importing -------------------------------------------------------------------------------


def import_attendance(
    *, by: User, content: bytes, valid_only: bool = False, progress=None
) -> ImportResult:
    """Import an attendance sheet for ``by``'s school. File-level problems raise AppError;
    row problems come back as ``errors``. Nothing is written while there are errors unless
    ``valid_only``. ``progress(done, total)`` counts class-days."""
    require(by, IMPORT)
    school = by.school
    if school is None:
        raise AppError("只有学校账号可以导入考勤表。")
    report = progress or (lambda done, total: None)
    check_file(content)
    today = timezone.localdate()
    sheet = _sheet(content, today)
    checked = _check(by, school, sheet, today)
    errors = sorted(set(checked.errors), key=lambda e: (e.row, e.column, e.message))
    result = ImportResult(layout=sheet.layout, errors=errors)
    if errors and not valid_only:
        return result
    if valid_only:
        bad = {error.row for error in errors}
        for marks in checked.days.values():
            for pk in [pk for pk, (row, _) in marks.items() if row in bad]:
                del marks[pk]
    wanted = {key: marks for key, marks in checked.days.items() if marks}
    report(0, len(wanted))
    order = sorted(wanted, key=lambda key: (key[1], key[0]))
    with transaction.atomic():
        existing = _existing_marks(wanted)
        rolls = []
        for klass_id, day in order:
            marks = wanted[(klass_id, day)]
            # The file's rows replace these students' marks; the class's other students
            # keep theirs.
            kept = [
                mark for pk, mark in existing.get((klass_id, day), {}).items() if pk not in marks
            ]
            mine = [services.MarkData(pk, status) for pk, (_, status) in marks.items()]
            rolls.append((checked.classes[klass_id], day, kept + mine))
            result.records += len(marks)
            result.marks += sum(status != Mark.PRESENT for _, status in marks.values())
        submissions = services.submit_many(
            by=by,
            school=school,
            rolls=rolls,
            progress=lambda done: done % PROGRESS_EVERY == 0 and report(done, len(order)),
        )
    result.class_days = len(submissions)
    result.changed = sum(bool(s.created or s.changes) for s in submissions)
    result.opened = [entry.pk for s in submissions for entry in s.flagged]
    report(len(wanted), len(wanted))
    result.written = True
    return result


def _existing_marks(wanted) -> dict[tuple[int, datetime.date], dict[int, services.MarkData]]:
    """The marks already recorded for the class-days of the file, in one query."""
    klass_ids = {klass_id for klass_id, _ in wanted}
    dates = {day for _, day in wanted}
    found: dict = defaultdict(dict)
    for mark in AttendanceMark.objects.filter(
        roll__in=RollCall.objects.filter(klass_id__in=klass_ids, date__in=dates)
    ).values("roll__klass_id", "date", "student_id", "status", "note"):
        key = (mark["roll__klass_id"], mark["date"])
        if key in wanted:
            found[key][mark["student_id"]] = services.MarkData(
                mark["student_id"], mark["status"], mark["note"]
            )
    return found


# --- files -----------------------------------------------------------------------------------


def annotated_errors_bytes(content: bytes, errors: list[RowError]) -> bytes:
    """The file's rows as read, with their row numbers as the user's file has them and a
    last column 错误说明 on the bad ones, so they find and correct each in their own file."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        reasons[error.row].append(
            f"{error.column}：{error.message}" if error.column else error.message
        )
    (heading_row, headings), *data = [r for r in _records(content) if _filled(r[1])]
    if heading_row in reasons:
        # A wide layout's date column refused as a whole: said on a row of its own.
        data.insert(0, (heading_row, []))
    content, _ = workbook_bytes(
        "考勤表",
        [ROW_HEADING, *(cell_text(cell) for cell in headings), ERROR_HEADING],
        (
            [
                number,
                *(cell_text(cell) for cell in cells),
                *[""] * (len(headings) - len(cells)),
                "；".join(reasons.get(number, [])),
            ]
            for number, cells in data
        ),
    )
    return content


def template_bytes(by: User, layout: str) -> bytes:
    """A template for ``layout`` filled with the school's students on roll: the wide one with a
    column per school day of the current month up to today, the long one with a row per
    student for the latest of those days."""
    school = by.school
    today = timezone.localdate()
    days = calendar.calendar_for(school).school_days(today.replace(day=1), today) or [today]
    students = (
        Student.objects.for_user(by)
        .filter(school=school, status__in=ENROLLED_STATUSES, klass__isnull=False)
        .select_related("klass")
        .order_by("klass__grade", "klass__name", "student_number", "name")
    )
    if layout == WIDE:
        headings = [ID_HEADING, NAME_HEADING, CLASS_HEADING, *(f"{day:%Y-%m-%d}" for day in days)]
        rows = ([s.student_number or s.id_number or "", s.name, str(s.klass)] for s in students)
    else:
        headings = [ID_HEADING, NAME_HEADING, CLASS_HEADING, DATE_HEADING, STATUS_HEADING]
        rows = (
            [
                s.student_number or s.id_number or "",
                s.name,
                str(s.klass),
                days[-1],
                Mark.PRESENT.label,
            ]
            for s in students
        )
    content, _ = workbook_bytes("考勤表", headings, rows, text_columns=(0,))
    return content


def summary(result: ImportResult) -> str:
    text = (
        f"导入完成：{result.class_days} 个班级·天，{result.records} 条学生考勤"
        f"（其中缺勤或迟到 {result.marks} 条），"
        f"自动登记疑似辍学 {len(result.opened)} 人"
    )
    if result.errors:
        text += f"；另有 {result.bad_rows} 行有错未导入，请按错误明细改正后重新上传"
    return text + "。"


@jobs.runner(JobKind.ATTENDANCE_IMPORT, IMPORT)
def run_attendance_import(job: Job, user: User) -> None:
    content = jobs.read_upload(job)
    result = import_attendance(
        by=user,
        content=content,
        valid_only=bool(job.params.get("valid_only")),
        progress=lambda done, total: jobs.report_progress(job, done, total),
    )
    counts = ("class_days", "records", "marks", "changed")
    params = {
        **job.params,
        "summary": {name: getattr(result, name) for name in counts}
        | {"opened": len(result.opened), "written": result.written},
    }
    if result.errors:
        params |= {
            "errors": [asdict(error) for error in result.errors[:SHOWN_ERRORS]],
            "error_count": len(result.errors),
        }
    Job.objects.filter(pk=job.pk).update(params=params)
    if not result.errors:
        jobs.finish(job, message=summary(result))
        return
    message = (
        summary(result)
        if result.written
        else f"发现 {result.bad_rows} 行错误，未导入任何数据：请按错误明细改正后重新上传，"
        "或选择“只导入有效行”。"
    )
    jobs.finish_with_file(
        job,
        content=annotated_errors_bytes(content, result.errors),
        filename=f"考勤表错误说明-{timezone.localdate():%Y%m%d}.xlsx",
        message=message,
        status=JobStatus.DONE if result.written else JobStatus.FAILED,
    )
