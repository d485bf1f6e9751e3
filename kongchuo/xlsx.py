"""Spreadsheet export shared by every app: streaming writes, no formula injection."""

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@")


def text_cell(sheet, value):
    """A cell that holds ``value`` as written: a string that looks like a formula stays text."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
    return cell


def workbook_bytes(
    title: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> tuple[bytes, int]:
    """One sheet, a bold header row, then ``rows``; returns the file and the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    header_cells = []
    for heading in headers:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append([text_cell(sheet, value) for value in row])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count
