"""Spreadsheet export shared by every app: streaming writes, no formula injection.

Written with XlsxWriter in constant-memory mode: rows go to disk as they come, so memory
stays flat at any size. Every string is written as a string — never as a formula, URL or
number — so a cell starting with =, +, - or @ cannot run anything when the file is opened.
"""

import datetime
import os
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

import xlsxwriter

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd",
}


def write_workbook(
    target, title: str, headers: Sequence[str], rows: Iterable[Sequence], *, text_columns=()
) -> int:
    """Write one sheet to ``target`` (a path or a binary file); returns the data row count.

    ``text_columns``: indexes of columns stored as text even when a value looks numeric
    (ID numbers, codes), so spreadsheet programs keep every digit.
    """
    workbook = xlsxwriter.Workbook(target, _OPTIONS)
    sheet = workbook.add_worksheet(title)
    bold = workbook.add_format({"bold": True})
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    text = workbook.add_format({"num_format": "@"})
    for column, heading in enumerate(headers):
        sheet.write_string(0, column, heading, bold)
        sheet.set_column(
            column, column, max(10, len(heading) * 2 + 2), text if column in text_columns else None
        )
    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(count, column, "是" if value else "否")
            elif isinstance(value, int | float | Decimal) and column not in text_columns:
                sheet.write_number(count, column, value)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(count, column, value, dates)
            else:
                sheet.write_string(count, column, str(value))
    workbook.close()
    return count


def workbook_bytes(
    title: str, headers: Sequence[str], rows: Iterable[Sequence], **options
) -> tuple[bytes, int]:
    """The workbook as bytes, for results small enough to hold in memory."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        count = write_workbook(path, title, headers, rows, **options)
        with open(path, "rb") as result:
            return result.read(), count
    finally:
        os.unlink(path)
