"""Getting external lists in (issue 13 rule 1): our fields per kind of list, the column
mapping remembered per county and kind, and ``source_upload``, the one write path of a
list — file (CSV or .xlsx, comparisons.reading) or rows (the API's JSON) alike.

A list is an immutable snapshot (``Source``: who, when, how many rows, the file's hash): the
same file uploaded twice by a county for a kind is recognised and nothing is written again.
Every row is read and checked; the rows that pass are staged as ``SourceRow`` for the
matching queries — on PostgreSQL in one COPY streamed while the file is read, so that a
million rows load in seconds and are never all held in memory. A row at fault is left out
and named (row, column, reason) in the source's downloadable error list; an ID number with
a bad checksum is only a warning: the row is kept, marked, and still compared. Everything
happens in one transaction: an upload that fails changes nothing.
"""

import datetime
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import audit
from accounts.choices import AuditAction, RegionLevel
from accounts.divisions import PLACEHOLDER_NAMES
from accounts.models import Region, User
from accounts.permissions import require
from kongchuo import crypto
from kongchuo.errors import AppError
from kongchuo.xlsx import workbook_bytes
from ledger.consistency import county_of
from students.choices import DisabilityGrade, DisabilityType, Gender, KeyGroup, Status
from students.identity import (
    checked_birth_date,
    document_number,
    gender_of,
    has_document_shape,
    normalise_id_number,
)
from students.imports import ID_AS_NUMBER, copy_rows, reserve_ids
from students.matching import name_key
from students.roster import cell_text

from . import engine, reading, runs
from .choices import SourceKind
from .models import ColumnMapping, Run, Source, SourceRow
from .permissions import UPLOAD

ERROR, WARNING = "error", "warning"
# Problems kept in a source's error list; the count covers them all. A list with more is
# almost always read with a wrong column mapping, and its first ones say which.
PROBLEMS_KEPT = 10_000
# Rows written at a time by INSERT (not on PostgreSQL, where one COPY takes them all).
STAGE_BATCH = 20_000
# The upload job's bar moves on every this many rows read.
PROGRESS_EVERY = 50_000
JSON_NAME = "接口提交的名单"


@dataclass(frozen=True)
class Field:
    """One of our fields a list's column maps to. ``key`` is the SourceRow column, or the
    key in ``SourceRow.extra`` for the fields only one kind of list carries."""

    key: str
    label: str
    required: bool = False
    # Headings lists are known to use for it, for the first guess of the mapping.
    synonyms: tuple[str, ...] = ()


NAME = Field(
    "name",
    "姓名",
    True,
    ("学生姓名", "儿童姓名", "人员姓名", "子女姓名", "残疾人姓名", "成员姓名", "名字"),
)
ID_NUMBER = Field(
    "id_number",
    "身份证号",
    True,
    (
        "身份证号码",
        "公民身份号码",
        "公民身份证号",
        "公民身份证号码",
        "身份证件号",
        "身份证件号码",
        "证件号码",
        "证件号",
        "学生身份证号",
        "儿童身份证号",
        "残疾人证号",
    ),
)
BIRTH_DATE = Field(
    "birth_date", "出生日期", synonyms=("出生年月日", "出生年月", "生日", "出生时间")
)
GENDER = Field("gender", "性别", synonyms=("性别代码",))
REGION = Field(
    "region",
    "户籍地",
    synonyms=(
        "户籍所在地",
        "户籍地址",
        "户籍住址",
        "户口所在地",
        "户籍地区划代码",
        "户籍村",
        "所在村",
        "村（社区）",
        "行政村",
        "住址",
    ),
)
GUARDIAN = Field(
    "guardian", "监护人", synonyms=("监护人姓名", "户主姓名", "户主", "家长姓名", "父亲姓名")
)
KEY_GROUP = Field("key_group", "户类型", synonyms=("户类别", "人员类型", "监测对象类型", "户属性"))
SCHOOL_NAME = Field(
    "school_name", "就读学校", synonyms=("学校名称", "就读学校名称", "在读学校", "学校")
)
DISABILITY_TYPE = Field("disability_type", "残疾类别", synonyms=("残疾类型", "残疾种类"))
DISABILITY_GRADE = Field("disability_grade", "残疾等级", synonyms=("残疾级别",))
STUDENT_NUMBER = Field("student_number", "学籍号", synonyms=("全国学籍号", "学籍辅号"))
STATUS = Field("status", "学籍状态", True, ("学生状态", "在校状态"))
SCHOOL_CODE = Field("school_code", "学校标识码", synonyms=("学校代码", "学校识别码"))

