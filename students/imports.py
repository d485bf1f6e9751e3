"""花名册导入 (issue 3): a school's roster in one Excel file, all rows or none.

Every row is checked before anything is written. The per-row rules are the services' own
(``services.clean_fields``); the checks that need the database — schools and classes in the
importer's area, 户籍地 codes, duplicates in the file and in the system — run once for the
whole file, so a 50,000-row roster costs a handful of queries, not 50,000. The import is
the bulk variant of ``services.student_upsert``: existing students (same ID number, else same
学籍号) are updated or refused by the same rule (``services.upsert_refusal``), new ones are
created with their 入学注册 event, all rows made by the services' constructors, and each
student gets its line in the audit trail (who changed what) as student_create or
student_update would write it. The writes are bulk operations in one transaction — on
PostgreSQL new rows go in with COPY, which is several times faster than INSERT for 100,000
rows.

The file is our own template, or (issue 18) the national 学籍 system's student list as it
comes, XLSX or CSV: students.national recognises the layout by its headings and turns each
national row into the template's row, so that both run through the same readers, row rules
and constructors; what the national layout cannot say keeps its stored value (_keep_stored).
"""

import csv
import datetime
import gc
import html
import io
import logging
import operator
import posixpath
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import reduce
from itertools import islice
from typing import NamedTuple

import orjson
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from accounts import audit, jobs
from accounts.choices import AuditAction, Capability, JobKind, JobStatus
from accounts.models import (
    AuditEvent,
    Job,
    Region,
    School,
    SchoolClass,
    User,
    current_school_year,
    grade_label,
)
from accounts.permissions import require
from kongchuo import crypto, sealed, spreadsheets
from kongchuo.errors import AppError
from kongchuo.spreadsheets import NOT_XLSX, ZIP_MAGIC

from . import national, services
from .choices import KeyGroup
from .models import EnrollmentEvent, Guardian, IdType, Student
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
FORMULA_IN_FILE = (
    "文件中有公式单元格，导入不读取公式的计算结果：请把公式改为直接填写的内容"
    "（可复制后“选择性粘贴”为“数值”）后再上传。"
)
ID_AS_NUMBER = "身份证号被存成了数字，后几位可能已丢失：请把该列设为“文本”格式后重新填写。"

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


def _error_order(headings: list[str]) -> Callable[[RowError], tuple]:
    """Errors by row, then by the file's column order."""
    positions = {heading: i for i, heading in enumerate(headings)}
    return lambda error: (error.row, positions.get(error.column, -1), error.message)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_file(content: bytes, filename: str) -> None:
    """The checks on the file as a whole, before anything is parsed. Cheap: the upload page
    runs them too, so that an obviously wrong file is refused at once."""
    if not content:
        raise AppError("文件是空的，请选择填写好的花名册（.xlsx）。")
    spreadsheets.check_size(len(content), MAX_FILE_BYTES, advice="请分批导入。")
    if is_csv(filename):
        return  # read (and its encoding told) by _read_sheet
    if not filename.lower().endswith(".xlsx"):
        raise AppError(NOT_XLSX)
    spreadsheets.check_xlsx(content, max_unzipped=MAX_UNZIPPED_BYTES, what="花名册")


def is_csv(filename: str) -> bool:
    """A CSV file (the national 学籍 system's export as saved by Excel or WPS): UTF-8 or GBK."""
    return filename.lower().endswith(".csv")


_TOO_MANY = "文件有 {rows} 行数据，超过单次导入 {limit} 行的上限，请分批导入。"


def _csv_sheet(content: bytes) -> list[list]:
    text, _ = spreadsheets.decode(content)  # the file is at most MAX_FILE_BYTES
    sheet = [cells for _, cells in spreadsheets.csv_rows(text)]
    if len(sheet) - 1 > MAX_ROWS:
        raise AppError(_TOO_MANY.format(rows=len(sheet) - 1, limit=MAX_ROWS))
    return sheet


def _read_sheet(content: bytes, filename: str = "") -> list[list]:
    if is_csv(filename):
        sheet = _csv_sheet(content)
    else:
        sheet = spreadsheets.read_sheet(
            content, title=SHEET_TITLE, max_rows=MAX_ROWS, too_many=_TOO_MANY
        )
    if not sheet:
        raise AppError("文件中没有内容：第一行应为列标题，从第二行起每行填写一名学生。")
    return sheet


