"""Reading uploaded spreadsheets safely, shared by every import (the roster, the comparison
lists, attendance sheets): the whole-file checks made before anything is parsed — too large a
file, something that is not an .xlsx, a zip bomb — the reading of one sheet with
python-calamine, and CSV text in UTF-8 (with or without BOM) or GBK/GB18030 — detected,
never guessed into mojibake."""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator

from python_calamine import CalamineError, CalamineWorkbook

from .errors import AppError

NOT_XLSX = (
    "文件不是有效的 Excel（.xlsx）文件。旧版 .xls 或其他格式请在 Excel 中“另存为” .xlsx 后再上传。"
)
# An .xlsx is a zip archive; an old .xls (and a .doc) is an OLE compound file.
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.3g} MB"


def check_size(size: int, limit: int, *, advice: str) -> None:
    """Refuse a file over ``limit`` bytes, by its size alone: nothing of it needs reading."""
    if size > limit:
        raise AppError(f"文件大小为 {megabytes(size)}，超过 {megabytes(limit)} 的上限，{advice}")


def check_xlsx(content: bytes, *, max_unzipped: int, what: str) -> None:
    """Refuse what is not an .xlsx workbook, and a workbook that would inflate past
    ``max_unzipped`` bytes (a zip bomb: a few MB of zip can unpack to gigabytes), from the
    archive's directory alone, before the reader unpacks anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise AppError(NOT_XLSX) from None
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise AppError(NOT_XLSX)
    if sum(member.file_size for member in members) > max_unzipped:
        raise AppError(
            f"文件解压后超过 {megabytes(max_unzipped)}，不像是一份{what}。"
            "请删除无关的工作表、图片后另存为新的 .xlsx 文件再上传。"
        )


def read_sheet(
    content: bytes, *, title: str | None = None, max_rows: int, too_many: str
) -> list[list]:
    """The cells of the sheet titled ``title`` (else the first) as Python values, one list
    per row; leading empty rows are kept, so that list index + 1 is the row number Excel
    shows. [] for an empty sheet. More than ``max_rows`` rows below the first is refused
    before the cells are converted, with ``too_many`` formatted with ``rows`` and ``limit``."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if title is not None and title in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(title)
        else:
            sheet = workbook.get_sheet_by_index(0)
        if sheet.end is None:
            return []
        below_first = sheet.end[0]  # the last filled row, 0-based
        if below_first > max_rows:
            raise AppError(too_many.format(rows=below_first, limit=max_rows))
        return sheet.to_python(skip_empty_area=False)
    except CalamineError:
        raise AppError(NOT_XLSX) from None


UTF8, UTF8_BOM, UTF16, GB18030, XLSX = "UTF-8", "UTF-8（带BOM）", "UTF-16", "GB18030", "XLSX"

GARBLED = (
    "无法识别文件的文字编码（不是 UTF-8，也不是 GBK/GB18030），按任何一种读出来都是乱码，"
    "未读取任何数据。请在 Excel 或 WPS 中打开文件，“另存为”“CSV UTF-8（逗号分隔）”"
    "或 Excel 工作簿（.xlsx）后再上传。"
)
OLD_XLS = "这是旧版 Excel（.xls）文件：请在 Excel 或 WPS 中“另存为” Excel 工作簿（.xlsx）或 CSV 后再上传。"

# Characters no text list holds: control characters, and U+FFFD, the mark an earlier
# program left where it could not read a character (the file is mojibake already).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
# How much of a GB18030 reading is looked at to tell Chinese text from bytes that merely
# decode: real lists are written almost wholly in the common characters of GB 2312.
_SAMPLE = 200_000
_COMMON_SHARE = 0.8


def decode(content: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was found in (a label above). UTF-8 is tried first: bytes
    in any other encoding of Chinese almost never read as valid UTF-8. What is left is read
    as GB18030 (which contains GBK and GB 2312) and kept only if it reads as Chinese."""
    for bom, codec, label in (
        (codecs.BOM_UTF8, "utf-8", UTF8_BOM),
        (codecs.BOM_UTF16_LE, "utf-16", UTF16),
        (codecs.BOM_UTF16_BE, "utf-16", UTF16),
    ):
        if content.startswith(bom):
            try:
                text = content.decode(codec)
            except UnicodeDecodeError:
                raise AppError(GARBLED) from None
            return _checked(text.removeprefix("\ufeff")), label
    try:
        return _checked(content.decode("utf-8")), UTF8
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError:
        raise AppError(GARBLED) from None
    if not _reads_as_chinese(text):
        raise AppError(GARBLED)
    return _checked(text), GB18030


def _reads_as_chinese(text: str) -> bool:
    """Whether a GB18030 reading is Chinese text rather than other bytes that happen to
    decode: nearly all of its non-ASCII characters are common ones (GB 2312)."""
    sample = [ch for ch in text[:_SAMPLE] if ord(ch) > 127]
    if not sample:
        return True
    common = 0
    for ch in sample:
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 1
    return common >= _COMMON_SHARE * len(sample)


def _checked(text: str) -> str:
    found = _NOT_TEXT.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise AppError(
            f"文件第{line}行有无法识别的字符（控制字符或乱码），像是编码有误或不是文本文件，"
            "未读取任何数据。请在 Excel 或 WPS 中打开文件核对，“另存为”“CSV UTF-8（逗号分隔）”"
            "或 Excel 工作簿（.xlsx）后再上传。"
        )
    return text


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, one at a time: csv reads quoted fields
    that span lines from them, and no second copy of a 100 MB text is made."""
    find, start, end = text.find, 0, len(text)
    while start < end:
        stop = find("\n", start) + 1 or end
        yield text[start:stop]
        start = stop


def _delimiter(text: str) -> str:
    """Comma, or tab for the "Unicode text" Excel saves: whichever the first line has more of."""
    first = text[: text.find("\n")] if "\n" in text else text
    return "\t" if first.count("\t") > first.count(",") else ","


def csv_rows(text: str) -> Iterator[tuple[int, list]]:
    try:
        reader = csv.reader(_lines(text), delimiter=_delimiter(text), strict=False)
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise AppError(
            f"CSV 文件格式有误（{exc}），请用 Excel 或 WPS 打开后重新另存为 CSV。"
        ) from None