_PERSON = (NAME, ID_NUMBER, BIRTH_DATE, GENDER, REGION, GUARDIAN)
FIELDS: dict[str, tuple[Field, ...]] = {
    SourceKind.HOUSEHOLD: _PERSON,
    SourceKind.POVERTY: (*_PERSON, KEY_GROUP, SCHOOL_NAME),
    SourceKind.DISABILITY: (*_PERSON, DISABILITY_TYPE, DISABILITY_GRADE),
    SourceKind.XUEJI: (*_PERSON, STUDENT_NUMBER, STATUS, SCHOOL_CODE, SCHOOL_NAME),
}
# The fields kept in SourceRow.extra, as students.choices values (KeyGroup, DisabilityType,
# DisabilityGrade, Status) or text (学籍号, 学校标识码).
EXTRA_KEYS = ("key_group", "disability_type", "disability_grade", "student_number", "status")
EXTRA_KEYS += ("school_code",)


def fields_of(kind: str) -> tuple[Field, ...]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise AppError("请选择名单类型。", field="kind") from None


# -- mapping ---------------------------------------------------------------------------------

_MARKS = re.compile(r"[\s*＊:：]|[（(][^（()）]*[）)]$")


def _heading_key(heading: str) -> str:
    """A heading as compared with the synonyms: width, spaces, marks of required columns and
    a trailing note in brackets ("身份证号（必填）") do not count."""
    return _MARKS.sub("", unicodedata.normalize("NFKC", heading))


def suggest_mapping(county: Region, kind: str, headings: list[str]) -> dict[str, str]:
    """Our field → the list's heading: the mapping remembered for the county and kind as far
    as the list has those headings, then guesses from the headings lists commonly use."""
    fields = fields_of(kind)
    keys = {f.key for f in fields}
    remembered = (
        ColumnMapping.objects.filter(county=county, kind=kind)
        .values_list("mapping", flat=True)
        .first()
    ) or {}
    mapping = {
        key: heading for key, heading in remembered.items() if key in keys and heading in headings
    }
    used = set(mapping.values())
    by_key: dict[str, str] = {}
    for heading in headings:
        by_key.setdefault(_heading_key(heading), heading)
    for f in fields:
        if f.key in mapping:
            continue
        for name in (f.label, *f.synonyms):
            heading = by_key.get(_heading_key(name))
            if heading is not None and heading not in used:
                mapping[f.key] = heading
                used.add(heading)
                break
    return mapping


def clean_mapping(kind: str, headings: list[str], mapping: dict) -> dict[str, str]:
    """The mapping checked against the list: our fields of the kind, headings the list has,
    no column twice, every required field mapped. AppError (field "mapping") otherwise."""
    fields = fields_of(kind)
    if not isinstance(mapping, dict):
        raise AppError("列对应应为“字段 → 列标题”的对象。", field="mapping")
    labels = {f.key: f.label for f in fields}
    mapping = {key: heading for key, heading in mapping.items() if heading not in ("", None)}
    unknown = [str(key) for key in mapping if key not in labels]
    if unknown:
        raise AppError(
            f"列对应中有本类名单没有的字段：{'、'.join(unknown)}。"
            f"可用的字段：{'、'.join(f'{f.key}（{f.label}）' for f in fields)}。",
            field="mapping",
        )
    absent = [str(h) for h in mapping.values() if h not in headings]
    if absent:
        raise AppError(
            f"名单中没有列“{'”“'.join(absent)}”：名单的列标题为“{'”“'.join(headings)}”。",
            field="mapping",
        )
    twice = sorted({h for h in mapping.values() if list(mapping.values()).count(h) > 1})
    if twice:
        raise AppError(
            f"列“{'”“'.join(twice)}”被对应到了多个字段：每一列只能对应一个字段。",
            field="mapping",
        )
    missing = [f.label for f in fields if f.required and f.key not in mapping]
    if missing:
        raise AppError(
            f"缺少必需的列：{'、'.join(missing)}。请选择名单中的哪一列是"
            f"{'、'.join(missing)}；名单中没有这些列的，请补上后重新上传。",
            field="mapping",
        )
    return {f.key: mapping[f.key] for f in fields if f.key in mapping}


def headings(file) -> list[str]:
    """The headings of the list in ``file`` (the whole file is checked as an upload is)."""
    return reading.read(file).headings