# The worksheet XML of a cell that holds a formula: <c r="B7" …><f>A1</f><v>…</v></c>, the
# formula element also as <f t="shared" …/>, any element perhaps with a namespace prefix.
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
# A sheet with any formula has a closing </f> (or </x:f>): a shared formula's other cells
# hold an empty <f … si="0"/>, but its first cell holds the text.
_FORMULA_MARKERS = (b"</f>", b":f>")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s>/])([^>]*)>")
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]{1,3})([0-9]+)["']""")
_SHEET_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?sheet\s([^>]*)>")
_RELATIONSHIP_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(r"""([\w.:-]+)\s*=\s*(["'])(.*?)\2""")
# How far before a formula element its cell's start tag is looked for.
_CELL_TAG_REACH = 4096


def _attributes(text: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, _, value in _ATTRIBUTE.findall(text)}


def _worksheet_member(archive: zipfile.ZipFile) -> str | None:
    """The zip member of the worksheet the import reads — the one titled SHEET_TITLE, else
    the first, as _read_sheet picks it — found through the workbook's relationships."""
    try:
        book = archive.read("xl/workbook.xml").decode("utf-8")
        relationships = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None
    sheets = [_attributes(tag) for tag in _SHEET_TAG.findall(book)]
    if not sheets:
        return None
    sheet = next((s for s in sheets if s.get("name") == SHEET_TITLE), sheets[0])
    # The relationship id is r:id, whatever the prefix of its namespace is called.
    rel_id = next((v for k, v in sheet.items() if k.endswith(":id")), None)
    targets = {
        found.get("Id"): found.get("Target", "")
        for found in map(_attributes, _RELATIONSHIP_TAG.findall(relationships))
    }
    target = targets.get(rel_id)
    if not target:
        return None
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64  # ord("A") - 1
    return index - 1


