"""Reading the lists a county uploads for comparison (issue 13 rule 1): CSV in UTF-8 (with or
without BOM) or GBK/GB18030 — detected, never guessed into mojibake — and Excel (.xlsx,
read with python-calamine). The whole-file checks come first and cost nothing: a file over
the size limit is refused by its size before it is read, a workbook that would inflate past
the limit (a zip bomb) by its zip directory before it is unpacked.

A list's first non-empty row holds its headings; the rows after it are its data, numbered as
a spreadsheet program shows them (empty rows are skipped, not renumbered)."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from kongchuo import spreadsheets
from kongchuo.errors import AppError
from kongchuo.spreadsheets import GB18030 as GB18030
from kongchuo.spreadsheets import UTF8 as UTF8
from kongchuo.spreadsheets import UTF8_BOM as UTF8_BOM
from kongchuo.spreadsheets import UTF16 as UTF16
from kongchuo.spreadsheets import XLSX
from students.roster import cell_text

# Defaults of the limits (settings COMPARISON_MAX_BYTES and COMPARISON_MAX_UNZIPPED_BYTES):
# a province's 1,000,000-row household list is about 100 MB of CSV.
MAX_BYTES = 150 * 1024 * 1024
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
# Excel's own limit: a sheet cannot hold more.
MAX_XLSX_ROWS = 1_048_576
PREVIEW_ROWS = 5

TOO_LARGE_ADVICE = "请删除不需要比对的列后另存为 CSV（CSV 比 .xlsx 小得多）再上传。"


def max_bytes() -> int:
    return getattr(settings, "COMPARISON_MAX_BYTES", MAX_BYTES)


def max_unzipped_bytes() -> int:
    return getattr(settings, "COMPARISON_MAX_UNZIPPED_BYTES", MAX_UNZIPPED_BYTES)


@dataclass
class Table:
    """A list as read: its headings and its non-empty data rows, (row number, cells), the
    cells as text (CSV) or as the workbook holds them (numbers, dates). The rows are read
    as they are consumed, once."""

    name: str
    size: int
    sha256: str
    encoding: str
    headings: list[str]
    heading_row: int
    rows: Iterator[tuple[int, list]] = field(repr=False)
    # About how many data rows there are, for the progress shown while they are read.
    estimated_rows: int = 0


def _size_of(file) -> int:
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        size = file.seek(0, 2) - position
        file.seek(position)
    return size


def read(file, *, name: str = "") -> Table:
    """The list in ``file`` (a binary file, e.g. an upload). AppError for a file refused as
    a whole: empty, too large, not a list we can read, garbled, without data rows."""
    name = name or getattr(file, "name", "") or ""
    limit = max_bytes()
    spreadsheets.check_size(_size_of(file), limit, advice=TOO_LARGE_ADVICE)
    if hasattr(file, "seek"):
        file.seek(0)
    content = file.read(limit + 1)
    size = len(content)
    spreadsheets.check_size(size, limit, advice=TOO_LARGE_ADVICE)
    if not content:
        raise AppError("文件是空的，请选择要比对的名单（CSV 或 .xlsx）。")
    digest = hashlib.sha256(content).hexdigest()
    if content.startswith(spreadsheets.ZIP_MAGIC):
        sheet = _workbook_rows(content)
        records, encoding, estimate = iter(enumerate(sheet, start=1)), XLSX, len(sheet)
    elif content.startswith(spreadsheets.OLE_MAGIC):
        raise AppError(spreadsheets.OLD_XLS)
    else:
        text, encoding = spreadsheets.decode(content)
        del content  # only the text is kept while the rows are read
        records, estimate = spreadsheets.csv_rows(text), text.count("\n")
    heading_row, headings = _headings(records)
    rows = ((number, cells) for number, cells in records if _filled(cells))
    first = next(rows, None)
    if first is None:
        raise AppError(
            f"文件只有第{heading_row}行的列标题，没有数据行：请从标题的下一行起每行填写一人。"
        )
    return Table(
        name, size, digest, encoding, headings, heading_row, _prepend(first, rows), estimate
    )


def _prepend(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest


def _workbook_rows(content: bytes) -> list[list]:
    spreadsheets.check_xlsx(content, max_unzipped=max_unzipped_bytes(), what="名单")
    sheet = spreadsheets.read_sheet(
        content,
        max_rows=MAX_XLSX_ROWS,
        too_many="文件有 {rows} 行数据，超过 {limit} 行的上限。",
    )
    return sheet


def _filled(cells: list) -> bool:
    return any(cell not in ("", None) and (type(cell) is not str or cell.strip()) for cell in cells)


def _headings(records: Iterator[tuple[int, list]]) -> tuple[int, list[str]]:
    """The first non-empty row, as headings: empty ones named by their column, repeated ones
    numbered, so that every column can be told apart on the mapping page."""
    for number, cells in records:
        if not _filled(cells):
            continue
        texts = [cell_text(cell) for cell in cells]
        while texts and not texts[-1]:
            texts.pop()
        headings: list[str] = []
        for position, text in enumerate(texts, start=1):
            heading = text or f"第{position}列"
            repeat = 2
            while heading in headings:
                heading, repeat = f"{text or f'第{position}列'}（{repeat}）", repeat + 1
            headings.append(heading)
        return number, headings
    raise AppError("文件中没有内容：第一行应为列标题，从下一行起每行填写一人。")


def preview(table: Table, count: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first ``count`` data rows as text, one cell per heading, for the mapping page
    (consumes the rows)."""
    shown = []
    for _, cells in table.rows:
        texts = [cell_text(cell) for cell in cells[: len(table.headings)]]
        shown.append(texts + [""] * (len(table.headings) - len(texts)))
        if len(shown) == count:
            break
    return shown
