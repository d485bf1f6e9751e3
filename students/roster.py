"""The roster (花名册) columns: one list shared by the import, the downloadable template and
the roster export, so that an exported roster can be uploaded again unchanged.

Each column knows how its cells are read (``parse``: a cell value to the value the services
take, ValueError with the Chinese reason otherwise) and written (``cell``: a student's value
to what the spreadsheet shows).
"""

import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from stdnum.cn import ric

from accounts.models import grade_label

from .choices import DisabilityGrade, DisabilityType, Gender, KeyGroup

TEXT, DATE, GENDER, GRADE, FLAG, DISABILITY_TYPE, DISABILITY_GRADE = (
    "text",
    "date",
    "gender",
    "grade",
    "flag",
    "disability_type",
    "disability_grade",
)
YES, NO = "是", "否"
SHEET_TITLE = "花名册"
HELP_SHEET_TITLE = "填写说明"
# Names in the template's example row start with this; the import skips such rows, so a
# roster filled in under the example does not create a fake child.
EXAMPLE_MARK = "（示例）"


@dataclass(frozen=True)
class Column:
    heading: str
    # The StudentData attribute it fills; guardian_*, school_code, class_name and
    # hukou_code are resolved by the import (see students/imports.py).
    attribute: str
    kind: str = TEXT
    required: bool = False
    help: str = ""
    # Codes and numbers that Excel would otherwise turn into numbers (losing digits).
    as_text: bool = False

    def parse(self, raw):
        """The cell's value for the services: "" or None when empty."""
        return self.parser(raw)

    @property
    def parser(self) -> Callable:
        """``parse`` as a plain function, for loops over many cells."""
        return _PARSERS[self.kind]

    def cell(self, value):
        """A student's value as the roster shows it."""
        return _FORMATTERS.get(self.kind, _plain)(value)


def _plain(value):
    return "" if value is None else value


def cell_text(raw) -> str:
    """A cell as text. Codes typed into a cell not formatted as text arrive as numbers
    (13812345678.0): they read back without the ".0"."""
    if type(raw) is str:  # nearly every cell: checked first
        return raw.strip()
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return YES if raw else NO
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime.datetime):
        return f"{raw:%Y-%m-%d}"
    return str(raw).strip()


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(raw) -> datetime.date | None:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = cell_text(raw)
    if not text:
        return None
    match = _DATE_TEXT.match(text) or (
        re.match(r"^(\d{4})(\d{2})(\d{2})$", text) if text.isdigit() else None
    )
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(f"“{text}”不是有效的日期，请填写如 2015-03-14 的日期。")


# Labels and values alike, in a dict: iterating the enum for every row is slow.
_GENDERS = {name: choice.value for choice in Gender for name in (choice.label, choice.value)}


def _gender(raw) -> str:
    text = cell_text(raw)
    if not text:
        return ""
    if text in _GENDERS:
        return _GENDERS[text]
    raise ValueError("性别应为“男”或“女”。")


_GRADE_NAMES = {grade_label(n): n for n in range(1, 10)} | {
    "初中一年级": 7,
    "初中二年级": 8,
    "初中三年级": 9,
    "七年级": 7,
    "八年级": 8,
    "九年级": 9,
}


def _grade(raw) -> int | None:
    text = cell_text(raw)
    if not text:
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)  # out of 1–9 is the services' rule to refuse
    if text in _GRADE_NAMES:
        return _GRADE_NAMES[text]
    raise ValueError("年级应填写1–9的数字，或“三年级”“初一”等年级名称。")


_FLAGS = {"": False, NO: False, YES: True}


