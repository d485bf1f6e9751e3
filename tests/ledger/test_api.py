"""Ledger API (issue 4): the pages' services and selectors behind /api/v1/ledger-entries/."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Region
from ledger import services
from ledger.choices import (
    Action,
    ClosureReason,
    ConsistencyProblem,
    EntryKind,
    Reason,
    RecordCheck,
    Source,
    State,
    Whereabouts,
)
from ledger.models import EntryEvent, LedgerEntry
from students import services as student_services
from students.choices import EventKind, KeyGroup, Status
from tests.ledger.conftest import (
    COUNTY_USER,
    SCHOOL_USER,
    add_term,
    create_entry,
    entry_in,
    footprint,
    make_student,
    unenrolled_data,
)
from tests.students.factories import id_number

pytestmark = pytest.mark.django_db

STAFF_A = SCHOOL_USER  # 南涧镇中心学校 (county A) and its attached schools
STAFF_B = "c2_xz1_xx1_guanli"  # the same school of county B
COUNTY_STAFF = COUNTY_USER
TOWNSHIP = "xz1_ganbu"
LIST = "/api/v1/ledger-entries/"
BIRTH = datetime.date(2016, 5, 20)


def api(world, username=STAFF_A) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def url(entry, action="") -> str:
    return f"{LIST}{entry.pk}/{action + '/' if action else ''}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def other_township(entry) -> Region:
    return (
        Region.objects.filter(level=4, code__startswith=entry.township.code[:6])
        .exclude(pk=entry.township_id)
        .order_by("code")
        .first()
    )


# --- reading: masked, with the timeline and what the caller may do ------------------------------


def test_list_and_detail_mask_the_id_number(world, child):
    entry = create_entry(world, child)
    client = api(world)
    listed = client.get(LIST)
    assert ids(listed) == {entry.pk}
    (row,) = listed.json()["results"]
    assert row["id_number"] == child.masked_id_number and "*" in row["id_number"]
    detail = client.get(url(entry))
    assert detail.status_code == 200
    data = detail.json()
    assert data["id_number"] == child.masked_id_number
    for response in (listed, detail):
        assert child.id_number not in response.content.decode()
    assert data["student"] == child.pk and data["state"] == State.PENDING
    assert data["state_display"] == "待核实" and data["previous"] is None
    assert data["is_overdue"] is False and data["record_check"] == RecordCheck.IN_PROVINCE
    assert [e["action"] for e in data["events"]] == [Action.CREATE]
    assert data["events"][0]["actor"] == STAFF_A
    assert data["possible_actions"] == [
        Action.EXCLUDE,
        Action.CONFIRM,
        Action.REVIEW,
        Action.UPDATE,
    ]


def test_key_groups_come_with_their_labels(world):
    child = make_student(world, key_groups={KeyGroup.LEFT_BEHIND, KeyGroup.ORPHAN})
    data = api(world).get(url(create_entry(world, child))).json()
    assert set(data["key_groups"]) == {KeyGroup.LEFT_BEHIND, KeyGroup.ORPHAN}
    assert set(data["key_group_labels"]) == {KeyGroup.LEFT_BEHIND.label, KeyGroup.ORPHAN.label}


def test_possible_actions_follow_the_role(world, child):
    entry = create_entry(world, child)
    assert api(world, TOWNSHIP).get(url(entry)).json()["possible_actions"] == [
        Action.REVIEW,
        Action.UPDATE,
    ]
    assert api(world, "shi_dudao").get(url(entry)).json()["possible_actions"] == []


# --- filters --------------------------------------------------------------------------------------


@pytest.fixture
def ledger(world):
    """Four entries of county A: different schools, townships, kinds, reasons and groups."""
    ming = create_entry(
        world,
        make_student(world, key_groups={KeyGroup.LEFT_BEHIND}),
        found_on=timezone.localdate() - datetime.timedelta(days=400),
    )
    fang = create_entry(
        world,
        make_student(world, "xz1_xx2_guanli", name="王芳", gender="F", grade=4),
        kind=EntryKind.DROPOUT,
        reason=Reason.POVERTY,
        other_reasons=[Reason.WORK],
        whereabouts=Whereabouts.WORKING,
    )
    gang = create_entry(
        world,
        make_student(world, "xz2_xx1_guanli", name="张刚", grade=6),
        username="xz2_xx1_guanli",
        reason=Reason.WORK,
    )
    unborn = services.entry_create(
        by=world.user(COUNTY_STAFF), data=unenrolled_data(world, source=Source.COMPARISON)
    )
    return {"ming": ming, "fang": fang, "gang": gang, "unborn": unborn}


def test_every_filter(world, ledger):
    client = api(world, COUNTY_STAFF)
    ming, fang, gang, unborn = (ledger[k] for k in ("ming", "fang", "gang", "unborn"))
    assert ids(client.get(LIST)) == {ming.pk, fang.pk, gang.pk, unborn.pk}
    assert ids(client.get(LIST, {"township": gang.township_id})) == {gang.pk}
    assert ids(client.get(LIST, {"school": fang.school_id})) == {fang.pk}
    assert ids(client.get(LIST, {"grade": 6})) == {gang.pk}
    assert ids(client.get(LIST, {"kind": EntryKind.NOT_ENROLLED})) == {unborn.pk}
    assert ids(client.get(LIST, {"state": State.PENDING})) == {ming.pk, gang.pk}
    # A reason matches the main reason and the other reasons alike.
    assert ids(client.get(LIST, {"reason": Reason.WORK})) == {fang.pk, gang.pk}
    assert ids(client.get(LIST, {"reason": Reason.POVERTY})) == {fang.pk}
    assert ids(client.get(LIST, {"key_group": KeyGroup.LEFT_BEHIND})) == {ming.pk}
    today = timezone.localdate()
    county = Region.objects.get(code="532926")
    add_term(county, today - datetime.timedelta(days=450), today - datetime.timedelta(days=200))
    this_term = add_term(county, today - datetime.timedelta(days=100), today)
    assert ids(client.get(LIST, {"term": ming.found_on.isoformat()})) == {ming.pk}
    this_start = this_term.start.isoformat()
    assert ids(client.get(LIST, {"term": this_start})) == {fang.pk, gang.pk, unborn.pk}
    assert ids(client.get(LIST, {"q": "王芳"})) == {fang.pk}
    assert ids(client.get(LIST, {"q": unborn.id_number.lower()})) == {unborn.pk}
    # The school sees its own entries only, whatever it asks for.
    assert ids(api(world).get(LIST, {"township": gang.township_id})) == set()


def test_rebound_filter_and_link(world, child):
    first = entry_in(world, State.CLOSED, child)
    again = create_entry(world, child)
    client = api(world)
    assert ids(client.get(LIST, {"rebound": "true"})) == {again.pk}
    assert ids(client.get(LIST, {"rebound": "false"})) == {first.pk, again.pk}
    assert client.get(url(again)).json()["previous"] == first.pk


def test_overdue_filter(world, ledger):
    # County A's current term started 40 days ago: its classification month is over.
    start = timezone.localdate() - datetime.timedelta(days=40)
    add_term(Region.objects.get(code="532926"), start, start + datetime.timedelta(days=120))
    LedgerEntry.objects.filter(pk__in=[ledger["ming"].pk, ledger["gang"].pk]).update(
        reviewed_on=start - datetime.timedelta(days=1)
    )
    services.entry_exclude(by=world.user("xz2_xx1_guanli"), entry=ledger["gang"], note="病假")
    client = api(world, COUNTY_STAFF)
    assert ids(client.get(LIST, {"overdue": "true"})) == {ledger["ming"].pk}
    assert client.get(url(ledger["ming"])).json()["is_overdue"] is True
    assert client.get(url(ledger["fang"])).json()["is_overdue"] is False
    listed = {row["id"]: row for row in client.get(LIST).json()["results"]}
    assert {pk for pk, row in listed.items() if row["is_overdue"]} == {ledger["ming"].pk}
    day_before = (start - datetime.timedelta(days=1)).isoformat()
    assert listed[ledger["ming"].pk]["reviewed_on"] == day_before
    # Reviewing the entry for this term takes it off the list.
    reviewed = client.post(url(ledger["ming"], "review"), {"note": "在家务农"}, format="json")
    assert reviewed.status_code == 200 and reviewed.json()["is_overdue"] is False
    assert reviewed.json()["reviewed_on"] == timezone.localdate().isoformat()
    assert ids(client.get(LIST, {"overdue": "true"})) == set()


def test_updated_since_returns_what_changed_since(world, ledger):
    old = ledger["ming"]
    LedgerEntry.objects.exclude(pk=ledger["fang"].pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=2)
    )
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    client = api(world, COUNTY_STAFF)
    assert ids(client.get(LIST, {"updated_since": since})) == {ledger["fang"].pk}
    # An action changes the entry, so it counts as updated.
    services.entry_confirm(by=world.user(STAFF_A), entry=old)
    assert ids(client.get(LIST, {"updated_since": since})) == {old.pk, ledger["fang"].pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grade": "三"}, "grade"),
        ({"state": "lost"}, "state"),
        ({"kind": "maybe"}, "kind"),
        ({"reason": "lazy"}, "reason"),
        ({"key_group": "rich"}, "key_group"),
        ({"term": "2025-13-01"}, "term"),
        ({"updated_since": "yesterday"}, "updated_since"),
    ],
)
def test_bad_filter_values_are_400_with_the_parameter_name(world, params, field):
    response = api(world).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_list_query_count_does_not_grow_with_rows(world):
    client = api(world, COUNTY_STAFF)

    def queries_for_list() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    def add(count):
        for _ in range(count):
            create_entry(world, make_student(world))

    add(2)
    few, rows = queries_for_list()
    assert rows == 2
    add(5)
    many, rows = queries_for_list()
    assert rows == 7 and many == few, (few, many)


def test_cursor_pages(world):
    for _ in range(3):
        create_entry(world, make_student(world))
    client = api(world)
    first = client.get(LIST, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


# --- creating -------------------------------------------------------------------------------------


def suspected_body(child, **overrides) -> dict:
    values = {
        "student": child.pk,
        "kind": EntryKind.SUSPECTED,
        "source": Source.SCHOOL_REPORT,
        "reason": Reason.LEARNING,
        "other_reasons": [Reason.DISTANCE],
        "whereabouts": Whereabouts.AT_HOME,
        "measures": "班主任家访",
        "note": "连续三天未到校",
    }
    values.update(overrides)
    return values


def not_enrolled_body(**overrides) -> dict:
    village = Region.objects.filter(level=5, code__startswith="532926").order_by("code").first()
    values = {
        "kind": EntryKind.NOT_ENROLLED,
        "source": Source.MANUAL,
        "reason": Reason.POVERTY,
        "whereabouts": Whereabouts.AT_HOME,
        "name": "赵小花",
        "gender": "F",
        "birth_date": BIRTH.isoformat(),
        "id_number": id_number(BIRTH, "F"),
        "hukou_region_code": village.code,
        "key_groups": [KeyGroup.POVERTY_REGISTERED],
        "record_check": RecordCheck.NONE,
        "person_status": "在家帮忙务农",
        "family_situation": "父母外出务工，随祖父母生活",
        "parent_contact": "母亲 13912345678",
        "department_opinion": "乡政府同意纳入劝返",
        "found_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "note": "入户排查发现",
    }
    values.update(overrides)
    return values


def test_create_a_suspected_dropout_for_a_student(world, child):
    response = api(world).post(LIST, suspected_body(child), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    entry = LedgerEntry.objects.get(pk=data["id"])
    assert entry.student == child and entry.state == State.PENDING
    assert entry.name == child.name and entry.school == child.school
    assert entry.other_reasons == [Reason.DISTANCE] and entry.measures == "班主任家访"
    assert entry.found_on == timezone.localdate() and entry.township == child.hukou_region
    assert data["id_number"] == child.masked_id_number
    assert child.id_number not in response.content.decode()
    assert [(e["action"], e["note"]) for e in data["events"]] == [(Action.CREATE, "连续三天未到校")]


def test_create_a_child_never_enrolled_with_no_record(world):
    body = not_enrolled_body()
    response = api(world, TOWNSHIP).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    entry = LedgerEntry.objects.get(pk=data["id"])
    assert entry.student is None and entry.kind == EntryKind.NOT_ENROLLED
    assert entry.state == State.CONFIRMED and entry.record_check == RecordCheck.NONE
    assert (
        entry.id_number == body["id_number"]
        and entry.hukou_region.code == body["hukou_region_code"]
    )
    assert entry.township == entry.hukou_region.parent
    assert entry.key_groups == [KeyGroup.POVERTY_REGISTERED]
    assert entry.family_situation == body["family_situation"]
    assert data["id_number"] == entry.masked_id_number
    assert data["parent_contact"] == "母亲 ****5678"
    for secret in (body["id_number"], "13912345678"):
        assert secret not in response.content.decode()


def test_hukou_region_by_id(world):
    village = Region.objects.filter(level=5, code__startswith="532926").order_by("code").first()
    body = not_enrolled_body(hukou_region=village.pk)
    del body["hukou_region_code"]
    response = api(world, COUNTY_STAFF).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["hukou_region"] == village.pk


@pytest.mark.parametrize(
    "field", ["person_status", "family_situation", "parent_contact", "department_opinion"]
)
def test_no_record_needs_every_field_of_the_check(world, field):
    response = api(world, TOWNSHIP).post(LIST, not_enrolled_body(**{field: "  "}), format="json")
    assert response.status_code == 400, response.content
    assert "无学籍" in response.json()["errors"][field][0]
    assert not LedgerEntry.objects.exists()


def test_no_record_names_every_missing_field_of_the_check_at_once(world):
    blank = dict.fromkeys(
        ["person_status", "family_situation", "parent_contact", "department_opinion"], ""
    )
    response = api(world, TOWNSHIP).post(LIST, not_enrolled_body(**blank), format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == set(blank)
    assert not LedgerEntry.objects.exists()


BAD_INPUT = [
    ("reason not in the list", {"reason": "lazy"}, "reason"),
    ("other reason not in the list", {"other_reasons": ["lazy"]}, "other_reasons"),
    ("unknown whereabouts", {"whereabouts": "moon"}, "whereabouts"),
    ("future found_on", {"found_on": "2099-01-01"}, "found_on"),
    ("not enrolled with a student", {"kind": EntryKind.NOT_ENROLLED}, "kind"),
    ("unknown township", {"township": 999999}, "township"),
]


@pytest.mark.parametrize(
    ("overrides", "field"), [case[1:] for case in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_refused_with_the_field_name(world, child, overrides, field):
    response = api(world).post(LIST, suspected_body(child, **overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert response.json()["detail"]
    assert not LedgerEntry.objects.exists()


def test_a_second_open_entry_for_the_same_child_is_refused(world, child):
    create_entry(world, child)
    response = api(world).post(LIST, suspected_body(child, kind=EntryKind.DROPOUT), format="json")
    assert response.status_code == 400
    assert "不能重复登记" in response.json()["errors"]["student"][0]
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("owner", [STAFF_B, "xz2_xx1_guanli"])
def test_a_student_outside_the_area_is_an_invalid_choice(world, owner):
    foreign = make_student(world, owner)
    response = api(world).post(LIST, suspected_body(foreign), format="json")
    assert response.status_code == 400
    assert "不存在或不在您的管辖范围内" in response.json()["errors"]["student"][0]
    assert foreign.name not in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_api_client_may_create_but_not_act(world, child):
    client = api(world, "api_xian")
    response = client.post(LIST, suspected_body(child, source=Source.COMPARISON), format="json")
    assert response.status_code == 201, response.content
    entry = LedgerEntry.objects.get()
    assert (entry.source, entry.created_by.username) == (Source.COMPARISON, "api_xian")
    refused = client.post(url(entry, "confirm"), {}, format="json")
    assert refused.status_code == 403 and "确认辍学" in refused.json()["detail"]
    entry.refresh_from_db()
    assert entry.state == State.PENDING and entry.events.count() == 1


# --- the state machine: every endpoint -----------------------------------------------------------


def _township_body(world, entry):
    return {"township": other_township(entry).pk, "note": "由二乡镇负责"}


# endpoint, the state it starts from, who calls it, the body, the state it leaves.
ACTIONS = [
    ("verify", State.PENDING, STAFF_A, {"outcome": "exclude", "note": "病假"}, State.EXCLUDED),
    ("verify", State.PENDING, STAFF_A, {"outcome": "confirm"}, State.CONFIRMED),
    ("confirm", State.PENDING, COUNTY_STAFF, {"note": "家访核实"}, State.CONFIRMED),
    ("assign", State.CONFIRMED, COUNTY_STAFF, _township_body, State.PERSUADING),
    ("return", State.PERSUADING, TOWNSHIP, {"note": "回原校三年级"}, State.RETURNED),
    (
        "propose-closure",
        State.CONFIRMED,
        STAFF_A,
        {"closure_reason": ClosureReason.ERROR, "evidence_text": "与另一条记录重复"},
        State.PROPOSED,
    ),
    ("approve", State.PROPOSED, COUNTY_STAFF, {"comment": "同意"}, State.CLOSED),
    ("reject", State.PROPOSED, COUNTY_STAFF, {"comment": "证明不足"}, State.PERSUADING),
    ("reopen", State.EXCLUDED, STAFF_A, {"note": "又未到校"}, State.PENDING),
    ("review", State.CONFIRMED, TOWNSHIP, {"note": "仍在家"}, State.CONFIRMED),
]


@pytest.mark.parametrize(
    ("endpoint", "start", "username", "body", "end"),
    ACTIONS,
    ids=[f"{a[0]}-{a[4]}" for a in ACTIONS],
)
def test_action_happy_path(world, child, endpoint, start, username, body, end):
    entry = entry_in(world, start, child)
    payload = body(world, entry) if callable(body) else body
    response = api(world, username).post(url(entry, endpoint), payload, format="json")
    assert response.status_code == 200, response.content
    entry.refresh_from_db()
    assert entry.state == end and response.json()["state"] == end
    last = entry.events.order_by("-at", "-id").first()
    assert last.actor.username == username and response.json()["events"][-1]["id"] == last.pk


def test_confirming_records_the_dropout_in_the_student_record(world, child):
    entry = create_entry(world, child)
    response = api(world).post(url(entry, "verify"), {"outcome": "confirm"}, format="json")
    assert response.status_code == 200
    assert response.json()["kind"] == EntryKind.DROPOUT
    child.refresh_from_db()
    assert child.status == Status.DROPPED_OUT


def test_return_of_a_child_never_enrolled_links_the_new_student(world, child):
    entry = services.entry_create(by=world.user(COUNTY_STAFF), data=unenrolled_data(world))
    client = api(world, TOWNSHIP)
    before = footprint(entry)
    missing = client.post(url(entry, "return"), {"note": "已入学"}, format="json")
    assert missing.status_code == 400 and "student" in missing.json()["errors"]
    assert footprint(entry) == before
    response = client.post(
        url(entry, "return"), {"note": "已入学", "student": child.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["student"] == child.pk and response.json()["state"] == State.RETURNED


# An endpoint on an entry in a state it does not start from.
WRONG_STATE = [
    ("verify", State.CONFIRMED, STAFF_A, {"outcome": "exclude", "note": "病假"}),
    ("confirm", State.EXCLUDED, STAFF_A, {}),
    ("assign", State.PENDING, COUNTY_STAFF, _township_body),
    ("return", State.PENDING, STAFF_A, {"note": "返校"}),
    (
        "propose-closure",
        State.PENDING,
        STAFF_A,
        {"closure_reason": ClosureReason.ERROR, "evidence_text": "重复"},
    ),
    ("approve", State.CONFIRMED, COUNTY_STAFF, {}),
    ("reject", State.CONFIRMED, COUNTY_STAFF, {"comment": "不同意"}),
    ("reopen", State.CONFIRMED, STAFF_A, {"note": "再看看"}),
    ("review", State.CLOSED, STAFF_A, {"note": "复核"}),
]


@pytest.mark.parametrize(
    ("endpoint", "start", "username", "body"), WRONG_STATE, ids=[w[0] for w in WRONG_STATE]
)
def test_action_in_the_wrong_state_is_refused_and_changes_nothing(
    world, child, endpoint, start, username, body
):
    entry = entry_in(world, start, child)
    before = footprint(entry)
    payload = body(world, entry) if callable(body) else body
    response = api(world, username).post(url(entry, endpoint), payload, format="json")
    assert response.status_code == 400, response.content
    assert f"台账记录状态为“{State(start).label}”" in response.json()["detail"]
    assert footprint(entry) == before


def test_a_required_note_is_asked_for_by_name(world, child):
    entry = create_entry(world, child)
    response = api(world).post(url(entry, "verify"), {"outcome": "exclude"}, format="json")
    assert response.status_code == 400
    assert "排除理由" in response.json()["errors"]["note"][0]
    entry.refresh_from_db()
    assert entry.state == State.PENDING


def test_verify_needs_a_known_outcome(world, child):
    entry = create_entry(world, child)
    before = footprint(entry)
    response = api(world).post(url(entry, "verify"), {"outcome": "maybe"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()["errors"]
    assert footprint(entry) == before


def test_patch_updates_the_situation(world, child):
    entry = create_entry(world, child, other_reasons=[Reason.DISTANCE])
    client = api(world, TOWNSHIP)
    response = client.patch(
        url(entry),
        {"whereabouts": Whereabouts.WORKING, "measures": "联系家长", "note": "电话核实"},
        format="json",
    )
    assert response.status_code == 200, response.content
    entry.refresh_from_db()
    assert entry.whereabouts == Whereabouts.WORKING and entry.measures == "联系家长"
    assert entry.reason == Reason.LEARNING and entry.other_reasons == [Reason.DISTANCE]
    update = response.json()["events"][-1]
    assert update["action"] == Action.UPDATE and "电话核实" in update["note"]
    bad = client.patch(url(entry), {"reason": "lazy"}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]


def test_patch_on_a_closed_entry_is_refused(world, child):
    entry = entry_in(world, State.CLOSED, child)
    response = api(world).patch(url(entry), {"measures": "x"}, format="json")
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.measures == ""


def test_put_is_not_offered(world, child):
    entry = create_entry(world, child)
    assert api(world).put(url(entry), {}, format="json").status_code == 405


# --- 销号: evidence and the four-eyes rule --------------------------------------------------------


def test_approving_ones_own_proposal_is_refused(world, child):
    entry = services.entry_propose_closure(
        by=world.user(COUNTY_STAFF),
        entry=entry_in(world, State.CONFIRMED, child),
        reason=ClosureReason.ERROR,
        evidence_text="重复登记",
    )
    client = api(world, COUNTY_STAFF)
    assert Action.APPROVE not in client.get(url(entry)).json()["possible_actions"]
    response = client.post(url(entry, "approve"), {"comment": "同意"}, format="json")
    assert response.status_code == 400
    assert "不能审批自己提交的销号申请" in response.json()["detail"]
    entry.refresh_from_db()
    assert entry.state == State.PROPOSED and entry.closed_at is None
    other = api(world, "xian_admin").post(url(entry, "approve"), {}, format="json")
    assert other.status_code == 200 and other.json()["state"] == State.CLOSED


def test_closing_without_evidence_is_refused(world, child):
    entry = entry_in(world, State.CONFIRMED, child)
    response = api(world).post(
        url(entry, "propose-closure"),
        {"closure_reason": ClosureReason.ERROR, "evidence_text": " "},
        format="json",
    )
    assert response.status_code == 400
    assert "证明材料" in response.json()["errors"]["evidence_text"][0]
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED and entry.closure_reason == ""


def test_evidence_file_is_uploaded_as_multipart(world, child):
    entry = entry_in(world, State.CONFIRMED, child)
    upload = SimpleUploadedFile("证明.pdf", b"%PDF-1.4 transfer certificate", "application/pdf")
    response = api(world).post(
        url(entry, "propose-closure"),
        {"closure_reason": ClosureReason.STUDYING_ELSEWHERE, "evidence_file": upload},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    event = EntryEvent.objects.get(entry=entry, action=Action.PROPOSE)
    assert event.evidence.read() == b"%PDF-1.4 transfer certificate"
    shown = response.json()["events"][-1]
    assert shown["evidence"].endswith(".pdf")
    assert shown["evidence_url"] == f"/ledger/evidence/{event.pk}/"
    entry.refresh_from_db()
    assert entry.state == State.PROPOSED
    assert entry.closure_reason == ClosureReason.STUDYING_ELSEWHERE


def test_evidence_of_a_type_not_accepted_is_refused(world, child):
    entry = entry_in(world, State.CONFIRMED, child)
    upload = SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream")
    response = api(world).post(
        url(entry, "propose-closure"),
        {"closure_reason": ClosureReason.ERROR, "evidence_file": upload},
        format="multipart",
    )
    assert response.status_code == 400 and "evidence_file" in response.json()["errors"]
    assert not EntryEvent.objects.filter(action=Action.PROPOSE).exists()
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED and entry.closure_reason == ""


# --- who may write ---------------------------------------------------------------------------------

ALL_WRITES = [
    ("verify", {"outcome": "confirm"}),
    ("confirm", {}),
    ("assign", {}),
    ("return", {"note": "x"}),
    ("propose-closure", {"closure_reason": ClosureReason.ERROR, "evidence_text": "x"}),
    ("approve", {}),
    ("reject", {"comment": "x"}),
    ("reopen", {"note": "x"}),
    ("review", {"note": "x"}),
]


@pytest.mark.parametrize("username", ["shi_dudao", "sheng_dudao"])
def test_supervisors_read_but_every_write_is_403(world, child, username):
    entry = create_entry(world, child)
    before = footprint(entry)
    client = api(world, username)
    assert client.get(url(entry)).status_code == 200
    assert entry.pk in ids(client.get(LIST))
    assert client.post(LIST, suspected_body(child), format="json").status_code == 403
    assert client.patch(url(entry), {"measures": "x"}, format="json").status_code == 403
    for endpoint, body in ALL_WRITES:
        response = client.post(url(entry, endpoint), body, format="json")
        assert response.status_code == 403, endpoint
        assert "不能" in response.json()["detail"]
    assert footprint(entry) == before
    assert LedgerEntry.objects.count() == 1


def test_a_role_that_sees_the_entry_but_may_not_act_gets_403(world, child):
    entry = create_entry(world, child)
    client = api(world, TOWNSHIP)
    response = client.post(url(entry, "verify"), {"outcome": "confirm"}, format="json")
    assert response.status_code == 403
    assert "核实排除" in response.json()["detail"]
    assert client.post(url(entry, "assign"), {}, format="json").status_code == 403
    entry.refresh_from_db()
    assert entry.state == State.PENDING


def test_a_class_teacher_cannot_create_entry(world, child):
    response = api(world, "xz1_xx1_banzhuren").post(LIST, suspected_body(child), format="json")
    assert response.status_code == 403
    assert "不能登记台账记录" in response.json()["detail"]
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("username", "owner"),
    [
        (STAFF_A, STAFF_B),  # another county
        (COUNTY_STAFF, STAFF_B),
        (STAFF_A, "xz2_xx1_guanli"),  # the same county, another school
        (TOWNSHIP, "xz2_xx1_guanli"),  # another township
    ],
)
def test_an_entry_outside_the_area_is_404_everywhere(world, username, owner):
    entry = create_entry(world, make_student(world, owner), username=owner)
    before = footprint(entry)
    client = api(world, username)
    responses = [
        client.get(url(entry)),
        client.patch(url(entry), {"measures": "x"}, format="json"),
        *(client.post(url(entry, endpoint), body, format="json") for endpoint, body in ALL_WRITES),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    for response in responses:
        assert entry.name not in response.content.decode()
    assert entry.pk not in ids(client.get(LIST))
    assert footprint(entry) == before


# --- 人账相符 ------------------------------------------------------------------------------------

CONSISTENCY = f"{LIST}consistency/"


def test_consistency_lists_the_mismatches_of_the_county(world, child):
    student_services.event_record(
        by=world.user(STAFF_A),
        student=child,
        kind=EventKind.DROP_OUT,
        date=timezone.localdate(),
        reason="长期不到校",
    )
    response = api(world, COUNTY_STAFF).get(CONSISTENCY)
    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "problem": ConsistencyProblem.DROPOUT_WITHOUT_ENTRY,
            "problem_display": ConsistencyProblem.DROPOUT_WITHOUT_ENTRY.label,
            "name": child.name,
            "school": child.school.name,
            "student": child.pk,
            "entry": None,
        }
    ]
    assert api(world, "xian_admin").get(CONSISTENCY).json() == response.json()
    assert api(world, "c2_xian_staff").get(CONSISTENCY).json() == []


@pytest.mark.parametrize("username", [STAFF_A, TOWNSHIP, "shi_dudao", "api_xian"])
def test_consistency_is_for_the_county_only(world, username):
    response = api(world, username).get(CONSISTENCY)
    assert response.status_code == 403
    assert "县教体局" in response.json()["detail"]


# --- schema ----------------------------------------------------------------------------------------


def test_schema_documents_the_ledger_api(world):
    response = api(world).get("/api/v1/schema/")
    assert response.status_code == 200
    for path in (
        b"/api/v1/ledger-entries/{id}/verify/",
        b"/api/v1/ledger-entries/{id}/propose-closure/",
        b"/api/v1/ledger-entries/consistency/",
    ):
        assert path in response.content
