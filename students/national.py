"""The national 学籍 system's student list (全国中小学生学籍信息管理系统, issue 18): its column
headings and code tables, read into the row our own roster template gives, and written back.

The roster import recognises the layout by its headings (``detect``) and hands each national
row to ``NationalReader.template_cells``: the cells our template would hold for the same child
(性别 ``1`` → ``男``, 出生日期 ``20150314`` → a date, …), which then go through the template's
own readers, the services' row rules and constructors — there is no second copy of a row rule
here, only the translation of a code or a format. What the national layout cannot say (the key
groups it has no column for, 残疾等级) is not part of its row: the import keeps the stored value.
"""

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from accounts.choices import RegionLevel
from accounts.models import Region

from .choices import ETHNIC_GROUPS, OTHER_ETHNICITIES, DisabilityType, Gender, KeyGroup
from .models import IdType
from .roster import BY_ATTRIBUTE, HEADINGS, NO, YES, cell_text

TEMPLATE, NATIONAL = "template", "national"
LAYOUT_NAMES = {TEMPLATE: "本系统花名册模板", NATIONAL: "全国学籍系统导出格式"}

# -- Code tables, as the national system writes them (code → label)

GENDER_CODES = {"1": Gender.MALE.label, "2": Gender.FEMALE.label}
# GB/T 3304: 01 汉族 … 56 基诺族 in the order choices.ETHNIC_GROUPS lists them, then the two
# codes the national system adds.
ETHNICITY_CODES = {f"{n:02d}": name for n, name in enumerate(ETHNIC_GROUPS, start=1)} | dict(
    zip(("97", "98"), OTHER_ETHNICITIES, strict=True)
)
ID_TYPE_CODES = {choice.value: choice.label for choice in IdType}
LEFT_BEHIND_CODES = {"0": "非留守儿童", "1": "单亲留守儿童", "2": "双亲留守儿童"}
YES_NO_CODES = {"0": NO, "1": YES}
# 残疾类型 0 无残疾, then the seven types in the order choices.DisabilityType lists them.
DISABILITY_CODES = {"0": "无残疾"} | {
    str(n): choice.label for n, choice in enumerate(DisabilityType, start=1)
}
# 年级 as the national system codes it: 11–16 小学, 21–23 初中.
GRADE_CODES = {f"1{n}": n for n in range(1, 7)} | {f"2{n - 6}": n for n in range(7, 10)}
# 家庭成员关系 (GB/T 4761), the codes a guardian has; other relations are written as text.
RELATION_CODES = {
    "51": "父亲",
    "52": "母亲",
    "61": "祖父",
    "62": "祖母",
    "63": "外祖父",
    "64": "外祖母",
    "71": "兄姐",
    "75": "兄姐",
}

# -- How a cell is read: raw cell → the template's cell (ValueError with the reason)

_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")


# Whole numbers below this are exact in a spreadsheet's double: a 学校标识码 or a phone
# number typed as a number reads back whole; an ID number never does.
_EXACT = 10**15


def _as_typed(raw, heading: str, *, whole_numbers: bool = False) -> str:
    """Text that Excel has not turned into a number: a number cell, or its scientific
    notation saved to CSV, has lost digits already and is refused, never read back —
    except, with ``whole_numbers``, a code short enough to be kept exactly (no leading
    zero to lose: 学校标识码 and phone numbers have none)."""
    exact = isinstance(raw, int | float) and float(raw).is_integer() and abs(raw) < _EXACT
    if whole_numbers and exact and not isinstance(raw, bool):
        return str(int(raw))
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise ValueError(
            f"{heading}被存成了数字（{raw:.15g}），后几位可能已丢失：请在全国学籍系统重新导出，"
            f"或在 Excel 中把该列设为“文本”格式后重新填写，不要直接打开 CSV 再保存。"
        )
    text = cell_text(raw)
    if _SCIENTIFIC.match(text):
        raise ValueError(
            f"{heading}“{text}”是科学计数法，号码的后几位已丢失：请把该列设为“文本”格式后"
            "重新填写（或在全国学籍系统重新导出），不要直接用 Excel 打开 CSV 再保存。"
        )
    return text