def _flag(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = cell_text(raw)
    if text in _FLAGS:
        return _FLAGS[text]
    raise ValueError("应填写“是”或“否”（不填视为“否”）。")


def _disability_type(raw) -> str:
    text = cell_text(raw)
    if not text:
        return ""
    for choice in DisabilityType:
        if text == choice.label:
            return choice.value
    raise ValueError(f"残疾类型应为：{'、'.join(DisabilityType.labels)}。")


def _disability_grade(raw) -> int | None:
    text = cell_text(raw)
    if not text:
        return None
    for choice in DisabilityGrade:
        if text in (choice.label, str(choice.value)):
            return choice.value
    raise ValueError("残疾等级应为一级、二级、三级或四级。")


_PARSERS = {
    TEXT: cell_text,
    DATE: parse_date,
    GENDER: _gender,
    GRADE: _grade,
    FLAG: _flag,
    DISABILITY_TYPE: _disability_type,
    DISABILITY_GRADE: _disability_grade,
}
_FORMATTERS = {
    GENDER: lambda v: Gender(v).label if v else "",
    FLAG: lambda v: YES if v else NO,
    DISABILITY_TYPE: lambda v: DisabilityType(v).label if v else "",
    DISABILITY_GRADE: lambda v: DisabilityGrade(v).label if v else "",
}


ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", required=True, help="与户口簿一致。"),
    Column("性别", "gender", GENDER, required=True, help="填“男”或“女”，须与身份证号一致。"),
    Column(
        "出生日期",
        "birth_date",
        DATE,
        required=True,
        help="如 2015-03-14，须与身份证号中的出生日期一致，不能晚于今天。",
    ),
    Column("民族", "ethnicity", required=True, help="填写全称，如“汉族”“彝族”。"),
    Column(
        "身份证号",
        "id_number",
        as_text=True,
        help="18位，最后一位可为X。尚未办理身份证的可不填（系统会标记）。"
        "请保持文本格式，填成数字会丢失后几位。系统按身份证号识别已有学生并更新其信息。",
    ),
    Column(
        "学籍号",
        "student_number",
        as_text=True,
        help="全国中小学生学籍号。没有身份证号的学生按学籍号识别已有学生。",
    ),
    Column(
        "学校标识码",
        "school_code",
        required=True,
        as_text=True,
        help="10位学校标识码，只能填写您管辖范围内的学校。",
    ),
    Column("年级", "grade", GRADE, required=True, help="1–9，或“三年级”“初一”等。"),
    Column(
        "班级",
        "class_name",
        help="本学年该校该年级已建立的班级名称，如“1班”；可不填。",
    ),
    Column("入学日期", "entry_date", DATE, help="如 2021-09-01，可不填；不能晚于今天。"),
    Column(
        "户籍地区划代码",
        "hukou_code",
        as_text=True,
        help="户籍所在乡镇（9位）或村（12位）的统计用区划代码，可不填。",
    ),
    Column("现住址", "address", help="可不填。"),
    Column("监护人姓名", "guardian_name", help="填写监护人时必填。"),
    Column("监护人关系", "guardian_relation", help="如“父亲”“母亲”“祖父”。"),
    Column(
        "监护人电话",
        "guardian_phone",
        as_text=True,
        help="手机号（1开头11位）或固话（如0872-1234567）。",
    ),
    *(
        Column(group.label, group.value, FLAG, help="填“是”或“否”，不填视为“否”。")
        for group in KeyGroup
    ),
    Column(
        "残疾类型",
        "disability_type",
        DISABILITY_TYPE,
        help=f"“{KeyGroup.DISABLED.label}”为“是”时填写：{'、'.join(DisabilityType.labels)}。",
    ),
    Column(
        "残疾等级",
        "disability_grade",
        DISABILITY_GRADE,
        help=f"“{KeyGroup.DISABLED.label}”为“是”时填写：一级、二级、三级或四级。",
    ),
)
HEADINGS: tuple[str, ...] = tuple(column.heading for column in ROSTER_COLUMNS)
BY_ATTRIBUTE = {column.attribute: column for column in ROSTER_COLUMNS}


# Where each roster column's value lies, as a lookup from Student (guardian: the first).
SOURCES = {
    "school_code": "school__code",
    "class_name": "klass__name",
    "hukou_code": "hukou_region__code",
} | {
    column.attribute: column.attribute
    for column in ROSTER_COLUMNS
    if column.attribute not in ("school_code", "class_name", "hukou_code")
    and not column.attribute.startswith("guardian_")
}
GUARDIAN_ATTRIBUTES = ("guardian_name", "guardian_relation", "guardian_phone")


def row_values(values: dict) -> list:
    """One roster row from ``values`` keyed by column attribute (missing: empty)."""
    return [column.cell(values.get(column.attribute)) for column in ROSTER_COLUMNS]