def preview(file, *, name: str = "") -> tuple[reading.Table, list[list[str]]]:
    """The list read for the mapping page: the table (headings, encoding) and its first rows."""
    table = reading.read(file, name=name)
    return table, reading.preview(table)


# -- reading cells ---------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
# Excel's day 0: serial 1 is 1900-01-01 (its phantom 1900-02-29 lies before any child's birth).
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def _date(raw) -> datetime.date | None:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if 19000101 <= raw <= 21001231 and raw == int(raw):
            raw = str(int(raw))  # 20150314 typed as a number
        elif 1 <= raw < 80000:
            # A date cell that lost its format, or a serial: days since Excel's epoch.
            return _EXCEL_EPOCH + datetime.timedelta(days=int(raw))
    text = cell_text(raw)
    if not text:
        return None
    if len(text) == 10 and text[4] == "-" == text[7]:
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    match = _DATE_TEXT.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(f"“{text}”不是有效的日期，请填写如 2015-03-14 的日期。")


_GENDERS = {
    **{name: g.value for g in Gender for name in (g.label, g.value, f"{g.label}性")},
    "1": Gender.MALE.value,
    "2": Gender.FEMALE.value,
}


def _gender(raw) -> str:
    text = cell_text(raw).upper()
    if not text:
        return ""
    if text in _GENDERS:
        return _GENDERS[text]
    raise ValueError("性别应为“男”或“女”。")


def _key_group(raw) -> str:
    """户类型: 脱贫户 (建档立卡) or 监测对象 (脱贫不稳定户、边缘易致贫户、突发严重困难户)."""
    text = cell_text(raw)
    if not text or text in (KeyGroup.POVERTY_REGISTERED, KeyGroup.RELAPSE_MONITORED):
        return text
    if any(word in text for word in ("监测", "不稳定", "边缘", "突发")):
        return KeyGroup.RELAPSE_MONITORED.value
    if any(word in text for word in ("脱贫", "建档立卡", "贫困")):
        return KeyGroup.POVERTY_REGISTERED.value
    raise ValueError(
        "户类型应为“脱贫户”或“监测对象”（脱贫不稳定户、边缘易致贫户、突发严重困难户）。"
    )


_DISABILITY_TYPES = {
    name: t.value for t in DisabilityType for name in (t.label, t.label[:-2], t.value)
}


def _disability_type(raw) -> str:
    text = cell_text(raw)
    if not text:
        return ""
    if text in _DISABILITY_TYPES:
        return _DISABILITY_TYPES[text]
    raise ValueError(f"残疾类别应为{'、'.join(t.label for t in DisabilityType)}之一。")


_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _disability_grade(raw) -> int | None:
    text = cell_text(raw)
    if not text:
        return None
    match = re.fullmatch(r"(?:残疾)?([一二三四1-4])(?:级)?", text)
    if match:
        return DisabilityGrade(_NUMERALS[match.group(1)]).value
    raise ValueError("残疾等级应为一级至四级（或 1–4）。")


# The statuses a 学籍 look-up reports.
_LISTED_STATUSES = (
    Status.ENROLLED,
    Status.SUSPENDED,
    Status.TRANSFERRED_OUT,
    Status.DROPPED_OUT,
    Status.GRADUATED,
    Status.DECEASED,
    Status.HOME_TAUGHT,
)
_STATUSES = {
    **{name: s.value for s in _LISTED_STATUSES for name in (s.label, s.value)},
    "在校": Status.ENROLLED.value,
    "正常": Status.ENROLLED.value,
    "在籍": Status.ENROLLED.value,
    "转学": Status.TRANSFERRED_OUT.value,
    "失学": Status.DROPPED_OUT.value,
}


def _status(raw) -> str:
    text = cell_text(raw)
    if not text:
        return ""
    if text in _STATUSES:
        return _STATUSES[text]
    raise ValueError(f"学籍状态应为{'、'.join(s.label for s in _LISTED_STATUSES)}之一。")


def _text(limit: int):
    def read(raw) -> str:
        text = cell_text(raw)
        if len(text) > limit:
            raise ValueError(f"最多{limit}个字。")
        return text

    return read


def _code(raw) -> str:
    return unicodedata.normalize("NFKC", cell_text(raw)).replace(" ", "").upper()


_CODE_LENGTH = 30


def _limited_code(raw) -> str:
    code = _code(raw)
    if len(code) > _CODE_LENGTH:
        raise ValueError(f"最多{_CODE_LENGTH}个字符。")
    return code