def _coded(table: dict[str, str], heading: str, *, labels: Iterable[str] = ()) -> Callable:
    """A reader of a coded column: a code gives its label, a label is taken as it is."""
    accepted = set(table.values()) | set(labels)

    def read(raw):
        text = cell_text(raw)
        if not text or text in accepted:
            return text
        if text in table:
            return table[text]
        listed = "、".join(f"{code} {label}" for code, label in table.items())
        raise ValueError(f"{heading}的代码“{text}”无法识别：应为 {listed}。")

    return read


def _ethnicity(raw):
    # A number cell lost the code's leading zero (1 for 01): no other code has one digit.
    text = cell_text(raw)
    if text.isdigit() and len(text) == 1:
        text = f"0{text}"
    return _coded(ETHNICITY_CODES, "民族")(text)


def _serial_advice(heading: str, text: str, example: str) -> ValueError:
    return ValueError(
        f"{heading}“{text}”像是 Excel 的日期序号，不是日期：请把该列设为“文本”格式，"
        f"按 {example} 的样式重新填写（或在全国学籍系统重新导出）。"
    )


_ID_TYPE_LABELS = {label: code for code, label in ID_TYPE_CODES.items()}


def _id_type(raw) -> str:
    """The code (our stored value), from a code or a label; "" when empty (居民身份证)."""
    text = _coded(ID_TYPE_CODES, "身份证件类型")(cell_text(raw).upper())
    return _ID_TYPE_LABELS.get(text, text)


def _birth_date(raw):
    """YYYYMMDD (also 2015-03-14); a date cell is a date already. A serial number is refused."""
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, float) and not raw.is_integer():
        raise _serial_advice("出生日期", f"{raw:g}", "20150314")
    text = cell_text(raw)
    if text.isdigit() and len(text) != 8:
        raise _serial_advice("出生日期", text, "20150314")
    return text  # the template's date reader takes YYYYMMDD and YYYY-MM-DD


def _entry_month(raw):
    """入学年月 YYYYMM (also 2021-09): the first of that month."""
    if isinstance(raw, datetime.date):
        return datetime.date(raw.year, raw.month, 1)
    text = cell_text(raw)
    if not text:
        return ""
    match = re.fullmatch(r"(\d{4})[-/.年]?(\d{1,2})月?", text) if len(text) >= 6 else None
    if match is None:
        if text.isdigit():
            raise _serial_advice("入学年月", text, "202109")
        raise ValueError(f"入学年月“{text}”无法识别：应为6位年月，如 202109。")
    year, month = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"入学年月“{text}”的月份不对：应为6位年月，如 202109。")
    return datetime.date(year, month, 1)


def _grade(raw):
    text = cell_text(raw)
    return GRADE_CODES.get(text, text)  # labels and 1–9: the template's grade reader


def _left_behind(raw):
    text = _coded(LEFT_BEHIND_CODES, "是否留守儿童", labels=(YES, NO))(raw)
    return NO if text in ("", NO, LEFT_BEHIND_CODES["0"]) else YES


def _yes_no(heading: str) -> Callable:
    read = _coded(YES_NO_CODES, heading)
    return lambda raw: read(raw) or NO


def _disability_type(raw):
    text = _coded(DISABILITY_CODES, "残疾类型")(raw)
    return "" if text == DISABILITY_CODES["0"] else text


def _relation(raw):
    text = cell_text(raw)
    if text.isdigit():
        return _coded(RELATION_CODES, "成员1关系")(text)
    return text


def _id_number(raw):
    return _as_typed(raw, "身份证件号")


def _student_number(raw):
    return _as_typed(raw, "学籍号").upper()


def _school_code(raw):
    return _as_typed(raw, "学校标识码", whole_numbers=True)


def _phone(raw):
    return _as_typed(raw, "成员1联系电话", whole_numbers=True)