def _formula_cells(content: bytes) -> dict[int, dict[int, str]]:
    """The cells of the imported sheet that hold a formula: {row number: {column position:
    cell reference}}. python-calamine reads only a formula's cached value (none at all in a
    file that no spreadsheet program has recalculated), so the sheet's XML is searched: one
    pass over text that calamine has just read, a fraction of the import's time."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        member = _worksheet_member(archive)
        if member is None or member not in archive.namelist():
            return {}
        xml = archive.read(member)
    # Nearly every roster has none: a plain search (memchr speed) says so before the regex.
    if not any(marker in xml for marker in _FORMULA_MARKERS):
        return {}
    found: dict[int, dict[int, str]] = defaultdict(dict)
    for match in _FORMULA.finditer(xml):
        start = max(0, match.start() - _CELL_TAG_REACH)
        tags = _CELL_TAG.findall(xml, start, match.start())
        reference = _CELL_REF.search(tags[-1]) if tags else None
        if reference is None:
            # Cells need not name their place (the r attribute is optional); every program
            # in use writes it, and without it the cell cannot be named to the user.
            raise AppError(FORMULA_IN_FILE)
        letters, row = reference.groups()
        found[int(row)][_column_index(letters)] = (letters + row).decode()
    return found


def _formula_message(heading: str) -> str:
    return (
        f"该单元格是公式，导入不读取公式的计算结果：请删除公式，直接填写{heading}"
        "（可复制后“选择性粘贴”为“数值”）。"
    )


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
    """The file's rows as template rows: a national file's rows are translated first."""

    columns: dict[str, int]
    rows: list[tuple[int, list]]  # (row number as Excel shows it, cells)
    # The cells already known to be at fault (a formula, a national code that is none):
    # {row number: {column position: message}}.
    faults: dict[int, dict[int, str]] = field(default_factory=dict)
    # National files: each row's 身份证件类型 (the template has no such column: None).
    id_types: dict[int, str] = field(default_factory=dict)
    type_faults: dict[int, RowError] = field(default_factory=dict)
    # The template attributes the file gives (None: all of them, as the template does).
    carried: frozenset[str] | None = None
    # The file's own heading of each template column, and the file's column order.
    headings: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=lambda: list(HEADINGS))
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


def _table(content: bytes, filename: str = "") -> _Table:
    sheet = _read_sheet(content, filename)
    try:
        layout = national.detect(sheet[0])
    except ValueError as exc:
        raise AppError(str(exc)) from None
    if layout == national.NATIONAL:
        return _national_table(content, filename, sheet)
    columns = _columns(sheet[0])
    formulas = {} if is_csv(filename) else _formula_cells(content)
    # A formula without a cached value reads as an empty cell, and calamine's sheet may end
    # before such cells: those rows are kept (as read, or empty) to be reported.
    sheet += [[] for _ in range(len(sheet), max(formulas, default=0))]
    name_at = columns["name"]
    rows = [
        (number, cells)
        for number, cells in enumerate(sheet[1:], start=2)
        if (_filled(cells) or number in formulas)
        and not (name_at < len(cells) and cell_text(cells[name_at]).startswith(EXAMPLE_MARK))
    ]
    if not rows:
        raise AppError("文件中没有学生数据：请从第2行起每行填写一名学生。")
    heading_at = {position: BY_ATTRIBUTE[a].heading for a, position in columns.items()}
    faults = {
        number: {p: _formula_message(heading_at[p]) for p in cells if p in heading_at}
        for number, cells in formulas.items()
    }
    return _Table(columns, rows, faults)


# A national row becomes a template row: the template's columns in the template's order.
_TEMPLATE_POSITIONS = {column.attribute: i for i, column in enumerate(ROSTER_COLUMNS)}


def _national_table(content: bytes, filename: str, sheet: list[list]) -> _Table:
    """A national file's rows as template rows (students.national translates the codes),
    with what each row cannot say: its 身份证件类型 beside it, the cells that are no code
    as faults, the columns the file lacks as not carried."""
    try:
        reader = national.NationalReader(sheet[0])
    except ValueError as exc:
        raise AppError(str(exc)) from None
    formulas = {} if is_csv(filename) else _formula_cells(content)
    sheet += [[] for _ in range(len(sheet), max(formulas, default=0))]
    file_positions = {m.position: m for m in reader.mappings if m.column is not None}
    table = _Table(
        dict(_TEMPLATE_POSITIONS),
        [],
        carried=reader.carried,
        headings=reader.headings,
        order=[cell_text(raw) for raw in sheet[0]],
    )
    width = len(ROSTER_COLUMNS)
    hukou = _TEMPLATE_POSITIONS["hukou_code"]
    names: dict[str, list[int]] = defaultdict(list)
    for number, cells in enumerate(sheet[1:], start=2):
        if not (_filled(cells) or number in formulas):
            continue
        values, problems = reader.template_cells(cells)
        row = [""] * width
        for attribute, value in values.items():
            if attribute in _TEMPLATE_POSITIONS:
                row[_TEMPLATE_POSITIONS[attribute]] = value
        faults = {
            _TEMPLATE_POSITIONS[m.column.attribute]: _formula_message(m.heading)
            for p in formulas.get(number, ())
            if (m := file_positions.get(p)) is not None
            and m.column.attribute in _TEMPLATE_POSITIONS
        }
        id_type = values.get("id_type") or IdType.RESIDENT
        for heading, message in problems:
            attribute = national.BY_HEADING[heading].attribute
            if attribute in _TEMPLATE_POSITIONS:
                faults.setdefault(_TEMPLATE_POSITIONS[attribute], message)
            else:  # 身份证件类型: the row fails on it, its number is only checked for a shape
                table.type_faults[number] = RowError(number, heading, message)
                id_type = IdType.OTHER
        if faults:
            table.faults[number] = faults
        table.id_types[number] = id_type
        if row[hukou] and not str(row[hukou]).isdigit():
            names[row[hukou]].append(number)
        table.rows.append((number, row))
    if not table.rows:
        raise AppError("文件中没有学生数据：请从第2行起每行填写一名学生。")
    # 户口所在地 given by name: every name of the file looked up at once.
    found = national.divisions_by_name(names)
    cells_by_number = dict(table.rows)
    for name, numbers in names.items():
        for number in numbers:
            code = found[name]
            if isinstance(code, ValueError):
                table.faults.setdefault(number, {})[hukou] = str(code)
                cells_by_number[number][hukou] = ""
            else:
                cells_by_number[number][hukou] = code
    return table


@dataclass(frozen=True)
class PreviewColumn:
    heading: str  # as the file has it
    field: str  # the ledger's field it fills ("" when the ledger does not keep it)
    reads_as: str
    example: str  # the first student's cell, as the file has it
    read: str  # and as the import reads it


@dataclass(frozen=True)
class Preview:
    layout: str
    layout_name: str
    rows: int
    columns: list[PreviewColumn]


def preview(content: bytes, filename: str) -> Preview:
    """How the import will read the file: its layout, and for a national file each column —
    what it fills and how its codes are read, with the first student's cell as an example.
    File-level problems raise AppError, as the import itself would."""
    check_file(content, filename)
    sheet = _read_sheet(content, filename)
    try:
        layout = national.detect(sheet[0])
        reader = national.NationalReader(sheet[0]) if layout == national.NATIONAL else None
    except ValueError as exc:
        raise AppError(str(exc)) from None
    rows = sum(1 for cells in sheet[1:] if _filled(cells))
    if reader is None:
        return Preview(layout, national.LAYOUT_NAMES[layout], rows, [])
    first = next((cells for cells in sheet[1:] if _filled(cells)), [])
    values, _ = reader.template_cells(first)
    columns = []
    for mapping in reader.mappings:
        raw = first[mapping.position] if mapping.position < len(first) else ""
        column = mapping.column
        if column is None:
            columns.append(
                PreviewColumn(mapping.heading, "", "不读取（本系统不保存此项）", cell_text(raw), "")
            )
            continue
        field_name = (
            Student._meta.get_field("id_type").verbose_name
            if column.attribute == "id_type"
            else BY_ATTRIBUTE[column.attribute].heading
        )
        read = values.get(column.attribute, "")
        if column.attribute == "id_type":
            read = IdType(read or IdType.RESIDENT).label
        columns.append(
            PreviewColumn(
                mapping.heading, field_name, column.reads_as, cell_text(raw), cell_text(read)
            )
        )
    return Preview(layout, national.LAYOUT_NAMES[layout], rows, columns)


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
            # With their townships: each student's audit line is placed by it.
            for school in School.objects.for_user(by).select_related("township").filter(condition)
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


def _student_number_refusal(data: services.StudentData) -> str | None:
    """The national system's 学籍号 of a 居民身份证 holder is G + the ID number: in a national
    file, a G-number of that length that is not the row's ID number is a mistake in one of
    the two."""
    number = data.student_number
    if not (data.id_number and len(number) == 19 and number.startswith("G")):
        return None
    if number[1:] == data.id_number:
        return None
    return (
        f"学籍号 {number} 与身份证号不一致：持居民身份证的学生学籍号为 G + 身份证号"
        f"（应为 G{data.id_number}），请核对两者中哪一个有误。"
    )


def _read_cells(number: int, cells: list, table: _Table) -> tuple[dict, list[RowError]]:
    """The row's values by attribute, and an error for each cell at fault."""
    errors: list[RowError] = []
    values = {}
    width = len(cells)
    faults = table.faults.get(number)
    for column, position, read, limit in table.readers:
        if faults and position in faults:
            errors.append(RowError(number, column.heading, faults[position]))
            continue
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
    if number in table.type_faults:
        errors.append(table.type_faults[number])
    id_type = table.id_types.get(number)

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
        # Our template has no 身份证件类型 column: its numbers are 居民身份证 numbers.
        id_type=id_type or IdType.RESIDENT,
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
        return None, _row_errors(number, exc)
    if id_type is not None and (refusal := _student_number_refusal(data)):
        return None, [RowError(number, BY_ATTRIBUTE["student_number"].heading, refusal)]
    return data, []