def student_values(student) -> list:
    """One roster row for a loaded ``student`` (its school, class, 户籍地 and guardians)."""
    guardian = next(iter(student.guardians.all()), None)
    values = {
        "school_code": student.school.code,
        "class_name": student.klass.name if student.klass_id else "",
        "hukou_code": student.hukou_region.code if student.hukou_region_id else "",
    }
    for attribute in SOURCES.keys() - values.keys():
        values[attribute] = getattr(student, attribute)
    if guardian is not None:
        values.update(
            zip(
                GUARDIAN_ATTRIBUTES, (guardian.name, guardian.relation, guardian.phone), strict=True
            )
        )
    return row_values(values)


def _example_row(school_code: str) -> list:
    birth = datetime.date(2015, 3, 14)
    body = f"532926{birth:%Y%m%d}001"  # 17th digit odd: a boy
    example = {
        "name": f"{EXAMPLE_MARK}张小明",
        "gender": "男",
        "birth_date": birth,
        "ethnicity": "彝族",
        "id_number": body + ric.calc_check_digit(body + "0"),
        "student_number": f"G{body}{ric.calc_check_digit(body + '0')}",
        "school_code": school_code or "5329261001",
        "grade": 5,
        "class_name": "1班",
        "entry_date": datetime.date(2021, 9, 1),
        "hukou_code": "532926101202",
        "address": "南涧镇新政村3组",
        "guardian_name": "张大山",
        "guardian_relation": "父亲",
        "guardian_phone": "13812345678",
        KeyGroup.LEFT_BEHIND.value: YES,
    }
    return [example.get(c.attribute, NO if c.kind == FLAG else "") for c in ROSTER_COLUMNS]


def template_bytes(*, school_code: str = "") -> bytes:
    """The empty roster to fill in: headings, one example row (skipped by the import) and a
    填写说明 sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(list(HEADINGS))
    sheet.append(_example_row(school_code))
    sheet.freeze_panes = "B2"
    required_fill = PatternFill("solid", fgColor="FDE68A")
    for index, column in enumerate(ROSTER_COLUMNS, start=1):
        letter = get_column_letter(index)
        heading = sheet.cell(row=1, column=index)
        heading.font = Font(bold=True)
        if column.required:
            heading.fill = required_fill
        sheet.column_dimensions[letter].width = max(10, len(column.heading) * 2 + 4)
        # Formats the whole column, so that what people type later keeps its form.
        if column.as_text:
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
        elif column.kind == DATE:
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
    _add_choices(sheet)

    notes = workbook.create_sheet(HELP_SHEET_TITLE)
    notes.append(["列名", "是否必填", "填写说明"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in ROSTER_COLUMNS:
        notes.append([column.heading, "必填" if column.required else "", column.help])
    notes.append([])
    for line in (
        "第一行为列标题，请勿修改；从第二行起每行一名学生。示例行（姓名以“（示例）”开头）导入时会被跳过。",
        "每次最多导入 50000 行，文件不超过 20 MB，仅支持 .xlsx 格式。",
        "任何一行有错误时不会导入任何数据，系统会列出每个错误的行号、列名和原因，并提供标注了错误说明的文件供下载修改。",
        "已有学生（身份证号或学籍号相同）会按本表更新信息，监护人以本表为准；同一文件重复导入不会产生重复记录。",
        "学生转学、休学、辍学等学籍变动请在学生页面登记学籍异动，不能通过导入修改。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 90
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _add_choices(sheet) -> None:
    """Drop-down lists for the columns with a fixed set of answers."""
    lists = {
        GENDER: Gender.labels,
        FLAG: [YES, NO],
        DISABILITY_TYPE: DisabilityType.labels,
        DISABILITY_GRADE: DisabilityGrade.labels,
    }
    for kind, options in lists.items():
        letters = [
            get_column_letter(index)
            for index, column in enumerate(ROSTER_COLUMNS, start=1)
            if column.kind == kind
        ]
        validation = DataValidation(
            type="list", formula1='"' + ",".join(options) + '"', allow_blank=True
        )
        validation.error = f"请从下拉列表中选择：{'、'.join(options)}"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        for letter in letters:
            validation.add(f"{letter}2:{letter}50001")