def _hukou(raw):
    # A name is turned into its code for the whole file at once (divisions_by_name).
    return _as_typed(raw, "户口所在地", whole_numbers=True)


def _text(raw):
    return cell_text(raw)


# -- How a stored value is written (the export in the national layout)


def _code_of(table: dict[str, str]) -> Callable:
    by_label = {label: code for code, label in table.items()}
    return lambda label: by_label.get(label, label or "")


def _written_flag(value) -> str:
    return "1" if value else "0"


def _written_disability(value) -> str:
    return next((str(n) for n, c in enumerate(DisabilityType, start=1) if c.value == value), "0")


def _written_grade(value) -> str:
    return next((code for code, grade in GRADE_CODES.items() if grade == value), "")


@dataclass(frozen=True)
class NationalColumn:
    heading: str
    # The template attribute it fills (id_type: the 身份证件类型, which the template lacks).
    attribute: str
    read: Callable
    write: Callable
    # How the import reads it, for the preview and the README.
    reads_as: str
    required: bool = False
    aliases: tuple[str, ...] = ()


def _plain(value):
    return "" if value is None else value


NATIONAL_COLUMNS: tuple[NationalColumn, ...] = (
    NationalColumn("姓名", "name", _text, _plain, "姓名", required=True),
    NationalColumn(
        "性别",
        "gender",
        _coded(GENDER_CODES, "性别"),
        lambda v: {"M": "1", "F": "2"}.get(v, ""),
        "1 男、2 女（也可填“男”“女”）",
        required=True,
    ),
    NationalColumn(
        "出生日期",
        "birth_date",
        _birth_date,
        lambda v: f"{v:%Y%m%d}" if v else "",
        "8位日期 YYYYMMDD，如 20150314",
        required=True,
    ),
    NationalColumn(
        "民族",
        "ethnicity",
        _ethnicity,
        _code_of(ETHNICITY_CODES),
        "两位代码（GB/T 3304，01 汉族 … 56 基诺族、97 其他、98 外国血统中国籍人士），也可填名称",
        required=True,
    ),
    NationalColumn(
        "身份证件类型",
        "id_type",
        _id_type,
        lambda v: v or IdType.RESIDENT.value,
        "1 居民身份证、6 香港特区护照/身份证明、7 澳门特区护照/身份证明、8 台湾居民来往大陆通行证、"
        "9 境外永久居住证、A 护照、Z 其他（也可填名称）",
        required=True,
    ),
    NationalColumn(
        "身份证件号",
        "id_number",
        _id_number,
        _plain,
        "按证件类型校验：居民身份证为18位（GB 11643 校验），其他证件按各自格式",
        required=True,
        aliases=("身份证件号码",),
    ),
    NationalColumn(
        "学籍号",
        "student_number",
        _student_number,
        _plain,
        "G + 18位身份证号（须与身份证件号一致），或 L 开头的学籍辅号，按原样保存",
        required=True,
        aliases=("全国学籍号", "学籍辅号"),
    ),
    NationalColumn(
        "学校标识码", "school_code", _school_code, _plain, "10位学校标识码", required=True
    ),
    NationalColumn(
        "年级",
        "grade",
        _grade,
        _written_grade,
        "年级代码 11–16（小学一至六年级）、21–23（初一至初三），也可填年级名称",
        required=True,
    ),
    NationalColumn(
        "班级",
        "class_name",
        _text,
        _plain,
        "班级名称，如“1班”",
        required=True,
        aliases=("班级名称",),
    ),
    NationalColumn(
        "入学年月",
        "entry_date",
        _entry_month,
        lambda v: f"{v:%Y%m}" if v else "",
        "6位年月 YYYYMM，如 202109（记为当月1日；系统中已有同月的入学日期时保留原日期）",
    ),
    NationalColumn(
        "户口所在地",
        "hukou_code",
        _hukou,
        _plain,
        "乡镇（9位）或村（12位）区划代码，或区划名称（如“南涧镇”或带省市县的全称）",
    ),
    NationalColumn("现住址", "address", _text, _plain, "现住址"),
    NationalColumn(
        "成员1姓名",
        "guardian_name",
        _text,
        _plain,
        "第一位家庭成员（监护人）姓名",
        aliases=("监护人姓名",),
    ),
    NationalColumn(
        "成员1关系",
        "guardian_relation",
        _relation,
        _plain,
        "关系名称（如“父亲”），或代码 51 父亲、52 母亲、61 祖父、62 祖母、63 外祖父、64 外祖母",
        aliases=("监护人关系",),
    ),
    NationalColumn(
        "成员1联系电话", "guardian_phone", _phone, _plain, "手机号或固话", aliases=("监护人电话",)
    ),
    NationalColumn(
        "是否留守儿童",
        KeyGroup.LEFT_BEHIND.value,
        _left_behind,
        _written_flag,
        "0 非留守儿童、1 单亲留守儿童、2 双亲留守儿童（1、2 记为农村留守儿童）",
    ),
    NationalColumn(
        "是否进城务工人员随迁子女",
        KeyGroup.MIGRANT.value,
        _yes_no("是否进城务工人员随迁子女"),
        _written_flag,
        "0 否、1 是",
    ),
    NationalColumn(
        "是否孤儿", KeyGroup.ORPHAN.value, _yes_no("是否孤儿"), _written_flag, "0 否、1 是"
    ),
    NationalColumn(
        "是否残疾", KeyGroup.DISABLED.value, _yes_no("是否残疾"), _written_flag, "0 否、1 是"
    ),
    NationalColumn(
        "残疾类型",
        "disability_type",
        _disability_type,
        _written_disability,
        "0 无残疾、1 视力残疾、2 听力残疾、3 言语残疾、4 肢体残疾、5 智力残疾、6 精神残疾、7 多重残疾",
    ),
)
BY_HEADING = {
    name: column for column in NATIONAL_COLUMNS for name in (column.heading, *column.aliases)
}
NATIONAL_HEADINGS = tuple(column.heading for column in NATIONAL_COLUMNS)
# The headings that only one layout has: they tell the layouts apart.
_TEMPLATE_ONLY = frozenset(HEADINGS) - BY_HEADING.keys()
_NATIONAL_ONLY = BY_HEADING.keys() - frozenset(HEADINGS)


