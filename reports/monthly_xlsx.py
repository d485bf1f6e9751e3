"""The 《义务教育阶段学生辍学月报表》 as a sheet laid out like the paper form (002's 附件):
the merged title with the period, the header block 学校（盖章）, 报送时间, 填表人, 联系电话,
then the columns of DOMAIN.md §8 in order, bordered, on A4 landscape, one page wide, the
title rows repeated on every printed page and "第 &P 页，共 &N 页" in the footer.

Written with XlsxWriter in constant-memory mode (as kongchuo.xlsx): rows go to disk as they
come, so the county workbook of hundreds of schools stays at flat memory. One layout serves
the one version's download and every sheet of the county workbook. Strings are written as
strings, never formulas."""

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import xlsxwriter
from django.utils import timezone

from kongchuo.xlsx import _OPTIONS

from .monthly import shown_id
from .periods import ReportPeriod, period_of_report

TITLE = "义务教育阶段学生辍学月报表"
COLUMNS = (
    ("序号", 6),
    ("学校", 20),
    ("姓名", 10),
    ("性别", 6),
    ("年级", 8),
    ("班级", 10),
    ("身份证号码", 21),
    ("辍学原因", 16),
    ("是否为建档立卡贫困家庭子女", 14),
    ("控辍保学措施", 44),
)
HEADINGS = tuple(heading for heading, _ in COLUMNS)
LAST = len(COLUMNS) - 1
HEADING_ROW = 2  # 0: title, 1: header block, 2: column headings
FOOTER = "&C第 &P 页，共 &N 页"
LATE_MARK = "（逾期报送）"
UNSIGNED_MARK = "（未签发）"
A4 = 9


@dataclass(frozen=True)
class FormHeader:
    school: str
    period: ReportPeriod
    signed_on: str  # 报送时间: the signing date, or "" for a draft
    filled_by: str
    phone: str
    late: bool = False
    note: str = ""  # a version's mark: 第2版（更正：…）, 未签发 …


def title(period: ReportPeriod) -> str:
    return f"{TITLE}（{period.label}）"


def header_cells(header: FormHeader) -> tuple[str, str, str, str]:
    sent = header.signed_on or UNSIGNED_MARK
    if header.late:
        sent += LATE_MARK
    return (
        f"学校（盖章）：{header.school}",
        f"报送时间：{sent}",
        f"填表人：{header.filled_by}",
        f"联系电话：{header.phone}",
    )


# The header block's four cells span these columns (first, last).
HEADER_SPANS = ((0, 2), (3, 5), (6, 7), (8, 9))


class FormWorkbook:
    """A workbook of forms: ``add_form`` writes one sheet (and may be called for hundreds)."""

    def __init__(self, target):
        self.book = xlsxwriter.Workbook(target, _OPTIONS)
        add = self.book.add_format
        self.title = add({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.header = add({"font_size": 11, "valign": "vcenter"})
        self.heading = add(
            {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}
        )
        self.cell = add({"border": 1, "valign": "vcenter", "text_wrap": True})
        self.centre = add({"border": 1, "align": "center", "valign": "vcenter"})
        self.names: set[str] = set()

    def sheet_name(self, wanted: str) -> str:
        """A unique sheet name Excel accepts (31 characters, none of []:*?/\\)."""
        base = re.sub(r"[\[\]:*?/\\]", "", wanted)[:28] or "Sheet"
        name, n = base, 1
        while name.lower() in self.names:
            n += 1
            name = f"{base[: 27 - len(str(n))]}({n})"
        self.names.add(name.lower())
        return name

    def sheet(self, name: str, *, landscape: bool = True):
        sheet = self.book.add_worksheet(self.sheet_name(name))
        if landscape:
            sheet.set_landscape()
        sheet.set_paper(A4)
        sheet.fit_to_pages(1, 0)
        sheet.set_footer(FOOTER)
        sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        return sheet

    def add_form(self, name: str, header: FormHeader, rows: Iterable, *, reveal: bool) -> int:
        """One form on a sheet of its own; ``rows`` are ReportRow-like objects (or dicts of
        their fields). Returns the row count."""
        sheet = self.sheet(name)
        for column, (_, width) in enumerate(COLUMNS):
            sheet.set_column(column, column, width)
        sheet.repeat_rows(0, HEADING_ROW)
        sheet.set_row(0, 30)
        sheet.merge_range(0, 0, 0, LAST, title(header.period), self.title)
        sheet.set_row(1, 22)
        for (first, last), text in zip(HEADER_SPANS, header_cells(header), strict=True):
            sheet.merge_range(1, first, 1, last, text, self.header)
        for column, heading in enumerate(HEADINGS):
            sheet.write_string(HEADING_ROW, column, heading, self.heading)
        count = 0
        for count, row in enumerate(rows, start=1):
            get = row.get if isinstance(row, dict) else row.__getattribute__
            values = (
                get("school_name"),
                get("name"),
                get("gender"),
                get("grade"),
                get("class_name"),
                shown_id(get("id_number"), reveal),
                get("reason"),
                "是" if get("poverty_registered") else "否",
                get("measures"),
            )
            at = HEADING_ROW + count
            sheet.write_number(at, 0, count, self.centre)
            for column, value in enumerate(values, start=1):
                sheet.write_string(at, column, value or "", self.cell)
        if header.note:
            sheet.write_string(HEADING_ROW + count + 2, 0, header.note, self.header)
        return count

    def close(self) -> None:
        self.book.close()


def version_header(version, *, note: str = "") -> FormHeader:
    """The header block of a saved version (its report and school loaded)."""
    report = version.report
    signed_on = f"{timezone.localtime(version.signed_at):%Y-%m-%d}" if version.signed_at else ""
    if not note and version.number > 1:
        note = f"第{version.number}版，更正原因：{version.correction_reason}"
    return FormHeader(
        school=report.school.name,
        period=period_of_report(report),
        signed_on=signed_on,
        filled_by=version.filled_by,
        phone=version.phone,
        late=version.late,
        note=note,
    )


def version_workbook(version, rows, *, reveal: bool) -> bytes:
    """One version's form as an XLSX file's bytes."""
    buffer = io.BytesIO()
    book = FormWorkbook(buffer)
    book.add_form(version.report.school.name, version_header(version), rows, reveal=reveal)
    book.close()
    return buffer.getvalue()


def version_filename(version) -> str:
    report = version.report
    return (
        f"辍学月报表-{report.school.name}-{report.year}{report.month:02d}-第{version.number}版.xlsx"
    )