def _max_length(name: str) -> int:
    return SourceRow._meta.get_field(name).max_length


_READERS = {
    "birth_date": _date,
    "gender": _gender,
    "guardian": _text(_max_length("guardian")),
    "school_name": _text(_max_length("school_name")),
    "key_group": _key_group,
    "disability_type": _disability_type,
    "disability_grade": _disability_grade,
    "status": _status,
    "student_number": _limited_code,
    "school_code": _limited_code,
}
_NAME_LENGTH = _max_length("name")


# -- 户籍地 -----------------------------------------------------------------------------------

# How official village names end, and the short forms people write (南街社区居委会 → 南街社区).
_SHORT_FORMS = (
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", ""),
    ("居委会", ""),
    ("街道办事处", "街道"),
)
_AMBIGUOUS = -1


def _name_forms(name: str) -> set[str]:
    forms = {name}
    for ending, short in _SHORT_FORMS:
        if name.endswith(ending) and len(name) > len(ending):
            forms.add(name[: -len(ending)] + short)
    return forms


class _LookUp(Exception):
    """A 户籍地 code to look up in the national table before the row can be read."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class _Places:
    """户籍地 as lists write it — a region code, or a township or village name, perhaps
    after the province, city and county, perhaps followed by a group (南涧镇新政村3组) —
    to a region: the county's townships and villages by name, any region by code. Each
    distinct text is worked out once."""

    def __init__(self, county: Region):
        regions = list(
            Region.objects.filter(
                code__startswith=county.prefix,
                level__in=(RegionLevel.TOWNSHIP, RegionLevel.VILLAGE),
            ).values_list("pk", "code", "name", "level", "parent_id")
        )
        self.by_code = {code: pk for pk, code, _, _, _ in regions}
        townships = {pk: name for pk, _, name, level, _ in regions if level == RegionLevel.TOWNSHIP}
        self.by_name: dict[str, int] = {}
        for pk, _, name, level, parent in regions:
            forms = _name_forms(name)
            if level == RegionLevel.VILLAGE and parent in townships:
                # A village's own name may repeat in another township; with its township's
                # name in front it does not.
                forms |= {t + v for t in _name_forms(townships[parent]) for v in _name_forms(name)}
            for form in forms:
                self.by_name[form] = pk if self.by_name.get(form, pk) == pk else _AMBIGUOUS
        self.longest = max(map(len, self.by_name), default=0)
        above, region = [], county
        while region is not None:
            if region.name not in PLACEHOLDER_NAMES:
                above.append(region.name)
            region = region.parent
        self.above = above[::-1]  # province, city, county
        self.known: dict[str, tuple[int | None, str]] = {}
        # Codes outside the county, looked up in the national table (``look_up``).
        self.outside: dict[str, int | None] = {}

    def region(self, raw) -> tuple[int | None, str]:
        """(region id or None, a warning or ""). _LookUp when the code lies outside the
        county and has not been looked up yet."""
        if type(raw) is not str:
            return self._find(_code(raw))
        try:
            return self.known[raw]
        except KeyError:
            found = self.known[raw] = self._find(_code(raw))
            return found

    def look_up(self, code: str) -> None:
        # A migrant child's 户籍地 may lie outside the county: the national table.
        self.outside[code] = Region.objects.filter(code=code).values_list("pk", flat=True).first()

    def _find(self, text: str) -> tuple[int | None, str]:
        if not text:
            return None, ""
        if text.isdigit():
            pk = self.by_code.get(text)
            if pk is None:
                if text not in self.outside:
                    raise _LookUp(text)
                pk = self.outside[text]
            if pk is None:
                return None, f"区划代码 {text} 不存在，已按未填写处理。"
            return pk, ""
        rest = text
        for name in self.above:
            rest = rest.removeprefix(name)
        for length in range(min(len(rest), self.longest), 1, -1):
            pk = self.by_name.get(rest[:length])
            if pk == _AMBIGUOUS:
                return None, (
                    f"本县有多个“{rest[:length]}”，已按未填写处理：请在村名前写上乡镇，或填写区划代码。"
                )
            if pk is not None:
                return pk, ""
        return None, (
            f"“{text}”不是本县的乡镇或村，已按未填写处理：请填写乡镇或村的名称，或区划代码。"
        )


# -- the rows --------------------------------------------------------------------------------


@dataclass
class _Column:
    field: Field
    position: int
    heading: str


# Values of a column that lists repeat (dates, sexes, 户类型…) are read once each, up to
# this many different ones per column.
_REMEMBERED = 100_000


def _remembering(read):
    known: dict = {}

    def cached(raw):
        try:
            return known[raw]
        except KeyError:
            value = read(raw)  # a ValueError is raised again for each row that has it
            if len(known) < _REMEMBERED:
                known[raw] = value
            return value
        except TypeError:  # unhashable (JSON lists and objects): read, not remembered
            return read(raw)

    return cached


_REPEATING = frozenset(
    {"birth_date", "gender", "key_group", "disability_type", "disability_grade", "status"}
)


class _Rows:
    """A table's rows as SourceRow columns, one at a time, with what was wrong: ``problems``
    (the first PROBLEMS_KEPT), how many rows were read and refused, the ID numbers found
    more than once (``repeated``), and the reading's own failure if the file broke off
    (kept, to be raised once the rows are written).

    Iterating stops early at a row whose 户籍地 code must be looked up in the database
    (``lookup`` names it), as no query can run while a COPY is under way; once it is looked
    up (``places.look_up``), iterating again goes on from that row."""

    def __init__(
        self,
        *,
        source_id: int,
        table: reading.Table,
        columns: list[_Column],
        county,
        progress: Callable[[int, int], None] | None = None,
    ):
        self.source_id = source_id
        self.progress = progress
        self.table = table
        self.columns = {c.field.key: c for c in columns}
        self.readers = [
            (
                c.field.key,
                c.position,
                c,
                _remembering(_READERS[c.field.key])
                if c.field.key in _REPEATING
                else _READERS[c.field.key],
            )
            for c in columns
            if c.field.key in _READERS
        ]
        self.places = _Places(county) if "region" in self.columns else None
        self.extras = [key for key in EXTRA_KEYS if key in self.columns]
        self.problems: list[dict] = []
        self.problem_count = 0
        self.warning_count = 0
        self.read = 0
        self.refused = 0
        self.failure: AppError | None = None
        self.lookup: str | None = None
        self.repeated: set[str] = set()
        self._seen: set[str] = set()
        self._records = iter(table.rows)
        self._pending: tuple[int, list] | None = None

    def problem(self, row: int, column: _Column | None, message: str, level=ERROR):
        self.problem_count += 1
        if level == WARNING:
            self.warning_count += 1
        if len(self.problems) < PROBLEMS_KEPT:
            heading = column.heading if column is not None else ""
            self.problems.append({"row": row, "field": heading, "message": message, "level": level})

    def __iter__(self) -> Iterator[dict]:
        self.lookup = None
        records = self._records
        if self._pending is not None:
            records, self._pending = chain((self._pending,), records), None
        seen, repeated = self._seen, self.repeated
        try:
            for number, cells in records:
                try:
                    row = self._row(number, cells)
                except _LookUp as need:
                    self._pending, self.lookup = (number, cells), need.code
                    return
                self.read += 1
                if self.progress is not None and self.read % PROGRESS_EVERY == 0:
                    self.progress(self.read, max(self.read, self.table.estimated_rows))
                if row is None:
                    self.refused += 1
                    continue
                id_number = row["id_number"]
                if id_number:
                    if id_number in seen:
                        repeated.add(id_number)
                    else:
                        seen.add(id_number)
                yield row
        except AppError as exc:
            self.failure = exc

    def _row(self, number: int, cells: list) -> dict | None:
        width = len(cells)
        region_id = region_warning = None
        if self.places is not None:
            # First: the one look-up that may stop the row before any problem is noted.
            position = self.columns["region"].position
            region_id, region_warning = self.places.region(
                cells[position] if position < width else ""
            )
        errors = self.problem_count - self.warning_count
        values = {}
        for key, position, column, read in self.readers:
            try:
                values[key] = read(cells[position] if position < width else "")
            except ValueError as exc:
                self.problem(number, column, str(exc))
        columns = self.columns
        name_column = columns["name"]
        name = _text_of(cells, width, name_column)
        if not name:
            self.problem(number, name_column, "请填写姓名。")
        elif len(name) > _NAME_LENGTH:
            self.problem(number, name_column, f"姓名最多{_NAME_LENGTH}个字。")
        id_column = columns["id_number"]
        raw_id = cells[id_column.position] if id_column.position < width else ""
        id_number, found_birth = self._id_number(number, raw_id, id_column)
        valid = found_birth is not None
        birth_date, gender = values.get("birth_date"), values.get("gender", "")
        if valid:
            if birth_date is None:
                birth_date = found_birth
            elif birth_date != found_birth:
                self.problem(
                    number,
                    columns.get("birth_date"),
                    f"出生日期与身份证号中的出生日期（{found_birth:%Y-%m-%d}）不一致，请核对。",
                    WARNING,
                )
            gender = gender or gender_of(id_number)
        elif (
            birth_date is None
            and not _text_of(cells, width, id_column)
            and not _text_of(cells, width, columns.get("birth_date"))
        ):
            self.problem(number, id_column, "请填写身份证号或出生日期，否则无法比对。")
        if region_warning:
            self.problem(number, columns["region"], region_warning, WARNING)
        if self.problem_count - self.warning_count > errors:
            return None
        key = name_key(name)
        return {
            "source_id": self.source_id,
            "row": number,
            "id_number": id_number,
            "id_valid": valid,
            "name": name,
            "name_key": key if len(key) <= _NAME_LENGTH else key[:_NAME_LENGTH],
            "birth_date": birth_date,
            "gender": gender,
            "region_id": region_id,
            "guardian": values.get("guardian", ""),
            "school_name": values.get("school_name", ""),
            "extra": {key: values[key] for key in self.extras if values[key] not in ("", None)},
        }

    def _id_number(self, number: int, raw, column: _Column) -> tuple[str, datetime.date | None]:
        """The row's ID number, normalised, and the birth date in it if it passes the
        GB 11643 checks (None: not valid). One that is plainly no ID number is an error;
        one with a bad checksum (or birth date, or area code) is kept, marked invalid, with
        a warning: it may still match."""
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            self.problem(number, column, ID_AS_NUMBER)
            return "", None
        text = raw.strip() if type(raw) is str else cell_text(raw)
        if not text:
            return "", None
        id_number = normalise_id_number(text)
        if _ID_SHAPE.match(id_number) is None:
            other = document_number(text)
            if has_document_shape(other):
                # A child from Hong Kong, Macao, Taiwan or abroad: matched by that number.
                message = f"“{text}”不是居民身份证号，按港澳台或外国人证件号码比对。"
                self.problem(number, column, message, WARNING)
                return other, None
            if _SCIENTIFIC.match(text):
                self.problem(number, column, f"“{text}”是科学计数法：{ID_AS_NUMBER}")
            else:
                self.problem(
                    number,
                    column,
                    f"身份证号应为18位：前17位为数字，最后一位为数字或X（当前为{len(id_number)}位）。",
                )
            return "", None
        try:
            return id_number, checked_birth_date(id_number)
        except AppError as exc:
            self.problem(number, column, f"{exc.message}该行仍参加比对。", WARNING)
            return id_number, None


def _text_of(cells: list, width: int, column: _Column | None) -> str:
    if column is None or column.position >= width:
        return ""
    raw = cells[column.position]
    return raw.strip() if type(raw) is str else cell_text(raw)


def _columns(kind: str, table: reading.Table, mapping: dict[str, str]) -> list[_Column]:
    position = {heading: i for i, heading in enumerate(table.headings)}
    return [
        _Column(f, position[mapping[f.key]], mapping[f.key])
        for f in fields_of(kind)
        if f.key in mapping
    ]


# -- the upload ------------------------------------------------------------------------------


@dataclass
class UploadResult:
    source: Source
    created: bool
    errors: list = field(default_factory=list)
    message: str = ""
    run: Run | None = None  # the comparison started after the upload


def _json_table(kind: str, rows) -> reading.Table:
    """The API's rows (objects keyed by our field names) as a table with those headings."""
    fields = fields_of(kind)
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise AppError("rows 应为非空的对象列表，每个对象是一人。", field="rows")
    keys = {f.key for f in fields}
    unknown = sorted({str(k) for row in rows for k in row} - keys)
    if unknown:
        raise AppError(
            f"rows 中有本类名单没有的字段：{'、'.join(unknown)}。"
            f"可用的字段：{'、'.join(f'{f.key}（{f.label}）' for f in fields)}。",
            field="rows",
        )
    present = [f.key for f in fields if any(f.key in row for row in rows)]
    canonical = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if "\\u0000" in canonical:  # the one character the database cannot store
        raise AppError("rows 中含有空字符（\\u0000），请去掉后重新提交。", field="rows")
    try:
        content = canonical.encode()
    except UnicodeEncodeError:  # a lone surrogate (\ud800): no character at all
        raise AppError("rows 中含有无效的字符，请检查后重新提交。", field="rows") from None
    return reading.Table(
        name=JSON_NAME,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        encoding="JSON",
        headings=present,
        heading_row=0,
        rows=((i, [row.get(key, "") for key in present]) for i, row in enumerate(rows, 1)),
    )


