"""花名册导入 (issue 3): a school's roster in one Excel file, all rows or none.

Every row is checked before anything is written. The per-row rules are the services' own
(``services.clean_fields``); the checks that need the database — schools and classes in the
importer's area, 户籍地 codes, duplicates in the file and in the system — run once for the
whole file, so a 50,000-row roster costs a handful of queries, not 50,000. Existing students
(same ID number, else same 学籍号) in the importer's area are updated; new ones are created
with their 入学注册 event; the writes are bulk operations in one transaction — on PostgreSQL
new rows go in with COPY, which is several times faster than INSERT for 100,000 rows.
"""

import csv
import datetime
import io
import logging
import operator
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import reduce
from itertools import islice

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineError, CalamineWorkbook

from accounts import audit, jobs
from accounts.choices import AuditAction, Capability, JobKind, JobStatus
from accounts.models import Job, Region, School, SchoolClass, User, current_school_year, grade_label
from kongchuo.errors import AppError

from . import services
from .choices import ENROLLED_STATUSES, EventKind, KeyGroup, Status
from .models import EnrollmentEvent, Guardian, Student
from .roster import (
    BY_ATTRIBUTE,
    EXAMPLE_MARK,
    HEADINGS,
    ROSTER_COLUMNS,
    SHEET_TITLE,
    Column,
    cell_text,
)

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
ERROR_HEADING = "错误说明"
# A text cell starting with one of these would be read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@")
SHOWN_ERRORS = 50
# IN lists are cut to this length: SQLite refuses statements with too many parameters.
_CHUNK = 5000
ID_AS_NUMBER = "身份证号被存成了数字，后几位可能已丢失：请把该列设为“文本”格式后重新填写。"
NOT_XLSX = (
    "文件不是有效的 Excel（.xlsx）文件。旧版 .xls 或其他格式请在 Excel 中“另存为” .xlsx 后再上传。"
)
# A roster does not change 学籍 status: a child listed here must be (or stay) on the roll.
_IMPORTABLE_STATUSES = ENROLLED_STATUSES | {Status.SUSPENDED}

# The services name fields; the roster names columns.
_FIELD_HEADINGS = {column.attribute: column.heading for column in ROSTER_COLUMNS} | {
    "school": BY_ATTRIBUTE["school_code"].heading,
    "klass": BY_ATTRIBUTE["class_name"].heading,
    "hukou_region": BY_ATTRIBUTE["hukou_code"].heading,
    "guardians": BY_ATTRIBUTE["guardian_name"].heading,
}
_MAX_LENGTHS = {
    attribute: model._meta.get_field(name).max_length
    for attribute, model, name in (
        ("name", Student, "name"),
        ("ethnicity", Student, "ethnicity"),
        ("address", Student, "address"),
        ("student_number", Student, "student_number"),
        ("guardian_name", Guardian, "name"),
        ("guardian_relation", Guardian, "relation"),
    )
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


def _error_order(error: RowError) -> tuple:
    position = HEADINGS.index(error.column) if error.column in HEADINGS else -1
    return (error.row, position, error.message)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.3g} MB"


