"""The printable documents of a case (issue 12 item 7): each renders to an A4 PDF whose text
reads back with the child's name and the form's heading, with the vendored CJK fonts embedded;
the renderer fetches nothing but our own static files."""

import datetime
import io

import pytest
from django.template import Context, Template
from pypdf import PdfReader

from kongchuo import pdf
from returns import documents, services
from returns.choices import Method, Step
from tests.returns.conftest import OFFICIAL, days, visit, working

CHILD = "张小淏"  # 淏: a name character outside the smaller chinese-simplified font subset

STUDENT = {
    "name": CHILD,
    "gender": "男",
    "ethnicity": "彝族",
    "birth_date": datetime.date(2013, 5, 6),
    "id_number": "532926********0012",
    "student_number": "G532926201305060012",
    "hukou": "云南省大理白族自治州南涧彝族自治县南涧镇",
    "address": "南涧镇新政村三组",
}

CONTEXTS = {
    "survey.html": {
        "reporting_unit": "南涧镇初级中学",
        "filled_on": datetime.date(2026, 3, 2),
        "filled_by": "李老师",
        "student": STUDENT,
        "school_name": "南涧镇初级中学",
        "grade": "七年级",
        "class_name": "2班",
        "dropout_date": datetime.date(2026, 2, 20),
        "record_check": "本省有学籍",
        "guardians": [
            {"name": "张大山", "relation": "父亲", "phone": "138****5678", "work": "昆明务工"}
        ],
        "family_situation": "父母外出务工，由祖父母照看。",
        "reason": "厌学",
        "other_reasons": ["外出打工"],
        "whereabouts": "在家",
        "person_status": "在家帮忙务农",
        "key_groups": ["留守儿童", "脱贫家庭"],
        "responsible_township": "南涧镇人民政府",
    },
    "return_notice.html": {
        "document_number": "南涧镇劝字〔2026〕3号",
        "guardian_name": "张大山",
        "student_name": CHILD,
        "school_name": "南涧镇初级中学",
        "grade": "七年级",
        "dropout_date": datetime.date(2026, 2, 20),
        "return_by": datetime.date(2026, 3, 9),
        "contact_name": "王干部",
        "contact_phone": "0872-1234567",
        "issuer": "南涧镇人民政府",
        "issued_on": datetime.date(2026, 3, 2),
    },
    "correction_order.html": {
        "document_number": "南涧镇责改字〔2026〕1号",
        "guardian_name": "张大山",
        "student_name": CHILD,
        "school_name": "南涧镇初级中学",
        "grade": "七年级",
        "dropout_date": datetime.date(2026, 2, 20),
        "persuasion_count": 3,
        "deadline": datetime.date(2026, 3, 20),
        "issuer": "南涧镇人民政府",
        "issued_on": datetime.date(2026, 3, 10),
    },
    "action_record.html": {
        "student_name": CHILD,
        "gender": "男",
        "birth_date": datetime.date(2013, 5, 6),
        "school_name": "南涧镇初级中学",
        "grade": "七年级",
        "guardian_name": "张大山",
        "guardian_phone": "138****5678",
        "responsible_township": "南涧镇人民政府",
        "team": [
            {"name": "王干部", "duty": "包保干部"},
            {"name": "赵村干", "duty": "驻村干部"},
            {"name": "李老师", "duty": "教师"},
        ],
        "actions": [
            {
                "date": datetime.date(2026, 2, 24),
                "method": "上门",
                "departments": [],
                "participants": "王干部、李老师",
                "result": "监护人在外务工，与祖父母沟通。",
                "step": "宣传教育",
            },
            {
                "date": datetime.date(2026, 3, 3),
                "method": "联合劝返",
                "departments": ["公安", "村委会"],
                "participants": "王干部、赵村干",
                "result": "监护人表示考虑。",
                "step": "宣传教育",
            },
        ],
        "current_step": "责令改正",
        "outcome": "",
    },
}

# The heading each document must read back with, and further text it must carry.
EXPECTED = {
    "survey.html": ["辍学学生基本情况调查表", "家庭情况", "户籍地", "重点群体", "留守儿童", "厌学"],
    "return_notice.html": ["辍学劝返复学通知书", "南涧镇初级中学", "2026年3月9日", "回执"],
    "correction_order.html": [
        "责令限期改正通知书",
        "中华人民共和国义务教育法",
        "第五条",
        "第五十八条",
        "2026年3月20日",
        "南涧镇人民政府",
        "送达回证",
    ],
    "action_record.html": ["劝返情况记录表", "联合劝返", "公安", "王干部", "责令改正"],
}


