"""劝返 case API (issue 12 "Interfaces"): /api/v1/return-cases/ through the same services,
selectors and jurisdiction as the pages. Each endpoint's content, the bad input of the issue
(400 naming the field, nothing changed), a reader's 403 and another county's 404."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from ledger import services as ledger_services
from ledger.choices import State as EntryState
from ledger.models import LedgerEntry
from returns import documents, selectors, services
from returns.choices import (
    Action,
    CaseState,
    Department,
    DocumentType,
    Duty,
    Help,
    Method,
    Placement,
    ResponsibleRule,
    Step,
)
from returns.models import CaseAction, CaseAttachment, CaseDocument, ReturnCase
from tests.ledger.conftest import create_entry, entry_in, head_class, make_student, township
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    TODAY,
    case_in,
    days,
    footprint,
    joint,
    open_case,
    visit,
    working,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/return-cases/"
READER = "shi_dudao"
OTHER_COUNTY = "c2_xian_staff"


def api(world, username=OFFICIAL) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def url(case, action="") -> str:
    return f"{LIST}{case.pk}/{action + '/' if action else ''}"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def png(name="visit.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), "image/png")


def pdf(name="签字.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 signed record", "application/pdf")


def visit_body(**overrides) -> dict:
    values = {
        "date": TODAY().isoformat(),
        "method": Method.VISIT,
        "result": "监护人同意下周送孩子返校",
    }
    values.update(overrides)
    return values


# --- create -------------------------------------------------------------------------------------


def test_create_from_a_confirmed_dropout_gives_the_proposed_township_and_rule(world, child):
    entry = entry_in(world, EntryState.CONFIRMED, child)
    response = api(world, COUNTY_USER).post(LIST, {"entry": entry.pk}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    xz1 = township(world)
    assert data["entry"] == entry.pk and data["name"] == child.name
    assert data["township"] == xz1.pk and data["township_name"] == xz1.name
    assert data["responsible_rule"] == ResponsibleRule.HUKOU
    assert data["responsible_note"] == f"由户籍地{xz1.name}劝返。"
    assert data["state"] == CaseState.INSTRUCTED and data["step"] == Step.PERSUASION
    assert "*" in data["id_number"] and child.id_number not in response.content.decode()
    assert [event["action"] for event in data["events"]] == [Action.OPEN]
    assert data["possible_actions"] == [Action.REASSIGN]  # the county works a township's case
    assert LedgerEntry.objects.get(pk=entry.pk).state == EntryState.PERSUADING


def test_create_with_another_township_needs_a_reason(world, child):
    entry = entry_in(world, EntryState.CONFIRMED, child)
    xz2 = township(world, "xz2_ganbu")
    client = api(world, COUNTY_USER)
    response = client.post(LIST, {"entry": entry.pk, "township": xz2.pk}, format="json")
    assert response.status_code == 400
    assert "改派须填写理由" in response.json()["errors"]["reason"][0]
    assert not ReturnCase.objects.exists()
    response = client.post(
        LIST, {"entry": entry.pk, "township": xz2.pk, "reason": "孩子随父母住在小湾东镇"}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["township"] == xz2.pk and data["responsible_rule"] == ResponsibleRule.COUNTY_CHOICE
    assert data["override_reason"] == "孩子随父母住在小湾东镇"


def test_create_for_an_entry_that_is_not_a_confirmed_dropout_is_refused(world, child):
    entry = create_entry(world, child)  # 疑似辍学, not confirmed
    response = api(world, COUNTY_USER).post(LIST, {"entry": entry.pk}, format="json")
    assert response.status_code == 400
    assert "已确认辍学" in response.json()["errors"]["entry"][0]
    assert not ReturnCase.objects.exists()
    assert LedgerEntry.objects.get(pk=entry.pk).state == EntryState.PENDING


def test_a_second_open_case_for_an_entry_is_refused(world, child):
    case = open_case(world, child)
    before = footprint(case)
    response = api(world, COUNTY_USER).post(LIST, {"entry": case.entry_id}, format="json")
    assert response.status_code == 400
    assert "errors" in response.json() and "entry" in response.json()["errors"]
    assert ReturnCase.objects.count() == 1 and footprint(case) == before


def test_only_the_county_opens_a_case(world, child):
    entry = entry_in(world, EntryState.CONFIRMED, child)
    for username in (OFFICIAL, "xz1_xx1_guanli", READER):
        response = api(world, username).post(LIST, {"entry": entry.pk}, format="json")
        assert response.status_code == 403, username
    assert not ReturnCase.objects.exists()


def test_an_entry_of_another_county_is_not_found_as_a_field_error(world):
    staff = "c2_xz1_xx1_guanli"
    entry = create_entry(world, make_student(world, staff), username=staff)
    entry = ledger_services.entry_confirm(by=world.user(staff), entry=entry, note="家访核实")
    response = api(world, COUNTY_USER).post(LIST, {"entry": entry.pk}, format="json")
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.json()["errors"]["entry"][0]
    assert not ReturnCase.objects.exists()


# --- list -----------------------------------------------------------------------------------------


@pytest.fixture
def cases(world):
    """An instructed case of xz1, a working one of xz1 at 责令改正 (overdue), and a working
    one of xz2 (户籍 there)."""
    klass = head_class(world)
    new = open_case(world, make_student(world, grade=1, klass=klass, name="甲"))
    overdue = working(world, make_student(world, grade=1, klass=klass, name="乙"))
    services.step_advance(by=world.user(OFFICIAL), case=overdue, step=Step.ORDER, deadline=days(3))
    ReturnCase.objects.filter(pk=overdue.pk).update(step_deadline=days(-1))
    elsewhere = make_student(world, grade=1, name="丙", hukou_region=township(world, "xz2_ganbu"))
    other = open_case(world, elsewhere)
    other = services.case_acknowledge(by=world.user("xz2_ganbu"), case=other)
    return {"new": new, "overdue": overdue, "other": other}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"new", "overdue", "other"}),
        ({"township": "xz1"}, {"new", "overdue"}),
        ({"step": Step.ORDER}, {"overdue"}),
        ({"state": CaseState.INSTRUCTED}, {"new"}),
        ({"overdue": "true"}, {"overdue"}),
        ({"q": "丙"}, {"other"}),
        ({"due": "deadline"}, {"overdue"}),
    ],
)
def test_every_filter_is_the_selectors(world, cases, params, expected):
    if params.get("township") == "xz1":
        params = {"township": township(world).pk}
    listed = ids(api(world, COUNTY_USER).get(LIST, params))
    assert set(listed) == {cases[name].pk for name in expected}
    arguments = {("query" if name == "q" else name): value for name, value in params.items()}
    if "overdue" in arguments:
        arguments["overdue"] = True
    same = selectors.cases(world.user(COUNTY_USER), **arguments)
    assert set(listed) == {case.pk for case in same}


def test_mine_is_the_cases_one_works(world, cases):
    assert set(ids(api(world, "xz2_ganbu").get(LIST, {"mine": "1"}))) == {cases["other"].pk}
    # The county works none of the townships' cases.
    assert ids(api(world, COUNTY_USER).get(LIST, {"mine": "true"})) == []
    rows = api(world, COUNTY_USER).get(LIST).json()["results"]
    urgency = {row["id"]: row["urgency"] for row in rows}
    assert urgency[cases["overdue"].pk] == 0 and urgency[cases["new"].pk] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"step": "9"}, "step"),
        ({"state": "lost"}, "state"),
        ({"overdue": "yes"}, "overdue"),
        ({"mine": "maybe"}, "mine"),
        ({"due": "never"}, "due"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_filter_values_are_400_with_the_parameter_name(world, params, field):
    response = api(world, COUNTY_USER).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_list_query_count_does_not_grow_with_rows(world):
    client = api(world, COUNTY_USER)

    def queries_for_list() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    open_case(world, make_student(world, grade=1))
    few, rows = queries_for_list()
    assert rows == 1
    for _ in range(3):
        open_case(world, make_student(world, grade=1))
    many, rows = queries_for_list()
    assert rows == 4 and many == few, (few, many)


def test_cursor_pages(world):
    for _ in range(3):
        open_case(world, make_student(world, grade=1))
    first = api(world, COUNTY_USER).get(LIST, {"page_size": 2}).json()
    second = api(world, COUNTY_USER).get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


# --- the case's detail and actions ----------------------------------------------------------


def test_acknowledge_then_team_plan_and_a_visit_with_attachments_show_in_the_detail(world, child):
    case = open_case(world, child)
    client = api(world)
    response = client.post(url(case, "acknowledge"), {"note": "已签收"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == CaseState.WORKING
    assert response.json()["acknowledged_by"] == OFFICIAL

    cadre, teacher = world.user("xz1_cungan"), world.user("xz1_xx1_banzhuren")
    body = {"members": [{"user": cadre.pk}, {"user": teacher.pk, "duty": Duty.TEACHER}]}
    response = client.post(url(case, "team"), body, format="json")
    assert response.status_code == 200, response.content
    team = {(m["user"]["username"], m["duty"]) for m in response.json()["members"]}
    assert team == {("xz1_cungan", Duty.VILLAGE_CADRE), ("xz1_xx1_banzhuren", Duty.TEACHER)}

    for cause in ("厌学", "厌学，家庭经济困难"):
        plan = {"cause": cause, "measures": "每周家访", "help": [Help.SUBSIDY, Help.LEARNING]}
        response = client.post(url(case, "plan"), plan, format="json")
        assert response.status_code == 200, response.content
    data = response.json()
    assert data["plan"]["version"] == 2 and data["plan"]["cause"] == "厌学，家庭经济困难"
    assert [plan["version"] for plan in data["plans"]] == [2, 1]
    assert data["plan"]["help_labels"] == ["资助", "学习帮扶"]

    body = visit_body(
        method=Method.JOINT,
        departments=[Department.POLICE, Department.VILLAGE_COMMITTEE],
        participants=[cadre.pk],
        participant_names="村委会主任",
        attachments=[png(), pdf()],
    )
    response = client.post(url(case, "actions"), body, format="multipart")
    assert response.status_code == 201, response.content
    shown = response.json()
    recorded = CaseAction.objects.get(case=case)
    assert shown["id"] == recorded.pk and shown["method"] == Method.JOINT
    assert shown["department_labels"] == ["公安", "村委会"]
    assert {p["username"] for p in shown["participants"]} == {OFFICIAL, "xz1_cungan"}
    files = CaseAttachment.objects.filter(action=recorded).order_by("pk")
    assert [a["content_type"] for a in shown["attachments"]] == ["image/png", "application/pdf"]
    assert [a["url"] for a in shown["attachments"]] == [
        f"/returns/attachments/{attachment.pk}/" for attachment in files
    ]

    listed = client.get(url(case, "actions")).json()
    assert [row["id"] for row in listed] == [recorded.pk]
    detail = client.get(url(case)).json()
    assert detail["actions"][0]["attachments"] == shown["attachments"]
    assert detail["joint_count"] == 1 and detail["last_action_on"] == TODAY().isoformat()
    assert [e["action"] for e in detail["events"]] == [
        Action.OPEN,
        Action.ACKNOWLEDGE,
        Action.TEAM,
        Action.PLAN,
        Action.PLAN,
        Action.ACTION,
    ]
    assert detail["events"][1]["actor"] == OFFICIAL


def test_possible_actions_differ_by_role(world, child):
    case = open_case(world, child)
    expected = {
        OFFICIAL: [Action.ACKNOWLEDGE, Action.NOTICE],
        "xz1_cungan": [Action.NOTICE],  # signing is the township official's
        COUNTY_USER: [Action.REASSIGN],
        "xz1_xx1_guanli": [],  # the school reads
        READER: [],
    }
    for username, actions in expected.items():
        response = api(world, username).get(url(case))
        assert response.status_code == 200, username
        assert response.json()["possible_actions"] == actions, username
    services.case_acknowledge(by=world.user(OFFICIAL), case=case)
    working_actions = api(world).get(url(case)).json()["possible_actions"]
    assert Action.STEP in working_actions and Action.ACKNOWLEDGE not in working_actions


def test_reassign_and_notice(world, child):
    case = working(world, child)
    xz2 = township(world, "xz2_ganbu")
    client = api(world, COUNTY_USER)
    response = client.post(url(case, "reassign"), {"township": xz2.pk}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    body = {"township": xz2.pk, "reason": "已迁往小湾东镇"}
    response = client.post(url(case, "reassign"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["township"] == xz2.pk
    assert response.json()["state"] == CaseState.INSTRUCTED
    case = services.case_acknowledge(by=world.user("xz2_ganbu"), case=case)
    other_county = township(world, "c2_xz1_ganbu").parent
    body = {"region_code": other_county.code, "text": "请协助核实该生在贵县的就学情况"}
    response = api(world, "xz2_ganbu").post(url(case, "notice"), body, format="json")
    assert response.status_code == 200, response.content
    notice = response.json()["events"][-1]
    assert notice["action"] == Action.NOTICE and notice["region_name"] == other_county.name


def test_steps_forward_with_a_deadline_then_return_and_close(world, child):
    case = working(world, child)
    client = api(world)
    body = {"step": Step.ORDER, "step_deadline": days(10).isoformat()}
    response = client.post(url(case, "step"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["step"] == Step.ORDER
    assert response.json()["step_deadline"] == days(10).isoformat()
    body = {"placement": Placement.REGULAR, "note": "已返校上课"}
    response = client.post(url(case, "return"), body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == CaseState.RETURNED and data["placement"] == Placement.REGULAR
    assert data["return_school"] == child.school_id and data["return_grade"] == 1
    assert data["follow_up_until"] is not None
    response = client.post(url(case, "close"), {"note": "跟踪期内正常上学"}, format="json")
    assert response.status_code == 200, response.content
    assert (
        response.json()["state"] == CaseState.CLOSED and response.json()["possible_actions"] == []
    )


def test_defer_after_three_joint_persuasions(world, child):
    case = working(world, child)
    joint(world, case, 3)
    response = api(world).post(url(case, "defer"), {"reason": "监护人仍拒绝送学"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == CaseState.DEFERRED


# --- bad input: 400 naming the field, nothing changed ---------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("step", {"step": Step.ORDER}, "step_deadline"),  # 责令改正 without a deadline
        ("step", {"step": Step.ORDER, "step_deadline": TODAY().isoformat()}, "step_deadline"),
        ("step", {"step": Step.PENALTY, "step_deadline": None}, "reason"),  # a skip, no reason
        ("step", {"step": 7}, "step"),
        ("actions", visit_body(date=days(1).isoformat()), "date"),  # in the future
        ("actions", visit_body(method="letter"), "method"),
        ("actions", visit_body(result=" "), "result"),
        ("actions", visit_body(method=Method.JOINT), "departments"),
        ("plan", {"cause": "", "measures": "家访"}, "cause"),
        ("plan", {"cause": "厌学", "measures": "家访", "help": ["money"]}, "help"),
        ("team", {"members": [{"user": 0}]}, "members"),
        ("return", {"placement": "home"}, "placement"),
        ("close", {"note": ""}, "non_field_errors"),  # not returned yet: the state refuses
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(world, child, endpoint, body, field):
    case = working(world, child)
    before = footprint(case)
    response = api(world).post(url(case, endpoint), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert footprint(case) == before


def test_a_step_backwards_is_refused(world, child):
    case = working(world, child)
    services.step_advance(by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(5))
    before = footprint(case)
    response = api(world).post(url(case, "step"), {"step": Step.PERSUASION}, format="json")
    assert response.status_code == 400
    assert "不能回退" in response.json()["errors"]["step"][0]
    assert footprint(case) == before


def test_deferral_before_the_rule_allows_is_refused(world, child):
    case = working(world, child)
    joint(world, case, 2)
    before = footprint(case)
    response = api(world).post(url(case, "defer"), {"reason": "监护人拒绝"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "暂不能办理延缓入学或休学" in body["detail"]
    assert "已2次" in body["errors"]["court_ruling"][0]
    assert footprint(case) == before


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/octet-stream"),
        SimpleUploadedFile("fake.png", b"not really a picture", "image/png"),
    ],
    ids=["not-an-image-or-pdf", "named-like-an-image"],
)
def test_an_attachment_that_is_not_an_image_or_pdf_is_refused(world, child, upload):
    case = working(world, child)
    before = footprint(case)
    body = visit_body(attachments=[pdf(), upload])
    response = api(world).post(url(case, "actions"), body, format="multipart")
    assert response.status_code == 400
    assert "不是图片" in response.json()["errors"]["attachments"][0]
    assert footprint(case) == before and not CaseAttachment.objects.exists()


@override_settings(RETURNS_ATTACHMENT_MAX_BYTES=16)
def test_an_attachment_too_big_is_refused(world, child):
    case = working(world, child)
    before = footprint(case)
    response = api(world).post(
        url(case, "actions"), visit_body(attachments=[pdf()]), format="multipart"
    )
    assert response.status_code == 400
    assert "超过" in response.json()["errors"]["attachments"][0]
    assert footprint(case) == before and not CaseAttachment.objects.exists()


# --- who: a reader 403, another county 404, a team member of another township ---------------------

WRITES = [
    ("acknowledge", {}),
    ("reassign", {"reason": "x"}),
    ("notice", {"text": "x"}),
    ("team", {"members": []}),
    ("plan", {"cause": "x", "measures": "x"}),
    ("actions", visit_body()),
    ("step", {"step": Step.ORDER, "step_deadline": "2099-01-01"}),
    ("return", {"placement": Placement.REGULAR}),
    ("defer", {"reason": "x"}),
    ("close", {"note": "x"}),
    ("documents", {"kind": DocumentType.SURVEY}),
]


@pytest.mark.parametrize("username", [READER, "sheng_dudao", "xz1_xx1_guanli"])
def test_a_reader_sees_the_case_and_every_write_is_403(world, child, username):
    case = working(world, child)
    before = footprint(case)
    client = api(world, username)
    assert client.get(url(case)).status_code == 200
    assert case.pk in ids(client.get(LIST))
    for endpoint, body in WRITES:
        response = client.post(url(case, endpoint), body, format="json")
        assert response.status_code == 403, (endpoint, response.content)
        assert response.json()["detail"]
    assert footprint(case) == before


def test_the_county_reads_a_townships_case_and_may_not_work_it(world, child):
    case = working(world, child)
    before = footprint(case)
    response = api(world, COUNTY_USER).post(url(case, "actions"), visit_body(), format="multipart")
    assert response.status_code == 403
    assert "只有责任乡镇和包保人员" in response.json()["detail"]
    assert footprint(case) == before


def test_a_case_of_another_county_is_404_everywhere(world, child):
    case = working(world, child)
    visit(world, case)
    before = footprint(case)
    client = api(world, OTHER_COUNTY)
    responses = [
        client.get(url(case)),
        client.get(url(case, "actions")),
        client.get(url(case, "documents")),
        *(client.post(url(case, endpoint), body, format="json") for endpoint, body in WRITES),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    for response in responses:
        assert child.name not in response.content.decode()
    assert case.pk not in ids(client.get(LIST))
    assert footprint(case) == before


def test_a_team_member_of_another_township_works_that_case_only(world, child):
    case = working(world, child)
    other = working(world, make_student(world, grade=1, name="另一个"))
    outsider = world.user("xz2_ganbu")
    services.member_add(by=world.user(OFFICIAL), case=case, user=outsider, duty=Duty.CADRE)
    client = api(world, "xz2_ganbu")
    response = client.post(url(case, "actions"), visit_body(), format="multipart")
    assert response.status_code == 201, response.content
    assert Action.ACTION in client.get(url(case)).json()["possible_actions"]
    assert client.post(url(other, "actions"), visit_body(), format="multipart").status_code == 404
    assert client.get(url(other)).status_code == 404
    assert set(ids(client.get(LIST))) == {case.pk}


# --- documents ------------------------------------------------------------------------------------


def test_documents_generate_list_and_download(world, child):
    case = working(world, child)
    client = api(world)
    response = client.post(url(case, "documents"), {"kind": DocumentType.SURVEY}, format="json")
    assert response.status_code == 201, response.content
    shown = response.json()
    stored = CaseDocument.objects.get(case=case)
    assert shown["id"] == stored.pk and shown["title"] == "辍学学生基本情况调查表"
    assert shown["sha256"] == stored.sha256 and shown["template_version"] == "1"
    assert shown["url"] == f"{url(case, 'documents')}{stored.pk}/"
    assert [d["id"] for d in client.get(url(case, "documents")).json()] == [stored.pk]
    assert client.get(url(case)).json()["documents"] == [shown]
    download = client.get(shown["url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # Read by the school too; another county gets 404.
    assert api(world, "xz1_xx1_guanli").get(shown["url"]).status_code == 200
    assert api(world, OTHER_COUNTY).get(shown["url"]).status_code == 404


def test_a_document_the_state_does_not_allow_is_400_naming_the_kind(world, child):
    case = working(world, child)
    before = footprint(case)
    body = {"kind": DocumentType.CORRECTION_ORDER}
    response = api(world).post(url(case, "documents"), body, format="json")
    assert response.status_code == 400
    assert "责令改正" in response.json()["errors"]["kind"][0]
    assert footprint(case) == before and not CaseDocument.objects.exists()


def test_a_document_of_another_case_is_404(world, child):
    case = working(world, child)
    other = case_in(world, CaseState.WORKING, make_student(world, grade=1))
    stored = documents.generate(by=world.user(OFFICIAL), case=other, kind=DocumentType.SURVEY)
    assert api(world).get(f"{url(case, 'documents')}{stored.pk}/").status_code == 404
    assert api(world).get(f"{url(case, 'documents')}99999999999999999999/").status_code == 404


def test_schema_documents_the_case_api(world):
    schema = api(world, COUNTY_USER).get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for action in ("acknowledge", "team", "plan", "actions", "step", "return", "defer", "close"):
        assert f"{LIST}{{id}}/{action}/" in paths
    post = paths[f"{LIST}{{id}}/actions/"]["post"]
    body = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    attachments = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert attachments["attachments"]["items"]["format"] == "binary"
    download = paths[f"{LIST}{{id}}/documents/{{doc_id}}/"]["get"]["responses"]["200"]
    assert "application/pdf" in download["content"]