def _row_errors(number: int, exc: AppError) -> list[RowError]:
    """A service's refusal of a row, by the columns that its fields come from."""
    return [
        RowError(number, _FIELD_HEADINGS.get(field_name, ""), message)
        for field_name, messages in exc.errors.items()
        for message in messages
    ]


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


class _Change(NamedTuple):
    student: Student  # with the row's values applied, not saved
    data: services.StudentData
    changes: dict  # audit.diff of the student's fields: {field: [before, after]}
    guardians: bool  # whether the guardians differ


@dataclass
class _Plan:
    new: list[services.StudentData] = field(default_factory=list)
    changed: list[_Change] = field(default_factory=list)
    unchanged: int = 0


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
                id_hash={crypto.lookup_hash(d.id_number) for d in datas if d.id_number},
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
                .filter(condition, id_hash=None, student_number=None)
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
        in ``errors``) when it cannot be told or may not be touched. Found by ID number,
        else by 学籍号, as student_upsert finds one, and refused by the same rule
        (services.upsert_refusal)."""
        by_id = self.by_id.get(data.id_number) if data.id_number else None
        by_number = self.by_number.get(data.student_number) if data.student_number else None
        if by_id is not None and by_number is not None and by_number != by_id:
            where = services.where_is(None, by_number, in_area=by_number.pk in self.in_area)
            errors.append(
                RowError(
                    number, BY_ATTRIBUTE["student_number"].heading, f"该学籍号已登记：{where}。"
                )
            )
            return _REFUSED
        target, key = (by_id, "id_number") if by_id is not None else (by_number, "student_number")
        if target is None and _identity_key(data):
            guardian = _identity_key(data)[2]
            candidates = [
                s
                for s in self.by_identity.get((data.name, data.birth_date), [])
                if guardian in ({g[0] for g in self.guardians[s.pk]} or {""})
            ]
            if len(candidates) > 1:
                errors.append(
                    RowError(
                        number,
                        BY_ATTRIBUTE["name"].heading,
                        "系统中有多名同名、同出生日期、同监护人的学生，无法确定是哪一位：请填写身份证号或学籍号。",
                    )
                )
                return _REFUSED
            target, key = (candidates[0] if candidates else None), "name"
        if target is None:
            return None
        problem = services.upsert_refusal(target, data, key=key, in_area=target.pk in self.in_area)
        if problem is not None:
            errors.extend(_row_errors(number, problem))
            return _REFUSED
        return target


# What a file without the column leaves as stored: {template attribute: StudentData field}.
_KEPT_FIELDS = {
    "ethnicity": "ethnicity",
    "student_number": "student_number",
    "class_name": "klass",
    "entry_date": "entry_date",
    "hukou_code": "hukou_region",
    "address": "address",
    "disability_type": "disability_type",
    "disability_grade": "disability_grade",
}


def _keep_stored(
    data: services.StudentData, target: Student, guardians: list[tuple], carried
) -> None:
    """Leave what the file cannot say as ``target`` has it: a national file has no column
    for most key groups or for 残疾等级, and may lack the optional ones. 入学年月 gives a
    month: a stored entry date in that month is kept as it is."""
    if carried is None:
        return
    for attribute, name in _KEPT_FIELDS.items():
        if attribute not in carried:
            setattr(data, name, getattr(target, name))
    stored = set(target.key_group_values)
    data.key_groups = {g for g in data.key_groups if g in carried} | {
        g for g in stored if g not in carried
    }
    if "guardian_name" not in carried:
        data.guardians = [services.GuardianData(*guardian) for guardian in guardians]
    stored_entry = target.entry_date
    if data.entry_date and stored_entry and data.entry_date == stored_entry.replace(day=1):
        data.entry_date = stored_entry


def _plan(
    by: User,
    rows: list[tuple[int, services.StudentData]],
    errors: list[RowError],
    carried: frozenset[str] | None = None,
):
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
        _keep_stored(data, target, existing.guardians[target.pk], carried)
        before = audit.snapshot(target)
        services.student_apply(target, data)
        changes = audit.diff(before, audit.snapshot(target))
        new_guardians = services.guardian_tuples(data.guardians) != existing.guardians[target.pk]
        if changes or new_guardians:
            plan.changed.append(_Change(target, data, changes, new_guardians))
        else:
            plan.unchanged += 1
    return plan


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
        # A sealed value is sealed per row (a nonce of its own), never by one UPDATE.
        if len(students) > 1 and not sealed.derived_or_sealed(Student, [n for n, _ in values]):
            Student.objects.filter(pk__in=[s.pk for s in students]).update(
                **dict(values), updated_at=now
            )
            continue
        singles.extend(students)
        fields.update(name for name, _ in values)
    for student in singles:
        student.updated_at = now
        sealed.refresh_derived(student)
    if singles:
        Student.objects.bulk_update(singles, sealed.with_derived(Student, sorted(fields)))


IMPORT_REASON = "花名册导入建档"
# A student with an 其他 document and no number: the school's proof stands for it, as the
# national 学籍 system registers such children.
OTHER_DOCUMENT_PROOF = "身份证件类型为“其他”、无证件号码：以学校出具的身份证明为准"


# Each student's line in the audit trail says it came from an import; the import's own
# line (the summary) is written beside them.
IMPORT_AUDIT = "花名册导入"


def _enrolment(by: User, student_id: int, data: services.StudentData, today) -> dict:
    columns = services.enrolment_columns(
        by=by, student_id=student_id, data=data, reason=IMPORT_REASON, today=today
    )
    if data.id_type == IdType.OTHER and not data.id_number:
        columns["document"] = OTHER_DOCUMENT_PROOF
    return columns


def _create_by_insert(by: User, batch: list[services.StudentData], today) -> list[dict]:
    """Create the batch's students, their events and guardians; the students' rows, with
    their ids."""
    rows = [services.new_student_columns(data) for data in batch]
    students = Student.objects.bulk_create(Student(**row) for row in rows)
    for row, student in zip(rows, students, strict=True):
        row["id"] = student.pk
    pairs = [(row["id"], data) for row, data in zip(rows, batch, strict=True)]
    EnrollmentEvent.objects.bulk_create(
        EnrollmentEvent(**_enrolment(by, pk, data, today)) for pk, data in pairs
    )
    Guardian.objects.bulk_create(
        Guardian(**guardian)
        for pk, data in pairs
        for guardian in services.guardian_columns(pk, data.guardians)
    )
    return rows


def _create_by_copy(by: User, batch: list[services.StudentData], today) -> list[dict]:
    """The rows _create_by_insert writes, by COPY (PostgreSQL), as plain values: a model
    instance per row costs more than the row's share of the write. Ids are drawn from the
    sequence first, so that events and guardians can name their student."""
    rows = [services.new_student_columns(data) for data in batch]
    stamp = timezone.now().isoformat()  # as text once: csv would format it on every row
    for row, pk in zip(rows, reserve_ids(Student, len(batch)), strict=True):
        row.update(id=pk, created_at=stamp, updated_at=stamp)
    copy_rows(Student, rows, with_pk=True)
    pairs = [(row["id"], data) for row, data in zip(rows, batch, strict=True)]
    copy_rows(
        EnrollmentEvent,
        ({**_enrolment(by, pk, data, today), "created_at": stamp} for pk, data in pairs),
    )
    copy_rows(
        Guardian,
        (
            guardian
            for pk, data in pairs
            for guardian in services.guardian_columns(pk, data.guardians)
        ),
    )
    return rows


def _created_audit(by: User, row: dict, data: services.StudentData, now) -> dict:
    """The audit line of a new student: the changes audit.record_change writes for
    student_create, from the row as written."""
    return audit.event_columns(
        actor=by,
        action=AuditAction.CREATE,
        model=Student,
        pk=row["id"],
        text=row["name"],
        changes=audit.diff(None, audit.snapshot_row(Student, row)),
        detail=IMPORT_AUDIT,
        region_code=data.school.township.code,
        at=now,
    )


def _updated_audit(by: User, change: _Change, now) -> dict:
    """The audit line of an updated student, as student_update writes it."""
    detail = f"{IMPORT_AUDIT}：{services.GUARDIANS_CHANGED}" if change.guardians else IMPORT_AUDIT
    return audit.event_columns(
        actor=by,
        action=AuditAction.UPDATE,
        model=Student,
        pk=change.student.pk,
        text=change.student.name,
        changes=change.changes,
        detail=detail,
        region_code=change.student.audit_region_code,
        at=now,
    )


def _write_audit(rows: list[dict]) -> None:
    """Write audit rows (audit.event_columns) at once."""
    if connection.vendor == "postgresql":
        copy_rows(AuditEvent, rows)
    else:
        AuditEvent.objects.bulk_create(AuditEvent(**row) for row in rows)


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


# Students written per batch (and per progress report while writing): each batch costs a
# handful of statements, whatever its size, and the audit lines of a batch are held at once.
WRITE_BATCH = 5000

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
    and 学籍号, are stored as NULL when empty); JSON fields are written as JSON; sealed
    fields are sealed (kongchuo.sealed). No save()
    or signals, like bulk_create; database errors are Django's (IntegrityError)."""
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    stored = sealed.raw_rows(model)
    if stored is not None:  # sealed values sealed, look-up hashes and masked copies computed
        rows = map(stored, rows)
    values = map(operator.itemgetter(*(f.attname for f in fields)), rows)
    if len(fields) == 1:  # itemgetter of one name gives the value, not a 1-tuple
        values = zip(values)
    encoders = [
        # orjson, or a field's own encoder made once per column (json.dumps makes one a call).
        (
            i,
            _json_text
            if f.encoder is None
            else f.encoder(ensure_ascii=False, separators=(",", ":")).encode,
        )
        for i, f in enumerate(fields)
        if isinstance(f, models.JSONField)
    ]
    if encoders:
        values = _json_encoded(values, encoders)
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


