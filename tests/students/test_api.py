"""Students API (issue 3): the pages' services and jurisdiction behind /api/v1/students/."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Region, School, SchoolClass
from kongchuo.masking import mask_id_number
from students import services
from students.choices import EventKind, KeyGroup, Status, TransferStatus
from students.models import EnrollmentEvent, Student, Transfer
from tests.students.factories import id_number, student_data

pytestmark = pytest.mark.django_db

STAFF_A = "xz1_xx1_guanli"  # 南涧镇中心学校 (county A) and its attached schools
STAFF_B = "c2_xz1_xx1_guanli"  # the same school of county B
PHONE = "13812345678"
BIRTH = datetime.date(2017, 3, 14)
LIST = "/api/v1/students/"


def api(world, username=STAFF_A) -> APIClient:
    return world.token_client(username)


def school_of(world, username=STAFF_A) -> School:
    return world.user(username).school


def body(at: School, **overrides) -> dict:
    """A valid JSON body for a grade-3 boy of school ``at``."""
    values = {
        "name": "李小明",
        "gender": "M",
        "birth_date": BIRTH.isoformat(),
        "school": at.pk,
        "grade": 3,
        "id_number": id_number(BIRTH, "M", at.township.code[:6]),
        "ethnicity": "彝族",
        "hukou_region": at.township_id,
        "guardians": [{"name": "李大山", "relation": "父亲", "phone": PHONE}],
        "key_groups": [KeyGroup.LEFT_BEHIND],
    }
    values.update(overrides)
    return values


def create(world, username=STAFF_A, *, school=None, **overrides) -> Student:
    user = world.user(username)
    return services.student_create(by=user, data=student_data(school or user.school, **overrides))


def assert_nothing_revealed(response, *students: Student) -> None:
    content = response.content.decode()
    for student in students:
        assert student.id_number not in content
        for phone in student.guardians.values_list("phone", flat=True):
            assert not phone or phone not in content


# --- create, read, update -----------------------------------------------------------------------


def test_create_goes_through_the_service_and_answers_masked(world):
    school = school_of(world)
    payload = body(school, student_number="g2026001", address="南涧镇新政村")
    response = api(world).post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    student = Student.objects.get(pk=data["id"])
    assert data["id_number"] == mask_id_number(payload["id_number"])
    assert data["id_number"].startswith("532926") and "*" in data["id_number"]
    assert payload["id_number"] not in response.content.decode()
    assert PHONE not in response.content.decode()
    assert data["guardians"] == [{"name": "李大山", "relation": "父亲", "phone": "138****5678"}]
    assert data["school_code"] == school.code and data["student_number"] == "G2026001"
    assert data["status"] == Status.ENROLLED and data["status_display"] == "在读"
    assert data["key_groups"] == [KeyGroup.LEFT_BEHIND] and data["id_missing"] is False
    assert data["hukou_region_code"] == school.township.code
    assert student.left_behind and student.id_number == payload["id_number"]
    assert list(student.events.values_list("kind", flat=True)) == [EventKind.ENROL]
    assert AuditEvent.objects.filter(object_type="students.Student", action="create").count() == 1


def test_create_by_school_code_and_hukou_region_code(world):
    school = school_of(world)
    village = Region.objects.filter(parent=school.township).order_by("code").first()
    payload = body(school)
    del payload["school"], payload["hukou_region"]
    payload.update(school_code=school.code, hukou_region_code=village.code)
    response = api(world).post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["school"] == school.pk
    assert response.json()["hukou_region"] == village.pk


def test_a_child_without_an_id_number_is_flagged(world):
    response = api(world).post(LIST, body(school_of(world), id_number=""), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["id_number"] == "" and response.json()["id_missing"] is True


def test_list_and_detail_mask_identifiers(world):
    student = create(world)
    client = api(world)
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [student.pk]
    detail = client.get(f"{LIST}{student.pk}/")
    assert detail.status_code == 200
    assert detail.json()["id_number"] == student.masked_id_number
    assert detail.json()["guardians"][0]["phone"] == "138****5678"
    assert_nothing_revealed(listed, student)
    assert_nothing_revealed(detail, student)


def test_patch_changes_only_the_fields_given(world):
    student = create(world, key_groups={KeyGroup.ORPHAN})
    response = api(world).patch(f"{LIST}{student.pk}/", {"address": "南涧镇西山村"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "南涧镇西山村"
    assert response.json()["key_groups"] == [KeyGroup.ORPHAN]
    assert len(response.json()["guardians"]) == 1
    student.refresh_from_db()
    assert student.address == "南涧镇西山村" and student.orphan
    assert_nothing_revealed(response, student)
    change = AuditEvent.objects.get(object_type="students.Student", action="update")
    assert change.changes == {"address": ["", "南涧镇西山村"]}


def test_put_replaces_the_record(world):
    student = create(world)
    school = school_of(world)
    klass = SchoolClass.objects.filter(school=school, grade=3).first()
    payload = body(
        school,
        id_number=student.id_number,
        klass=klass.pk,
        guardians=[{"name": "李奶奶", "relation": "祖母", "phone": "0872-6021234"}],
        key_groups=[],
    )
    response = api(world).put(f"{LIST}{student.pk}/", payload, format="json")
    assert response.status_code == 200, response.content
    student.refresh_from_db()
    assert student.klass == klass and not student.left_behind
    assert list(student.guardians.values_list("name", "phone")) == [("李奶奶", "0872-6021234")]
    assert response.json()["guardians"][0]["phone"] == "087****1234"
    assert "0872-6021234" not in response.content.decode()


def test_the_school_cannot_be_changed_by_an_update(world):
    student = create(world)
    other = School.objects.get(parent=student.school, kind="primary")
    response = api(world).patch(f"{LIST}{student.pk}/", {"school": other.pk}, format="json")
    assert response.status_code == 400
    assert "转出" in response.json()["errors"]["school"][0]


# --- bad input: 400 with the field name, nothing written -------------------------------------


def _foreign_school(world):
    return {"school": School.objects.filter(township__code__startswith="530102").first().pk}


def _bad_checksum(world):
    number = id_number(BIRTH, "M", "532926")
    return {"id_number": number[:-1] + ("0" if number[-1] != "0" else "1")}


BAD_INPUT = [
    ("bad ID checksum", _bad_checksum, "id_number", "校验位"),
    ("ID and birth date disagree", lambda w: {"birth_date": "2017-03-15"}, "birth_date", "不一致"),
    ("unknown school", lambda w: {"school": 999999}, "school", "不存在或不在您的管辖范围内"),
    ("school of another county", _foreign_school, "school", "不存在或不在您的管辖范围内"),
    ("no school", lambda w: {"school": None}, "school", ""),
    ("grade 10", lambda w: {"grade": 10}, "grade", "1–9"),
    ("future entry date", lambda w: {"entry_date": "2099-09-01"}, "entry_date", "不能晚于今天"),
    (
        "bad guardian phone",
        lambda w: {"guardians": [{"name": "王", "relation": "母亲", "phone": "12345"}]},
        "guardians",
        "不是有效的电话号码",
    ),
    ("unknown key group", lambda w: {"key_groups": ["rich"]}, "key_groups", ""),
    ("unknown class", lambda w: {"klass": 999999}, "klass", "不存在"),
    ("bad date", lambda w: {"birth_date": "2017-13-01"}, "birth_date", ""),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_refused_with_the_field_name_and_nothing_is_written(
    world, overrides, field, message
):
    client = api(world)
    audit_before = AuditEvent.objects.count()
    response = client.post(LIST, body(school_of(world), **overrides(world)), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Student.objects.exists()
    assert AuditEvent.objects.count() == audit_before


def test_duplicate_id_number_is_refused(world):
    first = create(world)
    client = api(world)
    response = client.post(
        LIST, body(school_of(world), id_number=first.id_number.lower()), format="json"
    )
    assert response.status_code == 400
    assert "已登记" in response.json()["errors"]["id_number"][0]
    assert Student.objects.count() == 1


def test_bad_update_writes_nothing(world):
    student = create(world)
    response = api(world).patch(f"{LIST}{student.pk}/", {"grade": 10}, format="json")
    assert response.status_code == 400 and "grade" in response.json()["errors"]
    student.refresh_from_db()
    assert student.grade == 3


# --- filters and pagination -------------------------------------------------------------------


@pytest.fixture
def roster(world):
    """Three students of STAFF_A's area with different schools, grades, groups, statuses."""
    centre = school_of(world)
    branch = School.objects.get(parent=centre, kind="primary")
    klass = SchoolClass.objects.filter(school=centre, grade=3).first()
    ming = create(world, klass=klass, key_groups={KeyGroup.LEFT_BEHIND})
    fang = create(
        world,
        name="王芳",
        gender="F",
        grade=4,
        id_number=id_number(datetime.date(2016, 3, 14), "F"),
        key_groups={KeyGroup.ORPHAN},
    )
    services.event_record(
        by=world.user(STAFF_A),
        student=fang,
        kind=EventKind.SUSPEND,
        date=timezone.localdate(),
        reason="病休",
    )
    gang = create(
        world, school=branch, name="张刚", grade=2, id_number=id_number(datetime.date(2018, 3, 14))
    )
    return {"ming": ming, "fang": fang, "gang": gang, "centre": centre, "branch": branch}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_every_filter(world, roster):
    client = api(world)
    ming, fang, gang = roster["ming"], roster["fang"], roster["gang"]
    assert ids(client.get(LIST)) == {ming.pk, fang.pk, gang.pk}
    assert ids(client.get(LIST, {"school": roster["branch"].pk})) == {gang.pk}
    assert ids(client.get(LIST, {"school_code": roster["centre"].code})) == {ming.pk, fang.pk}
    assert ids(client.get(LIST, {"class": ming.klass_id})) == {ming.pk}
    assert ids(client.get(LIST, {"grade": 4})) == {fang.pk}
    assert ids(client.get(LIST, {"status": Status.SUSPENDED})) == {fang.pk}
    assert ids(client.get(LIST, {"key_group": KeyGroup.LEFT_BEHIND})) == {ming.pk}
    assert ids(client.get(LIST, {"key_group": KeyGroup.ORPHAN})) == {fang.pk}
    assert ids(client.get(LIST, {"name": "芳"})) == {fang.pk}
    spaced = f"{gang.id_number[:6]} {gang.id_number[6:14]} {gang.id_number[14:]}".lower()
    assert ids(client.get(LIST, {"id_number": spaced})) == {gang.pk}
    full_width = gang.id_number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    assert ids(client.get(LIST, {"id_number": full_width})) == {gang.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grade": "三"}, "grade"),
        ({"status": "missing"}, "status"),
        ({"key_group": "rich"}, "key_group"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"class": "x"}, "class"),
    ],
)
def test_bad_filter_values_are_400_with_the_parameter_name(world, params, field):
    response = api(world).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_updated_since_returns_what_changed_since(world):
    old = create(world)
    Student.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=2))
    fresh = create(world, id_number=id_number(BIRTH))
    since = timezone.now() - datetime.timedelta(days=1)
    client = api(world)
    assert ids(client.get(LIST, {"updated_since": since.isoformat()})) == {fresh.pk}
    # An event changes the status, so the student counts as updated.
    services.event_record(
        by=world.user(STAFF_A),
        student=old,
        kind=EventKind.SUSPEND,
        date=timezone.localdate(),
        reason="病休",
    )
    assert ids(client.get(LIST, {"updated_since": since.isoformat()})) == {old.pk, fresh.pk}