def _quoted(headings: Iterable[str]) -> str:
    return "、".join(f"“{h}”" for h in headings)


def detect(heading_row: list) -> str:
    """TEMPLATE or NATIONAL from the first row's headings; AppError (as ValueError's text) for
    a row of neither layout — naming what each lacks — or of both."""
    headings = [cell_text(raw) for raw in heading_row]
    template = [h for h in headings if h in _TEMPLATE_ONLY]
    national = [h for h in headings if h in _NATIONAL_ONLY]
    if template and national:
        raise ValueError(
            f"第1行的列标题混用了两种格式：{_quoted(template)}是本系统花名册模板的列，"
            f"{_quoted(national)}是全国学籍系统导出格式的列。一个文件只能用一种格式："
            "请按模板重新整理，或直接上传全国学籍系统导出的原始文件。"
        )
    if template:
        return TEMPLATE
    present = set(headings)
    missing_national = [
        c.heading for c in NATIONAL_COLUMNS if c.required and not present & {c.heading, *c.aliases}
    ]
    if national and not missing_national:
        return NATIONAL
    missing_template = [h for h in HEADINGS if h not in present]
    if national:
        raise ValueError(
            f"第1行像是全国学籍系统导出格式，但缺少列{_quoted(missing_national)}："
            "请上传全国学籍系统导出的完整学生名单，不要删除或改名这些列。"
        )
    raise ValueError(
        "第1行的列标题既不是本系统花名册模板，也不是全国学籍系统导出格式："
        f"按花名册模板缺少列{_quoted(missing_template)}；"
        f"按全国学籍系统导出格式缺少列{_quoted(missing_national)}。"
        "请下载花名册模板填写，或上传全国学籍系统导出的原始文件。"
    )


