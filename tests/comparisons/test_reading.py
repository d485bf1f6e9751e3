"""Reading the comparison lists (issue 13 rule 1, "Bad input"): CSV in UTF-8 with or without
BOM, GBK and GB18030 (detected), XLSX; garbage is refused with a clear message instead of
being read as mojibake; too large a file, a zip bomb, an empty file and a file without data
rows are refused as a whole."""

import codecs
import datetime
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from openpyxl import Workbook

from comparisons import reading
from kongchuo.errors import AppError

HEADINGS = ["姓名", "公民身份号码", "出生日期", "性别", "户籍地"]
ROWS = [
    ["李小明", "532926201703140011", "2017-03-14", "男", "南涧镇新政村"],
    ["王芳", "53292620170520002X", "2017/5/20", "女", "西山村"],
]


def csv_bytes(rows=ROWS, headings=HEADINGS, encoding="utf-8", *, bom=b"") -> bytes:
    lines = [",".join(headings), *(",".join(row) for row in rows)]
    return bom + ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows=ROWS, headings=HEADINGS, *, leading_empty=0) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for _ in range(leading_empty):
        sheet.append([])
    if headings:
        sheet.append(headings)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(content: bytes, name="名单.csv") -> reading.Table:
    return reading.read(ContentFile(content, name=name))


def rows_of(table: reading.Table) -> list:
    return [(number, [str(c) for c in cells]) for number, cells in table.rows]


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-8", b"", reading.UTF8),
        ("utf-8", codecs.BOM_UTF8, reading.UTF8_BOM),
        ("gbk", b"", reading.GB18030),
        ("gb18030", b"", reading.GB18030),
    ],
)
def test_csv_encodings_are_detected(encoding, bom, label):
    """Rule 1: UTF-8 (with and without BOM), GBK and GB18030 are told apart by themselves."""
    table = read(csv_bytes(encoding=encoding, bom=bom))
    assert table.encoding == label
    assert table.headings == HEADINGS
    assert rows_of(table) == [(2, ROWS[0]), (3, ROWS[1])]


def test_a_gb18030_only_character_is_read():
    """A rare character outside GBK (here 𠀾, four bytes in GB18030) reads correctly."""
    rows = [["李𠀾", "532926201703140011", "2017-03-14", "男", "新政村"]]
    table = read(csv_bytes(rows, encoding="gb18030"))
    assert table.encoding == reading.GB18030 and rows_of(table)[0][1][0] == "李𠀾"


def test_utf16_text_saved_by_excel_is_read_with_tabs():
    content = codecs.BOM_UTF16_LE + "姓名\t身份证号\r\n李小明\t532926201703140011\r\n".encode(
        "utf-16-le"
    )
    table = read(content, name="名单.txt")
    assert table.encoding == reading.UTF16
    assert table.headings == ["姓名", "身份证号"]
    assert rows_of(table) == [(2, ["李小明", "532926201703140011"])]


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 20,  # random-looking binary
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,  # an image
        "姓名,身份证号\n李小明,1\n".encode("utf-16-le"),  # UTF-16 without BOM: NULs
        "姓名,身份證號\n陳小明,532926201703140011\n".encode("big5"),  # Big5, not GBK
    ],
    ids=["binary", "png", "utf16-no-bom", "big5"],
)
def test_garbage_gives_a_clear_message_not_mojibake_rows(content):
    """Bad input: wrong encoding — a clear message in Chinese, never rows of mojibake."""
    with pytest.raises(AppError) as refused:
        read(content)
    message = refused.value.message
    assert "乱码" in message or "无法识别的字符" in message
    assert "CSV UTF-8" in message  # says how to fix it


def test_headings_are_the_first_non_empty_row_and_rows_keep_their_numbers():
    content = "\n\n,,\n姓名,身份证号,\n李小明,532926201703140011,\n,,\n王芳,,\n".encode()
    table = read(content)
    assert table.heading_row == 4
    assert table.headings == ["姓名", "身份证号"]
    assert [number for number, _ in table.rows] == [5, 7]