def test_filtering_by_an_out_of_area_school_leaks_nothing(world):
    foreign = create(world, STAFF_B)
    response = api(world).get(LIST, {"school": foreign.school_id})
    assert ids(response) == set()


def test_cursor_pages(world):
    for _ in range(5):
        create(world, id_number=id_number(BIRTH))
    client = api(world)
    first = client.get(LIST, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 2
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


def test_list_query_count_does_not_grow_with_rows(world):
    def queries_for_list(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    client = api(world, "xian_staff")
    township = Region.objects.get(code="532926101")
    user = world.user(STAFF_A)

    def add(count):
        for _ in range(count):
            services.student_create(
                by=user,
                data=student_data(user.school, id_number=id_number(BIRTH), hukou_region=township),
            )

    add(5)
    few, rows = queries_for_list(client)
    assert rows == 5
    add(45)
    many, rows = queries_for_list(client)
    assert rows == 50
    assert many == few, (few, many)


# --- jurisdiction -------------------------------------------------------------------------------


def test_a_student_outside_the_area_is_404_everywhere(world):
    foreign = create(world, STAFF_B)
    neighbour = create(
        world, "xz2_xx1_guanli", id_number=id_number(BIRTH)
    )  # same county, other township
    client = api(world)
    for student in (foreign, neighbour):
        url = f"{LIST}{student.pk}/"
        responses = [
            client.get(url),
            client.get(f"{url}events/"),
            client.patch(url, {"address": "x"}, format="json"),
            client.put(url, body(school_of(world), id_number=student.id_number), format="json"),
            client.post(
                f"{url}events/",
                {"kind": EventKind.SUSPEND, "date": str(timezone.localdate()), "reason": "x"},
                format="json",
            ),
            client.get(f"{LIST}by-id-number/{student.id_number}/"),
        ]
        assert [r.status_code for r in responses] == [404] * len(responses)
        for response in responses:
            assert student.name not in response.content.decode()
            assert student.school.name not in response.content.decode()
        assert student.pk not in ids(client.get(LIST))
    assert EnrollmentEvent.objects.count() == 2  # the two enrolments only
    assert Student.objects.filter(address="x").count() == 0


def test_put_by_natural_key_does_not_touch_a_student_outside_the_area(world):
    foreign = create(world, STAFF_B, student_number="G530102001")
    client = api(world)
    school = school_of(world)
    by_id = client.put(
        f"{LIST}by-id-number/{foreign.id_number}/",
        body(school, id_number=foreign.id_number, name="冒名"),
        format="json",
    )
    by_number = client.put(
        f"{LIST}by-student-number/G530102001/",
        body(school, id_number="", name="冒名"),
        format="json",
    )
    for response, field in ((by_id, "id_number"), (by_number, "student_number")):
        assert response.status_code == 400, response.content
        message = response.json()["errors"][field][0]
        assert "管辖范围以外" in message
        assert foreign.school.name not in response.content.decode()
    foreign.refresh_from_db()
    assert foreign.name == "李小明" and foreign.school.township.code.startswith("530102")
    assert Student.objects.count() == 1


def test_roles_that_do_not_record_cannot_write(world):
    student = create(world)
    url = f"{LIST}{student.pk}/"
    for username in ("shi_dudao", "xz1_ganbu"):
        client = api(world, username)
        assert client.get(url).status_code == 200  # they see it
        assert client.patch(url, {"address": "x"}, format="json").status_code == 403
        assert client.post(LIST, body(school_of(world)), format="json").status_code == 403
        assert (
            client.put(
                f"{LIST}by-id-number/{student.id_number}/", body(school_of(world)), format="json"
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"{url}events/",
                {"kind": EventKind.SUSPEND, "date": str(timezone.localdate()), "reason": "x"},
                format="json",
            ).status_code
            == 403
        )
    student.refresh_from_db()
    assert student.address == "" and student.status == Status.ENROLLED


def test_api_client_account_writes_in_its_county(world):
    payload = body(school_of(world))
    response = api(world, "api_xian").post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    student = Student.objects.get(pk=response.json()["id"])
    assert (student.id_number, student.school) == (payload["id_number"], school_of(world))
    assert student.events.get().operator.username == "api_xian"
    assert AuditEvent.objects.filter(
        actor__username="api_xian", object_id=str(student.pk), action="create"
    ).exists()


# --- sync by natural key ------------------------------------------------------------------------


def test_put_by_id_number_creates_then_updates_and_repeating_changes_nothing(world):
    school = school_of(world)
    payload = body(school)
    number = payload.pop("id_number")
    url = f"{LIST}by-id-number/{number.lower()}/"
    client = api(world)

    created = client.put(url, payload, format="json")
    assert created.status_code == 201, created.content
    student = Student.objects.get()
    assert student.id_number == number
    audit_count = AuditEvent.objects.count()

    again = client.put(url, payload, format="json")
    assert again.status_code == 200, again.content
    assert Student.objects.count() == 1 and again.json()["id"] == student.pk
    assert AuditEvent.objects.count() == audit_count
    assert {k: v for k, v in again.json().items() if k != "updated_at"} == {
        k: v for k, v in created.json().items() if k != "updated_at"
    }
    assert_nothing_revealed(created, student)
    assert_nothing_revealed(again, student)

    changed = client.put(url, {**payload, "address": "公郎镇"}, format="json")
    assert changed.status_code == 200 and changed.json()["address"] == "公郎镇"
    assert AuditEvent.objects.filter(action="update", object_id=str(student.pk)).count() == 1

    looked_up = client.get(url)
    assert looked_up.status_code == 200 and looked_up.json()["id"] == student.pk
    assert_nothing_revealed(looked_up, student)


def test_put_by_student_number_creates_then_updates(world):
    school = school_of(world)
    client = api(world)
    url = f"{LIST}by-student-number/g2026007/"
    created = client.put(url, body(school), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["student_number"] == "G2026007"
    number = Student.objects.get().id_number
    updated = client.put(url, body(school, id_number=number, name="李晓明"), format="json")
    assert updated.status_code == 200, updated.content
    student = Student.objects.get()
    assert student.name == "李晓明" and student.id_number == number
    assert client.get(url).json()["id"] == student.pk


def test_put_by_student_number_does_not_erase_or_replace_the_id_number(world):
    # As the roster import: a 学籍号 sync without the ID number would wipe the one the
    # record was confirmed by; with another one it names another child.
    client = api(world)
    url = f"{LIST}by-student-number/G2026008/"
    assert client.put(url, body(school_of(world)), format="json").status_code == 201
    student = Student.objects.get()
    erased = client.put(url, body(school_of(world), id_number="", name="改名"), format="json")
    assert erased.status_code == 400
    assert erased.json()["errors"] == {
        "id_number": ["系统中该学籍号的学生已登记身份证号，请同时填写其身份证号。"]
    }
    other = client.put(url, body(school_of(world), name="改名"), format="json")
    assert other.status_code == 400
    assert other.json()["errors"]["student_number"] == [
        f"该学籍号已登记：{student.school.name}三年级的李小明。"
    ]
    student.refresh_from_db()
    assert student.name == "李小明" and Student.objects.count() == 1


def test_natural_key_in_the_body_must_match_the_address(world):
    school = school_of(world)
    payload = body(school)
    other = id_number(BIRTH)
    response = api(world).put(f"{LIST}by-id-number/{other}/", payload, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()["errors"]
    assert not Student.objects.exists()


def test_natural_key_put_with_a_bad_id_number_is_refused(world):
    payload = body(school_of(world))
    bad = _bad_checksum(world)["id_number"]
    del payload["id_number"]
    response = api(world).put(f"{LIST}by-id-number/{bad}/", payload, format="json")
    assert response.status_code == 400 and "id_number" in response.json()["errors"]
    assert not Student.objects.exists()


# --- 学籍 events --------------------------------------------------------------------------------


def events_url(student) -> str:
    return f"{LIST}{student.pk}/events/"


def test_events_are_listed_and_recorded(world):
    student = create(world, entry_date=datetime.date(2025, 9, 1))
    client = api(world)
    listed = client.get(events_url(student))
    assert listed.status_code == 200
    (enrol,) = listed.json()
    assert enrol["kind"] == EventKind.ENROL and enrol["kind_display"] == "入学注册"
    assert enrol["date"] == "2025-09-01" and enrol["operator"] == STAFF_A
    assert enrol["school"] == student.school_id and enrol["status_after"] == Status.ENROLLED

    today = str(timezone.localdate())
    recorded = client.post(
        events_url(student),
        {"kind": EventKind.SUSPEND, "date": today, "reason": "病休", "document": "诊断证明"},
        format="json",
    )
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["status_after"] == Status.SUSPENDED
    assert recorded.json()["document"] == "诊断证明"
    student.refresh_from_db()
    assert student.status == Status.SUSPENDED
    assert [e["kind"] for e in client.get(events_url(student)).json()] == [
        EventKind.ENROL,
        EventKind.SUSPEND,
    ]


def test_an_illegal_transition_is_refused_with_the_reason(world):
    student = create(world)
    response = api(world).post(
        events_url(student),
        {"kind": EventKind.RESUME, "date": str(timezone.localdate()), "reason": "返校"},
        format="json",
    )
    assert response.status_code == 400
    assert "在读" in response.json()["errors"]["kind"][0]
    assert student.events.count() == 1


@pytest.mark.parametrize("by", ["to_school", "to_school_code"])
def test_transfer_out_to_a_school_in_the_system_is_a_pending_request(world, by):
    student = create(world)
    target = school_of(world, "xz2_xx1_guanli")  # outside the sender's own area
    response = api(world).post(
        events_url(student),
        {
            "kind": EventKind.TRANSFER_OUT,
            "date": str(timezone.localdate()),
            "reason": "随父母迁居",
            by: target.pk if by == "to_school" else target.code,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    transfer = Transfer.objects.get()
    assert response.json()["id"] == transfer.pk
    assert response.json()["status"] == TransferStatus.PENDING
    assert transfer.to_school == target and transfer.requested_by.username == STAFF_A
    student.refresh_from_db()
    assert student.status == Status.ENROLLED and student.events.count() == 1


def test_transfer_out_of_the_system_needs_a_destination(world):
    student = create(world)
    url = events_url(student)
    client = api(world)
    event = {"kind": EventKind.TRANSFER_OUT, "date": str(timezone.localdate()), "reason": "迁居"}
    missing = client.post(url, event, format="json")
    assert missing.status_code == 400 and "destination" in missing.json()["errors"]
    unknown = client.post(url, {**event, "to_school": 999999}, format="json")
    assert unknown.status_code == 400 and "to_school" in unknown.json()["errors"]
    done = client.post(url, {**event, "destination": "昆明市某小学"}, format="json")
    assert done.status_code == 201 and done.json()["status_after"] == Status.TRANSFERRED_OUT


# --- schema ---------------------------------------------------------------------------------------


def test_schema_documents_the_students_api_without_warnings(world, tmp_path):
    response = api(world).get("/api/v1/schema/")
    assert response.status_code == 200
    for path in (
        b"/api/v1/students/{id}/events/",
        b"/api/v1/students/by-id-number/{id_number}/",
        b"/api/v1/students/by-student-number/{student_number}/",
    ):
        assert path in response.content
    # Fails on any warning or error of the generator, for every view.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yml"))