def _parse_mapping(mapping) -> dict | None:
    if isinstance(mapping, str):
        if not mapping.strip():
            return None
        try:
            return json.loads(mapping)
        except ValueError:
            raise AppError("列对应不是有效的 JSON。", field="mapping") from None
    return mapping


def _already(existing: Source) -> UploadResult:
    who = existing.uploaded_by.full_name or existing.uploaded_by.username
    at = timezone.localtime(existing.uploaded_at)
    return UploadResult(
        source=existing,
        created=False,
        errors=existing.errors,
        message=(
            f"这份名单已经上传过（{existing.name}，{who}于{at:%Y-%m-%d %H:%M}上传），"
            "内容完全相同，未重复导入。"
        ),
    )


def _same_file(county: Region, kind: str, sha256: str) -> Source | None:
    return (
        Source.objects.filter(county=county, kind=kind, sha256=sha256)
        .select_related("uploaded_by")
        .first()
    )


def upload_county(by: User) -> Region:
    """The county ``by`` uploads lists for; AppError if ``by`` may not upload."""
    require(by, UPLOAD)
    county = county_of(by)
    if county is None:
        raise AppError("比对名单由县教体局的账号上传，与本县的学籍和台账比对。")
    return county


def source_upload(
    *,
    by: User,
    kind: str,
    file=None,
    rows: list | None = None,
    mapping: dict | str | None = None,
    name: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> UploadResult:
    """Take in a list of ``kind`` for ``by``'s county: a ``file`` (CSV or .xlsx, its columns
    mapped by ``mapping`` — our field → heading — or by the suggestion), or ``rows`` (our
    field names). AppError for a list refused as a whole; row problems come back in
    ``errors`` (and stay in the source's error list). The same list again: the existing
    source, ``created`` False, nothing written. ``progress(read, about_total)`` is told as
    the rows are read."""
    county = upload_county(by)
    fields_of(kind)
    if (file is None) == (rows is None):
        raise AppError("请上传名单文件，或提交名单的各行（rows），二者选一。", field="file")
    if file is not None:
        table = reading.read(file, name=name)
        chosen = _parse_mapping(mapping)
        if chosen is None:
            chosen = suggest_mapping(county, kind, table.headings)
        chosen = clean_mapping(kind, table.headings, chosen)
    else:
        table = _json_table(kind, rows)
        chosen = clean_mapping(kind, table.headings, {key: key for key in table.headings})
        table.name = name or JSON_NAME
    existing = _same_file(county, kind, table.sha256)
    if existing is not None:
        return _already(existing)
    try:
        with transaction.atomic():
            result = _take_in(
                by, county, kind, table, chosen, remember=file is not None, progress=progress
            )
    except IntegrityError:
        # The same list, uploaded at the same moment by someone else of the county.
        existing = _same_file(county, kind, table.sha256)
        if existing is None:
            raise
        return _already(existing)
    return result


def _take_in(by, county, kind, table, mapping, *, remember: bool, progress=None) -> UploadResult:
    source_id = _reserve_source_id()
    rows = _Rows(
        source_id=source_id,
        table=table,
        columns=_columns(kind, table, mapping),
        county=county,
        progress=progress,
    )
    _stage(rows)
    if rows.failure is not None:
        raise rows.failure
    _refuse_repeated_ids(rows)
    staged = rows.read - rows.refused
    if not staged:
        shown = "；".join(f"第{p['row']}行{p['field']}：{p['message']}" for p in rows.problems[:3])
        raise AppError(
            f"名单的{rows.read}行都有错误，未导入任何数据。例如：{shown}"
            "请核对列对应（哪一列是哪个字段）和文件内容后重新上传。",
            field="file",
        )
    problems = sorted(rows.problems, key=lambda p: (p["row"], p["level"] != ERROR))
    (source,) = Source.objects.bulk_create(
        [
            Source(
                pk=source_id,
                county=county,
                kind=kind,
                name=table.name[: Source._meta.get_field("name").max_length],
                sha256=table.sha256,
                size=table.size,
                encoding=table.encoding,
                mapping=mapping,
                row_count=rows.read,
                error_count=rows.refused,
                errors=problems,
                uploaded_by=by,
            )
        ]
    )
    if remember:
        ColumnMapping.objects.update_or_create(
            county=county, kind=kind, defaults={"mapping": mapping, "updated_by": by}
        )
    audit.record(
        actor=by,
        action=AuditAction.CREATE,
        obj=source,
        detail=(
            f"上传比对名单（{source.get_kind_display()}）：共{rows.read}行，"
            f"{rows.refused}行有误未导入，{rows.warning_count}条提醒"
        ),
        region_code=county.code,
    )
    # The comparison "after each upload" (issue 13): queued when this transaction commits.
    run = runs.run_start(by=by, source=source)
    return UploadResult(
        source=source,
        created=True,
        errors=problems,
        message=_summary(source, rows),
        run=run,
    )


def _summary(source: Source, rows: _Rows) -> str:
    parts = [f"已上传{source.get_kind_display()}名单“{source.name}”：共{rows.read}行"]
    if rows.refused:
        parts.append(f"{rows.refused}行有误未导入（可下载错误清单，改正后重新上传）")
    if rows.warning_count:
        parts.append(f"{rows.warning_count}条提醒（如身份证号校验位不对，该行仍参加比对）")
    text = "，".join(parts) + "。"
    return text + "比对已开始，完成后可查看不一致名单。"


def _reserve_source_id() -> int:
    """The new source's id, drawn before its rows are written: the source itself, never
    changed once written, is created last, with its counts and errors (the rows' reference
    to it is checked at commit)."""
    if connection.vendor == "postgresql":
        return reserve_ids(Source, 1)[0]
    # SQLite: AUTOINCREMENT keeps the last id in sqlite_sequence; raising it reserves the
    # next, and the write lock taken here is held to the end of the transaction.
    table = Source._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = %s", [table])
        if cursor.rowcount == 0:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, 1)", [table])
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        return cursor.fetchone()[0]