def test_empty_and_repeated_headings_are_named_apart():
    table = read("姓名,,备注,备注\n李小明,x,a,b\n".encode())
    assert table.headings == ["姓名", "第2列", "备注", "备注（2）"]


def test_xlsx_is_read_with_its_typed_cells():
    rows = [["李小明", "532926201703140011", datetime.date(2017, 3, 14), "男", "新政村"]]
    table = read(xlsx_bytes(rows, leading_empty=2), name="名单.xlsx")
    assert table.encoding == reading.XLSX and table.heading_row == 3
    assert table.headings == HEADINGS
    ((number, cells),) = list(table.rows)
    assert number == 4 and cells[0] == "李小明"
    assert isinstance(cells[2], datetime.date) and cells[2].timetuple()[:3] == (2017, 3, 14)


def test_the_format_is_told_by_the_content_not_the_name():
    assert read(xlsx_bytes(), name="名单.csv").encoding == reading.XLSX
    assert read(csv_bytes(), name="名单.xlsx").encoding == reading.UTF8


def test_an_old_xls_is_refused_with_the_fix():
    with pytest.raises(AppError, match=r"旧版 Excel（\.xls）.*另存为"):
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="名单.xls")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件是空的"),
        (b"\r\n\r\n,,\r\n", "文件中没有内容"),
        (csv_bytes(rows=[]), "没有数据行"),
        (csv_bytes(rows=[[""] * 5]), "没有数据行"),
        (xlsx_bytes(rows=[], headings=[]), "文件中没有内容"),
        (xlsx_bytes(rows=[]), "没有数据行"),
    ],
    ids=["empty", "blank-lines", "headings-only", "empty-row", "empty-xlsx", "xlsx-headings"],
)
def test_an_empty_file_or_one_without_data_rows_is_refused(content, message):
    """Bad input: an empty file."""
    with pytest.raises(AppError, match=message):
        read(content)


class _Unreadable(io.BytesIO):
    """A file that says it is large and must not be read."""

    size = 200 * 1024 * 1024

    def read(self, *args):
        raise AssertionError("a file over the limit must be refused before it is read")


def test_a_200_mb_file_is_refused_before_it_is_read():
    """Bad input: a 200 MB file — refused by its size, with the limit named."""
    with pytest.raises(AppError, match=r"文件大小为 200 MB，超过 150 MB 的上限"):
        reading.read(_Unreadable(), name="名单.csv")


def test_the_size_limit_is_a_setting(settings):
    settings.COMPARISON_MAX_BYTES = 100
    with pytest.raises(AppError, match="超过 .* 的上限"):
        read(csv_bytes())
    settings.COMPARISON_MAX_BYTES = 10_000
    assert read(csv_bytes()).headings == HEADINGS


def test_a_file_without_a_size_is_still_limited(settings):
    settings.COMPARISON_MAX_BYTES = 100
    with pytest.raises(AppError, match="上限"):
        reading.read(io.BytesIO(csv_bytes() * 5), name="名单.csv")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(settings):
    """Bad input: a zip bomb — a small upload whose members would inflate past the limit."""
    settings.COMPARISON_MAX_UNZIPPED_BYTES = 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (8 * 1024 * 1024))
    bomb = buffer.getvalue()
    assert len(bomb) < 20_000
    with pytest.raises(AppError, match="解压后超过 1 MB，不像是一份名单"):
        read(bomb, name="名单.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", b"<w/>")
    with pytest.raises(AppError, match=r"不是有效的 Excel（\.xlsx）"):
        read(buffer.getvalue(), name="名单.xlsx")


def test_the_hash_is_of_the_bytes():
    content = csv_bytes()
    assert read(content).sha256 == read(content).sha256
    assert read(content).sha256 != read(content + b"\r\n").sha256


def test_preview_gives_the_first_rows_as_text_one_cell_per_heading():
    rows = [["李小明", "1"], ["王芳", "2", "多余"], ["张三", "3"]]
    table = read(csv_bytes(rows, headings=["姓名", "身份证号"]))
    assert reading.preview(table, 2) == [["李小明", "1"], ["王芳", "2"]]