def check_file(content: bytes, filename: str) -> None:
    """The checks on the file as a whole, before anything is parsed. Cheap: the upload page
    runs them too, so that an obviously wrong file is refused at once."""
    if not content:
        raise AppError("文件是空的，请选择填写好的花名册（.xlsx）。")
    if len(content) > MAX_FILE_BYTES:
        raise AppError(
            f"文件大小为 {_megabytes(len(content))}，超过 {_megabytes(MAX_FILE_BYTES)} 的上限，请分批导入。"
        )
    if not filename.lower().endswith(".xlsx"):
        raise AppError(NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise AppError(NOT_XLSX) from None
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise AppError(NOT_XLSX)
    # A few MB of zip can inflate to gigabytes (a zip bomb): refuse before the reader tries.
    if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
        raise AppError(
            f"文件解压后超过 {_megabytes(MAX_UNZIPPED_BYTES)}，不像是一份花名册。"
            "请删除无关的工作表、图片后另存为新的 .xlsx 文件再上传。"
        )


def _read_sheet(content: bytes) -> list[list]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if SHEET_TITLE in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(SHEET_TITLE)
        else:
            sheet = workbook.get_sheet_by_index(0)
        if sheet.end is None:
            raise AppError("文件中没有内容：第一行应为列标题，从第二行起每行填写一名学生。")
        data_rows = sheet.end[0]  # the last filled row, 0-based: rows below the heading
        if data_rows > MAX_ROWS:
            raise AppError(
                f"文件有 {data_rows} 行数据，超过单次导入 {MAX_ROWS} 行的上限，请分批导入。"
            )
        # Leading empty rows kept, so that list index + 1 is the row number Excel shows.
        return sheet.to_python(skip_empty_area=False)
    except CalamineError:
        raise AppError(NOT_XLSX) from None


def _columns(heading_row: list) -> dict[str, int]:
    """Column index by attribute; AppError naming what is missing or unknown."""
    index: dict[str, int] = {}
    unknown, repeated = [], []
    for position, raw in enumerate(heading_row):
        heading = cell_text(raw)
        # An annotated error file may be fixed and uploaded again as it is.
        if not heading or heading == ERROR_HEADING:
            continue
        column = next((c for c in ROSTER_COLUMNS if c.heading == heading), None)
        if column is None:
            unknown.append(heading)
        elif column.attribute in index:
            repeated.append(heading)
        else:
            index[column.attribute] = position
    missing = [c.heading for c in ROSTER_COLUMNS if c.attribute not in index]
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append("缺少列" + "、".join(f"“{h}”" for h in missing))
        if unknown:
            problems.append("无法识别的列" + "、".join(f"“{h}”" for h in unknown))
        if repeated:
            problems.append("重复的列" + "、".join(f"“{h}”" for h in repeated))
        raise AppError(
            f"第1行的列标题与花名册模板不一致：{'；'.join(problems)}。"
            "请下载模板，不要修改第一行的列标题。"
        )
    return index


def _id_number_cell(raw) -> str:
    # A number has already lost its last digits: refused rather than read back.
    if isinstance(raw, int | float):
        raise ValueError(ID_AS_NUMBER)
    return BY_ATTRIBUTE["id_number"].parse(raw)


# Reader of each column whose cells the import reads otherwise than the roster does.
_CELL_READERS = {"id_number": _id_number_cell}

# (column, its position in the file, how a cell is read, its length limit)
_Reader = tuple[Column, int, Callable, int | None]


@dataclass
class _Table:
    columns: dict[str, int]
    rows: list[tuple[int, list]]  # (row number as Excel shows it, cells)
    # Worked out once for the file: every row reads every column.
    readers: list[_Reader] = field(init=False)

    def __post_init__(self):
        self.readers = [
            (
                column,
                self.columns[column.attribute],
                _CELL_READERS.get(column.attribute, column.parser),
                _MAX_LENGTHS.get(column.attribute),
            )
            for column in ROSTER_COLUMNS
        ]

    def raw(self, cells: list, attribute: str):
        position = self.columns[attribute]
        return cells[position] if position < len(cells) else ""


def _filled(cells: list) -> bool:
    # Whether any cell holds a value, counted in C: every row of the file is asked.
    return cells.count("") + cells.count(None) < len(cells)


def _table(content: bytes) -> _Table:
    sheet = _read_sheet(content)
    columns = _columns(sheet[0])
    name_at = columns["name"]
    rows = [
        (number, cells)
        for number, cells in enumerate(sheet[1:], start=2)
        if _filled(cells)
        and not (name_at < len(cells) and cell_text(cells[name_at]).startswith(EXAMPLE_MARK))
    ]
    if not rows:
        raise AppError("文件中没有学生数据：请从第2行起每行填写一名学生。")
    return _Table(columns, rows)


class _AnyOf(models.Lookup):
    """``field = ANY(%s)``, the values passed as one array (PostgreSQL): Django takes longer
    to build an IN list of 100,000 values than PostgreSQL takes to run it."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]


def _any_of(**wanted: Iterable) -> list[Q]:
    """Conditions that together keep the rows where an attribute (the keywords) is one of
    its values, a query each: one on PostgreSQL, one per _CHUNK values elsewhere."""
    lists = {attribute: listed for attribute, values in wanted.items() if (listed := list(values))}
    if not lists:
        return []
    if connection.vendor == "postgresql":
        return [reduce(operator.or_, (Q(_AnyOf(F(a), values)) for a, values in lists.items()))]
    return [
        Q(**{f"{attribute}__in": values[start : start + _CHUNK]})
        for attribute, values in lists.items()
        for start in range(0, len(values), _CHUNK)
    ]


@dataclass
class _Places:
    """Schools, classes and 户籍地 regions the file names, each loaded in one query."""

    schools: dict[str, School]
    classes: dict[tuple[int, int, str], SchoolClass]
    regions: dict[str, Region]
    # Read once: the date check runs on every row and localdate() is not free.
    today: datetime.date = field(default_factory=timezone.localdate)

    @classmethod
    def load(cls, by: User, table: _Table) -> "_Places":
        def codes(attribute):
            return {BY_ATTRIBUTE[attribute].parse(table.raw(c, attribute)) for _, c in table.rows}

        # Unknown and out-of-area schools are alike: both are simply not found here.
        schools = {
            school.code: school
            for condition in _any_of(code=codes("school_code") - {""})
            for school in School.objects.for_user(by).filter(condition)
        }
        classes = {
            (klass.school_id, klass.grade, klass.name): klass
            for condition in _any_of(school_id=(school.pk for school in schools.values()))
            for klass in SchoolClass.objects.for_user(by).filter(
                condition, school_year=current_school_year()
            )
        }
        # Administrative divisions are public reference data, and a migrant child's 户籍地
        # lies outside the importer's county: not scoped.
        regions = {
            region.code: region
            for condition in _any_of(code=codes("hukou_code") - {""})
            for region in Region.objects.filter(condition)
        }
        return cls(schools, classes, regions)

    def klass(self, school: School, grade: int, name: str) -> SchoolClass | None:
        found = self.classes.get((school.pk, grade, name))
        if found is None and name.isdigit():
            found = self.classes.get((school.pk, grade, f"{name}班"))
        return found


# Iterating an enum is slow next to a tuple, and every row does it.
_KEY_GROUPS = tuple(KeyGroup.values)


def _read_cells(number: int, cells: list, table: _Table) -> tuple[dict, list[RowError]]:
    """The row's values by attribute, and an error for each cell at fault."""
    errors: list[RowError] = []
    values = {}
    width = len(cells)
    for column, position, read, limit in table.readers:
        try:
            value = read(cells[position] if position < width else "")
        except ValueError as exc:
            errors.append(RowError(number, column.heading, str(exc)))
            continue
        if column.required and value in ("", None):
            errors.append(RowError(number, column.heading, f"请填写{column.heading}。"))
            continue
        if limit and len(value) > limit:
            errors.append(RowError(number, column.heading, f"{column.heading}最多{limit}个字。"))
            continue
        values[column.attribute] = value
    return values, errors


def _parse_row(number: int, cells: list, table: _Table, places: _Places):
    """The row as StudentData, or its errors (every cell at fault, then the services'
    first complaint)."""
    values, errors = _read_cells(number, cells, table)

    def error(attribute, message):
        errors.append(RowError(number, BY_ATTRIBUTE[attribute].heading, message))

    school = places.schools.get(values.get("school_code"))
    if "school_code" in values and school is None:
        error("school_code", f"学校标识码 {values['school_code']} 不存在或不在您的管辖范围内。")
    hukou_region = None
    if values.get("hukou_code"):
        hukou_region = places.regions.get(values["hukou_code"])
        if hukou_region is None:
            error("hukou_code", f"户籍地区划代码 {values['hukou_code']} 不存在。")
    guardians = []
    guardian = values.get("guardian_name", "")
    relation, phone = values.get("guardian_relation", ""), values.get("guardian_phone", "")
    if guardian:
        if not relation:
            error("guardian_relation", "请填写监护人与学生的关系，如“父亲”“母亲”。")
        try:
            phone = services.normalise_phone(phone, field_name="guardian_phone")
        except AppError as exc:
            error("guardian_phone", exc.message)
        guardians.append(services.GuardianData(name=guardian, relation=relation, phone=phone))
    elif relation or phone:
        error("guardian_name", "填写了监护人关系或电话，请同时填写监护人姓名。")
    klass = None
    grade, class_name = values.get("grade"), values.get("class_name")
    if class_name and school is not None and grade is not None and 1 <= grade <= 9:
        klass = places.klass(school, grade, class_name)
        if klass is None:
            error(
                "class_name",
                f"{school.name}本学年没有{grade_label(grade)}“{class_name}”：请核对班级名称，或先在学校页面建立该班级。",
            )
    if errors:
        return None, errors
    data = services.StudentData(
        name=values["name"],
        gender=values["gender"],
        birth_date=values["birth_date"],
        school=school,
        grade=grade,
        id_number=values.get("id_number", ""),
        ethnicity=values["ethnicity"],
        hukou_region=hukou_region,
        address=values.get("address", ""),
        student_number=values.get("student_number", ""),
        klass=klass,
        entry_date=values.get("entry_date"),
        guardians=guardians,
        key_groups={group for group in _KEY_GROUPS if values.get(group)},
        disability_type=values.get("disability_type", ""),
        disability_grade=values.get("disability_grade"),
    )
    try:
        services.clean_fields(data, today=places.today)
    except AppError as exc:
        return None, [
            RowError(number, _FIELD_HEADINGS.get(field_name, ""), message)
            for field_name, messages in exc.errors.items()
            for message in messages
        ]
    return data, []


def _identity_key(data: services.StudentData) -> tuple | None:
    """Children without ID number and 学籍号 are known by name, birth date and guardian
    (DOMAIN.md §3)."""
    if data.id_number or data.student_number:
        return None
    guardian = data.guardians[0].name if data.guardians else ""
    return (data.name, data.birth_date, guardian)


def _duplicates_in_file(rows: list[tuple[int, services.StudentData]]) -> list[RowError]:
    errors = []
    keys = (
        ("id_number", lambda d: d.id_number, "身份证号"),
        ("student_number", lambda d: d.student_number, "学籍号"),
        ("name", _identity_key, "姓名、出生日期和监护人"),
    )
    for attribute, key_of, what in keys:
        found = [key_of(data) for _, data in rows]
        repeated = {key for key, count in Counter(found).items() if key and count > 1}
        seen: dict = defaultdict(list)
        for (number, _), key in zip(rows, found, strict=True):
            if key in repeated:
                seen[key].append(number)
        for numbers in seen.values():
            where = "、".join(str(n) for n in numbers)
            errors.extend(
                RowError(
                    n,
                    BY_ATTRIBUTE[attribute].heading,
                    f"第{where}行的{what}相同：一个孩子只能有一条记录。",
                )
                for n in numbers
            )
    return errors


@dataclass
class _Plan:
    new: list[services.StudentData] = field(default_factory=list)
    # (student, row, the fields that differ, whether the guardians differ)
    changed: list[tuple[Student, services.StudentData, set[str], bool]] = field(
        default_factory=list
    )
    unchanged: int = 0


def _guardian_rows(guardians) -> list[tuple[str, str, str]]:
    return [(g.name.strip(), g.relation.strip(), g.phone) for g in guardians]


_REFUSED = object()


class _Existing:
    """Students already in the system that the file's rows may be, loaded in a few queries."""

    def __init__(self, by: User, rows: list[tuple[int, services.StudentData]]):
        datas = [data for _, data in rows]
        # Unscoped on purpose: a child registered elsewhere must not get a second record.
        # Only whether it exists is used outside the area, never where it is.
        found: dict[int, Student] = {
            student.pk: student
            for condition in _any_of(
                id_number={d.id_number for d in datas} - {""},
                student_number={d.student_number for d in datas} - {""},
            )
            for student in Student.objects.select_related("school").filter(condition)
        }
        self.by_id = {s.id_number: s for s in found.values() if s.id_number}
        self.by_number = {s.student_number: s for s in found.values() if s.student_number}
        self.in_area = {
            pk
            for condition in _any_of(pk=found)
            for pk in Student.objects.for_user(by).filter(condition).values_list("pk", flat=True)
        }
        # Without ID number and 学籍号 a child is matched inside the area only: matching
        # by name elsewhere would tell who lives where.
        self.by_identity: dict[tuple, list[Student]] = defaultdict(list)
        for condition in _any_of(name={d.name for d in datas if _identity_key(d)}):
            for student in (
                Student.objects.for_user(by)
                .select_related("school")
                .filter(condition, id_number=None, student_number=None)
            ):
                self.in_area.add(student.pk)
                self.by_identity[(student.name, student.birth_date)].append(student)
        self.guardians: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        for condition in _any_of(student_id=self.in_area):
            for guardian in Guardian.objects.filter(condition).order_by("id"):
                self.guardians[guardian.student_id].append(
                    (guardian.name, guardian.relation, guardian.phone)
                )

    def match(self, number: int, data: services.StudentData, errors: list[RowError]):
        """The existing student this row is, None for a new one, _REFUSED (with the reason
        in ``errors``) when it cannot be told or may not be touched."""

        def error(attribute, message):
            errors.append(RowError(number, BY_ATTRIBUTE[attribute].heading, message))

        by_id = self.by_id.get(data.id_number) if data.id_number else None
        by_number = self.by_number.get(data.student_number) if data.student_number else None
        target, key = by_id, "id_number"
        if by_number is not None and by_number != by_id:
            if by_id is not None or (by_number.id_number and data.id_number):
                error("student_number", f"该学籍号已登记：{self._where(by_number)}。")
                return _REFUSED
            if by_number.id_number:
                error(
                    "id_number",
                    "系统中该学籍号的学生已登记身份证号，请在本行填写其身份证号。",
                )
                return _REFUSED
            target, key = by_number, "student_number"
        if target is None and _identity_key(data):
            guardian = _identity_key(data)[2]
            candidates = [
                s
                for s in self.by_identity.get((data.name, data.birth_date), [])
                if guardian in ({g[0] for g in self.guardians[s.pk]} or {""})
            ]
            if len(candidates) > 1:
                error(
                    "name",
                    "系统中有多名同名、同出生日期、同监护人的学生，无法确定是哪一位：请填写身份证号或学籍号。",
                )
                return _REFUSED
            target, key = (candidates[0] if candidates else None), "name"
        if target is None:
            return None
        if target.pk not in self.in_area:
            what = BY_ATTRIBUTE[key].heading
            error(
                key,
                f"该{what}已在您管辖范围以外的学校登记，一个孩子只能有一条记录。"
                "如学生已转入本校，请联系原学校登记转出。",
            )
            return _REFUSED
        if target.school_id != data.school.pk:
            error(
                "school_code",
                f"该学生的学籍在{target.school.name}：学生转学请登记“转出”学籍异动，由转入学校确认。",
            )
            return _REFUSED
        if target.status not in _IMPORTABLE_STATUSES:
            error(
                key,
                f"该学生当前学籍状态为“{target.get_status_display()}”，导入不改变学籍状态："
                "请先登记相应的学籍异动（如复学），或从花名册中删除该行。",
            )
            return _REFUSED
        return target

    def _where(self, student: Student) -> str:
        if student.pk in self.in_area:
            return f"{student.school.name}{student.grade_label}的{student.name}"
        return "您管辖范围以外的学校"


def _plan(by: User, rows: list[tuple[int, services.StudentData]], errors: list[RowError]):
    existing = _Existing(by, rows)
    plan = _Plan()
    matched: dict[int, int] = {}
    for number, data in rows:
        target = existing.match(number, data, errors)
        if target is _REFUSED:
            continue
        if target is None:
            plan.new.append(data)
            continue
        if target.pk in matched:
            errors.append(
                RowError(
                    number,
                    BY_ATTRIBUTE["name"].heading,
                    f"与第{matched[target.pk]}行是系统中的同一名学生：一个孩子只能有一条记录。",
                )
            )
            continue
        matched[target.pk] = number
        before = audit.snapshot(target)
        services._apply(target, data)
        after = audit.snapshot(target)
        fields = {name for name in after if after[name] != before.get(name)}
        new_guardians = _guardian_rows(data.guardians) != existing.guardians[target.pk]
        if fields or new_guardians:
            plan.changed.append((target, data, fields, new_guardians))
        else:
            plan.unchanged += 1
    return plan


def _guardians_for(student_id: int, data: services.StudentData) -> list[dict]:
    """The student's guardian rows, by attname."""
    return [
        {"student_id": student_id, "name": name, "relation": relation, "phone": phone}
        for name, relation, phone in _guardian_rows(data.guardians)
    ]


def _update_students(changes: list[tuple[Student, set[str]]], now) -> None:
    """Save the changed fields of a batch. Rows changed alike (a new school year's roster:
    same grade, same class) share one UPDATE; the rest go through one bulk_update of only
    the columns that differ — its CASE per row and column is slow to build, so it gets as
    little as possible."""
    alike: dict[tuple, list[Student]] = defaultdict(list)
    for student, fields in changes:
        alike[tuple(sorted((name, getattr(student, name)) for name in fields))].append(student)
    singles, fields = [], {"updated_at"}
    for values, students in alike.items():
        if len(students) > 1:
            Student.objects.filter(pk__in=[s.pk for s in students]).update(
                **dict(values), updated_at=now
            )
            continue
        singles.extend(students)
        fields.update(name for name, _ in values)
    for student in singles:
        student.updated_at = now
    if singles:
        Student.objects.bulk_update(singles, sorted(fields))


IMPORT_REASON = "花名册导入建档"


def _new_student(data: services.StudentData, **columns) -> dict:
    """A new student's columns by attname, as services._apply sets them, and ``columns``.
    Plain values: a model instance per row costs more than the row's share of the write."""
    return {
        "name": data.name,
        "gender": data.gender,
        "birth_date": data.birth_date,
        "ethnicity": data.ethnicity,
        # No empty ID number or 学籍号: their unique indexes keep NULLs apart, not "".
        "id_number": data.id_number or None,
        "hukou_region_id": data.hukou_region.pk if data.hukou_region is not None else None,
        "address": data.address,
        "student_number": data.student_number or None,
        "school_id": data.school.pk,
        "klass_id": data.klass.pk if data.klass is not None else None,
        "grade": data.grade,
        "entry_date": data.entry_date,
        "status": Status.ENROLLED.value,
        "disability_type": data.disability_type,
        "disability_grade": data.disability_grade,
        **{group: group in data.key_groups for group in _KEY_GROUPS},
        **columns,
    }


def _enrolment(by: User, student_id: int, data: services.StudentData, today, **columns) -> dict:
    """The 入学注册 event of a new student, by attname, and ``columns``."""
    return {
        "student_id": student_id,
        "kind": EventKind.ENROL.value,
        "date": data.entry_date or today,
        "reason": IMPORT_REASON,
        "document": "",
        "school_id": data.school.pk,
        "other_school_id": None,
        "destination": "",
        "status_after": Status.ENROLLED.value,
        "operator_id": by.pk,
        **columns,
    }


def _create_by_insert(by: User, batch: list[services.StudentData], today) -> list[int]:
    """Create the batch's students, their events and guardians; their ids."""
    students = Student.objects.bulk_create(Student(**_new_student(data)) for data in batch)
    ids = [student.pk for student in students]
    pairs = list(zip(ids, batch, strict=True))
    EnrollmentEvent.objects.bulk_create(
        EnrollmentEvent(**_enrolment(by, pk, data, today)) for pk, data in pairs
    )
    Guardian.objects.bulk_create(
        Guardian(**guardian) for pk, data in pairs for guardian in _guardians_for(pk, data)
    )
    return ids


def _create_by_copy(by: User, batch: list[services.StudentData], today) -> list[int]:
    """The rows _create_by_insert writes, by COPY (PostgreSQL): ids are drawn from the
    sequence first, so that events and guardians can name their student. The rows are
    made as COPY reads them."""
    ids = reserve_ids(Student, len(batch))
    pairs = list(zip(ids, batch, strict=True))
    stamp = timezone.now().isoformat()  # as text once: csv would format it on every row
    copy_rows(
        Student,
        (_new_student(data, id=pk, created_at=stamp, updated_at=stamp) for pk, data in pairs),
        with_pk=True,
    )
    copy_rows(
        EnrollmentEvent,
        (_enrolment(by, pk, data, today, created_at=stamp) for pk, data in pairs),
    )
    copy_rows(Guardian, (guardian for pk, data in pairs for guardian in _guardians_for(pk, data)))
    return ids


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys from the table's sequence (PostgreSQL). The sequence is
    looked up once, in a subquery: per row, the look-up would cost ten times the nextval."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass))"
            " FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


# Rows formatted per read of a COPY stream: about 20 kB of CSV.
_ROWS_PER_READ = 100


class _CsvStream:
    """``rows`` as a file of CSV text that COPY reads a few rows at a time: PostgreSQL stores
    the first rows while Python is still formatting the later ones."""

    def __init__(self, rows: Iterator[tuple]):
        self._rows = rows
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def read(self, size: int = -1) -> str:
        # ``size`` is psycopg2's hint; whole rows are simpler and as good.
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows(islice(self._rows, _ROWS_PER_READ))
        return self._buffer.getvalue()


def copy_rows(model: type[models.Model], rows: Iterable[dict], *, with_pk: bool = False) -> None:
    """INSERT ``rows`` (dicts of every column's attname) with one COPY (PostgreSQL), in CSV:
    None is NULL, and so is "" in a nullable column (the only such text columns, ID number
    and 学籍号, are stored as NULL when empty). No save() or signals, like bulk_create;
    database errors are Django's (IntegrityError)."""
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    values = map(operator.itemgetter(*(f.attname for f in fields)), rows)
    if len(fields) == 1:  # itemgetter of one name gives the value, not a 1-tuple
        values = zip(values)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # Unquoted empty CSV values are NULL, except in the columns named here.
    not_null = ", ".join(quote(f.column) for f in fields if not f.null)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(
            f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
            f" WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))",
            _CsvStream(values),
        )


def copy_objects(model: type[models.Model], objects: list, *, with_pk: bool = False) -> None:
    """copy_rows for unsaved instances, marked saved afterwards."""
    if not objects:
        return
    copy_rows(model, (obj.__dict__ for obj in objects), with_pk=with_pk)
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def _write(by: User, plan: _Plan, report: Progress, total: int) -> None:
    now, today = timezone.now(), timezone.localdate()
    done = total // 2
    step = jobs.PROGRESS_EVERY
    create = _create_by_copy if connection.vendor == "postgresql" else _create_by_insert
    written = []
    for start in range(0, len(plan.new), step):
        batch = plan.new[start : start + step]
        written += create(by, batch, today)
        done += len(batch)
        report(done, total)
    for start in range(0, len(plan.changed), step):
        batch = plan.changed[start : start + step]
        _update_students([(student, fields) for student, _, fields, _ in batch], now)
        replaced = [(student, data) for student, data, _, guardians in batch if guardians]
        Guardian.objects.filter(student__in=[student for student, _ in replaced]).delete()
        Guardian.objects.bulk_create(
            Guardian(**guardian)
            for student, data in replaced
            for guardian in _guardians_for(student.pk, data)
        )
        done += len(batch)
        report(done, total)
    # Re-check: every record written lies inside the importer's area (STYLE.md §2).
    written += [student.pk for student, *_ in plan.changed]
    inside = sum(
        Student.objects.for_user(by).filter(condition).count() for condition in _any_of(pk=written)
    )
    if inside != len(written):
        raise AppError("部分学生不在您的管辖范围内，未导入任何数据。")


def import_roster(
    *, by: User, content: bytes, filename: str, progress: Progress | None = None
) -> ImportResult:
    """Import a roster workbook. File-level problems (not an .xlsx, too large, wrong
    headings, no rows) raise AppError; row problems come back as ``errors`` and nothing is
    written. ``progress(done, total)``: each row is checked, then written, so ``total`` is
    twice the number of rows."""
    services.require_recorder(by)
    report = progress or (lambda done, total: None)
    check_file(content, filename)
    table = _table(content)
    total = 2 * len(table.rows)
    report(0, total)
    places = _Places.load(by, table)
    errors: list[RowError] = []
    rows: list[tuple[int, services.StudentData]] = []
    for done, (number, cells) in enumerate(table.rows, start=1):
        data, row_errors = _parse_row(number, cells, table, places)
        if data is not None:
            rows.append((number, data))
        errors.extend(row_errors)
        if done % jobs.PROGRESS_EVERY == 0:
            report(done, total)
    report(len(table.rows), total)
    duplicates = _duplicates_in_file(rows)
    errors.extend(duplicates)
    # Checked against the system too, so that one upload lists every bad row; a row twice
    # in the file is left out: which of its copies is meant is not known.
    doubled = {error.row for error in duplicates}
    plan = _plan(by, [(n, data) for n, data in rows if n not in doubled], errors)
    if errors:
        return ImportResult(errors=sorted(set(errors), key=_error_order))
    result = ImportResult(
        created=len(plan.new), updated=len(plan.changed), unchanged=plan.unchanged
    )
    if not (plan.new or plan.changed):
        report(total, total)
        return result
    try:
        with transaction.atomic():
            _write(by, plan, report, total)
            audit.record(
                actor=by,
                action=AuditAction.CREATE,
                detail=f"花名册导入：新增{result.created}，更新{result.updated}",
            )
    except IntegrityError:
        raise AppError(
            "导入期间有身份证号或学籍号被他人登记，未导入任何数据，请重新上传。"
        ) from None
    return result


def annotated_errors_bytes(content: bytes, errors: list[RowError]) -> bytes:
    """The uploaded workbook with a last column 错误说明 on the rows at fault, and the
    cells at fault shaded, so the user corrects the file they know and uploads it again."""
    workbook = load_workbook(io.BytesIO(content))
    sheets = workbook.sheetnames
    sheet = workbook[SHEET_TITLE] if SHEET_TITLE in sheets else workbook.worksheets[0]
    headings = {str(cell.value).strip(): cell.column for cell in sheet[1] if cell.value is not None}
    target = headings.get(ERROR_HEADING)
    if target is None:
        target = sheet.max_column + 1
    else:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=target, max_col=target):
            cell.value = None
    heading = sheet.cell(row=1, column=target, value=ERROR_HEADING)
    heading.font = Font(bold=True, color="B91C1C")
    sheet.column_dimensions[heading.column_letter].width = 60
    shade = PatternFill("solid", fgColor="FECACA")
    by_row: dict[int, list[RowError]] = defaultdict(list)
    for error in errors:
        by_row[error.row].append(error)
        if error.column in headings and error.row > 1:
            sheet.cell(row=error.row, column=headings[error.column]).fill = shade
    for row, row_errors in by_row.items():
        text = "；".join(f"{e.column}：{e.message}" if e.column else e.message for e in row_errors)
        cell = sheet.cell(row=row, column=target, value=text)
        if text.startswith(FORMULA_STARTS):
            cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@jobs.runner(JobKind.ROSTER_IMPORT, Capability.MANAGE_STUDENTS)
def run_roster_import(job: Job, user: User) -> None:
    content = jobs.read_upload(job)
    result = import_roster(
        by=user,
        content=content,
        filename=job.params.get("filename", ""),
        progress=lambda done, total: jobs.report_progress(job, done, total),
    )
    if result.errors:
        Job.objects.filter(pk=job.pk).update(
            params={
                **job.params,
                "errors": [asdict(error) for error in result.errors[:SHOWN_ERRORS]],
                "error_count": len(result.errors),
            }
        )
        message = f"发现 {len({error.row for error in result.errors})} 行错误，未导入任何数据"
        try:
            annotated = annotated_errors_bytes(content, result.errors)
        except Exception:
            # A file the reader took but openpyxl cannot rewrite: the table still shows
            # the errors.
            logger.exception("job %s: roster errors could not be annotated", job.pk)
            raise AppError(f"{message}（无法生成标注文件，请按下表改正）") from None
        jobs.finish_with_file(
            job,
            content=annotated,
            filename=f"花名册错误说明-{timezone.localdate():%Y%m%d}.xlsx",
            message=message,
            status=JobStatus.FAILED,
        )
        return
    jobs.finish(job, message=f"导入完成：新增 {result.created} 名，更新 {result.updated} 名")