def _template(name: str) -> str:
    return f"returns/documents/{name}"


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {name: pdf.render_pdf(_template(name), context) for name, context in CONTEXTS.items()}


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # Layout extraction may put spaces between CJK glyphs; compare without any whitespace.
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def _fonts(data: bytes) -> list[tuple[str, bool]]:
    """(base font name, embedded?) of every font the pages use, descendants included."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for each in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
                descriptor = each.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                embedded = any(key in descriptor for key in ("/FontFile2", "/FontFile3"))
                found.append((str(each["/BaseFont"]), embedded))
    return found


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_a4_pages(rendered, name):
    pages = PdfReader(io.BytesIO(rendered[name])).pages
    assert pages
    for page in pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.28) <= 1 and abs(height - 841.89) <= 1


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_text_reads_back(rendered, name):
    text = _text(rendered[name])
    assert CHILD in text
    for expected in EXPECTED[name]:
        assert expected in text, expected


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_fonts_embedded(rendered, name):
    fonts = _fonts(rendered[name])
    assert fonts and all(embedded for _, embedded in fonts), fonts
    names = _font_names(rendered[name])
    assert any(n.startswith("NotoSerifSC") for n in names), names  # 宋体: the text
    assert any(n.startswith("NotoSansSC") for n in names), names  # 黑体: headings, labels
    assert all(n.startswith(("NotoSerifSC", "NotoSansSC")) for n in names), names


def test_one_page_forms(rendered):
    """The survey and the notices fit on one sheet, as on paper."""
    for name in ("survey.html", "return_notice.html", "correction_order.html"):
        assert len(PdfReader(io.BytesIO(rendered[name])).pages) == 1, name


def test_values_are_escaped():
    context = {**CONTEXTS["return_notice.html"], "student_name": '<b>张三</b><img src="x">'}
    text = _text(pdf.render_pdf(_template("return_notice.html"), context))
    assert "<b>张三</b>" in text


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/static/vendor/fonts/fonts.css",
        "http://documents.invalid/static/vendor/fonts/fonts.css",  # right host, not https
        "https://documents.invalid.example.com/static/vendor/fonts/fonts.css",
        "https://documents.invalid/media/returns/attachments/x.jpg",  # not a static file
        "https://documents.invalid/static/../../../etc/passwd",
        "https://documents.invalid/static/%2E%2E/%2E%2E/etc/passwd",
        "https://documents.invalid/static/nothing-here.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
        "ftp://example.com/x",
    ],
)
def test_fetcher_refuses_everything_but_static_files(url):
    with pytest.raises(pdf.DocumentResourceRefused):
        pdf.url_fetcher().fetch(url)


def test_fetcher_serves_static_files():
    response = pdf.url_fetcher().fetch(pdf.BASE_URL + "static/vendor/fonts/fonts.css")
    assert b"Noto Serif SC" in response.read()


def test_remote_reference_in_a_document_is_not_fetched(monkeypatch):
    """A remote image or stylesheet in a document is skipped, and no socket is opened."""
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("a document tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    context = {
        **CONTEXTS["return_notice.html"],
        "header_note": "案件编号 1",
    }
    html = pdf.render_html(_template("return_notice.html"), context)
    html = html.replace(
        "</head>",
        '<link rel="stylesheet" href="https://example.com/x.css"></head>',
    ).replace("</body>", '<img src="http://example.com/x.png"></body>')
    assert CHILD in _text(pdf.html_to_pdf(html))


def _font_names(data: bytes) -> set[str]:
    # WeasyPrint names them "ABCDEF+Noto-Serif-SC", "ABCDEF+Noto-Sans-SC-Medium".
    return {font.split("+", 1)[-1].replace("-", "") for font, _ in _fonts(data)}


@pytest.mark.parametrize(
    ("face", "weight", "expected"),
    [
        ("宋体", 400, {"NotoSerifSC"}),
        ("楷体", 400, {"NotoSerifSC"}),
        # The page numbers at the foot are 宋体.
        ("黑体", 500, {"NotoSerifSC", "NotoSansSCMedium"}),
    ],
)
def test_song_hei_kai_map_to_the_vendored_fonts(face, weight, expected):
    """Issue 12 rule 7: the faces a form names, 宋体/黑体/楷体, are mapped to installed fonts —
    the vendored ones, never a CJK face the machine has of its own (this one has WenQuanYi
    Zen Hei)."""
    html = Template(
        '{% extends "returns/documents/base.html" %}{% block content %}'
        f'<p style="font-family: var(--{face}); font-weight: {weight}">{{{{ name }}}}</p>'
        "{% endblock %}"
    ).render(Context({"name": CHILD}))
    data = pdf.html_to_pdf(html)
    assert CHILD in _text(data)
    assert _font_names(data) == expected


# From a real case, through the builders of returns/documents.py.


@pytest.fixture
def ordered_case(world, child):
    case = working(world, child)
    visit(world, case)
    visit(world, case, method=Method.PHONE, result="监护人仍不同意")
    return services.step_advance(
        by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(10)
    )


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        (documents.Kind.SURVEY, {}),
        (documents.Kind.RETURN_NOTICE, {"return_by": datetime.date(2026, 9, 7)}),
        (documents.Kind.CORRECTION_ORDER, {}),
        (documents.Kind.ACTION_RECORD, {}),
    ],
)
def test_case_documents(ordered_case, kind, options):
    document = documents.render_document(kind, ordered_case, **options)
    text = _text(document.pdf)
    assert ordered_case.entry.name in text
    assert document.kind.title in text
    assert len(document.sha256) == 64
    assert document.template_version == documents.KINDS[kind].version


def test_case_action_record_lists_every_action(ordered_case):
    text = _text(documents.render_document(documents.Kind.ACTION_RECORD, ordered_case).pdf)
    assert "监护人仍不同意" in text and "上门" in text and "电话" in text


def test_correction_order_needs_the_deadline(world, child):
    from kongchuo.errors import AppError

    case = working(world, child)
    with pytest.raises(AppError) as refused:
        documents.render_document(documents.Kind.CORRECTION_ORDER, case)
    assert "step_deadline" in refused.value.errors