@dataclass(frozen=True)
class Mapping:
    """How one heading of a national file is read."""

    heading: str
    column: NationalColumn | None  # None: a national column the ledger does not keep
    position: int


class NationalReader:
    """The columns of one national file, and its rows read into template rows."""

    def __init__(self, heading_row: list):
        self.mappings: list[Mapping] = []
        self.position: dict[str, int] = {}  # template attribute → position in the file
        repeated = []
        for position, raw in enumerate(heading_row):
            heading = cell_text(raw)
            if not heading:
                continue
            column = BY_HEADING.get(heading)
            if column is not None and column.attribute in self.position:
                repeated.append(heading)
                continue
            self.mappings.append(Mapping(heading, column, position))
            if column is not None:
                self.position[column.attribute] = position
        if repeated:
            raise ValueError(f"第1行有重复的列{_quoted(repeated)}：请删除重复的列后再上传。")
        named = {m.column.attribute: m.heading for m in self.mappings if m.column is not None}
        self._readers = [
            (column, self.position[column.attribute], named[column.attribute])
            for column in NATIONAL_COLUMNS
            if column.attribute in self.position
        ]
        # The file's heading of each template column: errors are told by the file's names.
        self.headings = {
            BY_ATTRIBUTE[column.attribute].heading: heading
            for column, _, heading in self._readers
            if column.attribute in BY_ATTRIBUTE
        }

    @property
    def carried(self) -> frozenset[str]:
        """The template attributes (and id_type) this file gives a value for."""
        return frozenset(self.position)

    def template_cells(self, cells: list) -> tuple[dict, list[tuple[str, str]]]:
        """The row's template cells by attribute (what the template's readers take), and the
        (heading, reason) of each cell that cannot be translated."""
        values, errors = {}, []
        width = len(cells)
        for column, position, heading in self._readers:
            try:
                values[column.attribute] = column.read(cells[position] if position < width else "")
            except ValueError as exc:
                errors.append((heading, str(exc)))
        return values, errors


def divisions_by_name(names: Iterable[str]) -> dict[str, str | ValueError]:
    """The code of each division name (乡镇 or 村, alone or after its 省/市/县 names), or the
    reason it is none: looked up once for the file. Administrative divisions are public
    reference data: not scoped."""
    names = {name for name in names if name and not name.isdigit()}
    suffixes = {name[start:] for name in names for start in range(len(name))}
    found: dict[str, list[Region]] = {}
    regions = Region.objects.filter(
        name__in=suffixes, level__gte=RegionLevel.TOWNSHIP
    ).select_related("parent__parent__parent__parent")
    for region in regions:
        found.setdefault(region.name, []).append(region)
    result: dict[str, str | ValueError] = {}
    for name in names:
        matches = [
            region
            for suffix in {name[start:] for start in range(len(name))}
            for region in found.get(suffix, ())
            if name in _full_names(region)
        ]
        if len(matches) == 1:
            result[name] = matches[0].code
        elif matches:
            result[name] = ValueError(
                f"户口所在地“{name}”对应多个区划（{'、'.join(r.code for r in matches)}）："
                "请填写区划代码，或带上所在县、市的名称。"
            )
        else:
            result[name] = ValueError(
                f"户口所在地“{name}”不是已知的乡镇或村：请填写区划代码，或核对名称。"
            )
    return result


def _full_names(region: Region) -> set[str]:
    """The region's name after each tail of its ancestors' names (南涧镇, 南涧彝族自治县南涧镇 …)."""
    names, text, current = set(), region.name, region
    names.add(text)
    while current.parent_id is not None:
        current = current.parent
        text = current.name + text
        names.add(text)
    return names


def row_values(values: dict) -> list:
    """One national row from a student's values keyed by template attribute (and id_type)."""
    return [column.write(values.get(column.attribute)) for column in NATIONAL_COLUMNS]


def reads_as() -> list[tuple[str, str]]:
    """(heading, how it is read) of every recognised column, for the page and the README."""
    return [(column.heading, column.reads_as) for column in NATIONAL_COLUMNS]