def _json_text(value) -> str:
    """JSON as json.dumps(ensure_ascii=False, separators=(",", ":")) writes it."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_encoded(values: Iterable[tuple], encoders: list[tuple[int, Callable]]) -> Iterator:
    for row in values:
        row = list(row)
        for i, encode in encoders:
            row[i] = encode(row[i])
        yield row


def copy_objects(model: type[models.Model], objects: list, *, with_pk: bool = False) -> None:
    """copy_rows for unsaved instances, marked saved afterwards."""
    if not objects:
        return
    copy_rows(model, (obj.__dict__ for obj in objects), with_pk=with_pk)
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def _write(by: User, plan: _Plan, report: Progress, total: int) -> None:
    """Write the plan a batch at a time, each student with its line in the audit trail."""
    now, today = timezone.now(), timezone.localdate()
    done = total // 2
    step = WRITE_BATCH
    create = _create_by_copy if connection.vendor == "postgresql" else _create_by_insert
    written = []
    for start in range(0, len(plan.new), step):
        batch = plan.new[start : start + step]
        rows = create(by, batch, today)
        _write_audit(
            [_created_audit(by, row, data, now) for row, data in zip(rows, batch, strict=True)]
        )
        written += [row["id"] for row in rows]
        done += len(batch)
        report(done, total)
    for start in range(0, len(plan.changed), step):
        batch = plan.changed[start : start + step]
        _update_students([(change.student, set(change.changes)) for change in batch], now)
        replaced = [change for change in batch if change.guardians]
        Guardian.objects.filter(student__in=[change.student for change in replaced]).delete()
        Guardian.objects.bulk_create(
            Guardian(**guardian)
            for change in replaced
            for guardian in services.guardian_columns(change.student.pk, change.data.guardians)
        )
        _write_audit([_updated_audit(by, change, now) for change in batch])
        done += len(batch)
        report(done, total)
    # Re-check: every record written lies inside the importer's area (STYLE.md §2).
    written += [change.student.pk for change in plan.changed]
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
    # The file's rows stay in memory to the end, hundreds of thousands of objects that the
    # cycle collector would walk again and again while the checks and the writes allocate
    # (a quarter of the write's time): they are frozen out of its sight as they are made —
    # reference counting still frees them — and handed back at the end.
    gc.freeze()
    try:
        return _import(by=by, content=content, filename=filename, progress=progress)
    finally:
        gc.unfreeze()


def _import(*, by: User, content: bytes, filename: str, progress: Progress | None):
    require(by, Capability.MANAGE_STUDENTS)
    report = progress or (lambda done, total: None)
    check_file(content, filename)
    table = _table(content, filename)
    gc.freeze()
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
    plan = _plan(by, [(n, data) for n, data in rows if n not in doubled], errors, table.carried)
    if errors:
        named = {replace(e, column=table.headings.get(e.column, e.column)) for e in errors}
        return ImportResult(errors=sorted(named, key=_error_order(table.order)))
    result = ImportResult(
        created=len(plan.new), updated=len(plan.changed), unchanged=plan.unchanged
    )
    if not (plan.new or plan.changed):
        report(total, total)
        return result
    gc.freeze()
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
    cells at fault shaded, so the user corrects the file they know and uploads it again. A
    CSV file comes back as a workbook of its rows, as text (no ID number turned into a number)."""
    if content.startswith(ZIP_MAGIC):
        workbook = load_workbook(io.BytesIO(content))
        sheets = workbook.sheetnames
        sheet = workbook[SHEET_TITLE] if SHEET_TITLE in sheets else workbook.worksheets[0]
    else:
        workbook = Workbook()
        sheet = workbook.active
        for cells in _csv_sheet(content):
            sheet.append(cells)
            for cell in sheet[sheet.max_row]:
                cell.data_type, cell.number_format = "s", "@"
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