def _stage(rows: _Rows) -> None:
    """Write the rows as they are read: on PostgreSQL in one COPY, the database storing
    the first rows while the later ones are read — broken only where a 户籍地 code outside
    the county must be looked up first; elsewhere by INSERTs, a batch at a time."""
    while True:
        if connection.vendor == "postgresql":
            copy_rows(SourceRow, rows)
        else:
            stream = iter(rows)
            while batch := list(islice(stream, STAGE_BATCH)):
                SourceRow.objects.bulk_create(SourceRow(**row) for row in batch)
        if rows.lookup is None:
            return
        rows.places.look_up(rows.lookup)


def _refuse_repeated_ids(rows: _Rows) -> None:
    """An ID number twice in one list: which row is right is not known, so every copy is
    left out and named, its rows found by one query over the staged rows."""
    if not rows.repeated:
        return
    engine.refresh_statistics(rows.read)  # before the first query over the staged rows
    staged = SourceRow.objects.filter(source_id=rows.source_id)
    repeated = sorted(rows.repeated)
    found: dict[str, list[int]] = {}
    hashes = [crypto.lookup_hash(number) for number in repeated]
    for row, id_number in staged.filter(id_hash__in=hashes).values_list("row", "id_number"):
        found.setdefault(id_number, []).append(row)
    heading = rows.columns["id_number"].heading
    for numbers in found.values():
        numbers.sort()
        where = "、".join(map(str, numbers[:10])) + ("等" if len(numbers) > 10 else "")
        for number in numbers:
            rows.problem(
                number,
                rows.columns["id_number"],
                f"第{where}行的{heading}相同：同一份名单中一个身份证号只能出现一次，这些行都未导入。",
            )
        rows.refused += len(numbers)
    staged.filter(id_hash__in=hashes).delete()


# -- the error list --------------------------------------------------------------------------

ERROR_HEADINGS = ("行号", "列", "类型", "说明")
_LEVELS = {ERROR: "错误（未导入）", WARNING: "提醒（已导入）"}


def errors_workbook(source: Source) -> tuple[bytes, str]:
    """The source's error list as a workbook, and its file name."""
    rows = (
        (p.get("row"), p.get("field", ""), _LEVELS.get(p.get("level"), ""), p.get("message", ""))
        for p in source.errors
    )
    content, _ = workbook_bytes("错误清单", ERROR_HEADINGS, rows)
    stem = source.name.rsplit(".", 1)[0] or "名单"
    return content, f"{stem}-错误清单.xlsx"
