"""Attendance API (issue 5, item 7): students.attendance behind /api/v1/attendance/."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import SchoolClass
from attendance.choices import Mark
from attendance.models import AttendanceMark, RollCall
from ledger.models import LedgerEntry
from tests.attendance.conftest import (
    FRI,
    MON,
    PRINCIPAL,
    TEACHER,
    THU,
    TUE,
    WED,
    absent,
    open_to_teachers,
    pupil,
    take,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/attendance/"
SATURDAY = FRI + datetime.timedelta(days=1)


def api(world, username=PRINCIPAL) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def body(klass, day, marks=None) -> dict:
    """A JSON body for ``klass`` on ``day``: ``marks`` maps students to a mark (or to a
    (mark, note) pair)."""
    rows = []
    for student, value in (marks or {}).items():
        status, note = value if isinstance(value, tuple) else (value, "")
        rows.append({"student": student.pk, "status": status, "note": note})
    return {"klass": klass.pk, "date": day.isoformat(), "marks": rows}


def post(client, payload):
    return client.post(LIST, payload, format="json")


def other_class(klass) -> SchoolClass:
    return SchoolClass.objects.filter(school=klass.school).exclude(pk=klass.pk).order_by("pk")[0]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def assert_nothing_saved():
    assert not RollCall.objects.exists()
    assert not AttendanceMark.objects.exists()


# --- submitting -----------------------------------------------------------------------------------


def test_first_submission_is_201_and_a_resubmission_200_replacing_the_marks(world, klass, pupils):
    client = api(world)
    first = post(
        client,
        body(
            klass,
            MON,
            {
                pupils[0]: Mark.UNEXCUSED,
                pupils[1]: (Mark.SICK, " 发烧 "),
                pupils[2]: Mark.PRESENT,  # accepted and dropped: present students get no row
            },
        ),
    )
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["klass"] == klass.pk and data["school"] == klass.school_id
    assert data["date"] == MON.isoformat() and data["klass_name"] == str(klass)
    assert data["submitted_by"] == PRINCIPAL and data["flagged"] == []
    assert data["marks"] == [
        {
            "student": pupils[0].pk,
            "name": pupils[0].name,
            "status": "unexcused",
            "status_display": "旷课",
            "note": "",
        },
        {
            "student": pupils[1].pk,
            "name": pupils[1].name,
            "status": "sick",
            "status_display": "病假",
            "note": "发烧",
        },
    ]

    again = post(client, body(klass, MON, {pupils[0]: Mark.LATE}))
    assert again.status_code == 200, again.content
    assert again.json()["id"] == data["id"]
    assert [(m["student"], m["status"]) for m in again.json()["marks"]] == [(pupils[0].pk, "late")]
    assert RollCall.objects.count() == 1
    assert list(AttendanceMark.objects.values_list("student_id", "status")) == [
        (pupils[0].pk, "late")
    ]


def test_the_same_submission_twice_changes_nothing(world, klass, pupils):
    client = api(world)
    payload = body(klass, TUE, {pupils[0]: Mark.PERSONAL})
    assert post(client, payload).status_code == 201
    same = post(client, payload)
    assert same.status_code == 200
    assert RollCall.objects.count() == 1 and AttendanceMark.objects.count() == 1


def test_everyone_present_is_a_roll_call_without_marks(world, klass, pupils):
    response = post(api(world), body(klass, MON))
    assert response.status_code == 201 and response.json()["marks"] == []
    assert RollCall.objects.filter(klass=klass, date=MON).exists()


def test_the_class_teacher_submits_within_the_cutoff(world, klass, pupils):
    client = api(world, TEACHER)
    late = post(client, body(klass, MON, {pupils[0]: Mark.UNEXCUSED}))
    assert late.status_code == 400 and "date" in late.json()["errors"]
    assert "截止" in late.json()["detail"]
    assert_nothing_saved()

    open_to_teachers()
    response = post(client, body(klass, MON, {pupils[0]: Mark.UNEXCUSED}))
    assert response.status_code == 201, response.content
    assert response.json()["submitted_by"] == TEACHER


def test_the_county_sync_client_submits_with_its_token_within_the_cutoff(world, klass, pupils):
    client = world.token_client("api_xian")
    late = post(client, body(klass, MON, {pupils[0]: Mark.SICK}))
    assert late.status_code == 400 and "date" in late.json()["errors"]
    assert not RollCall.objects.exists()
    open_to_teachers()
    response = post(client, body(klass, MON, {pupils[0]: Mark.SICK}))
    assert response.status_code == 201, response.content
    roll = RollCall.objects.get()
    assert (roll.klass, roll.date, roll.submitted_by.username) == (klass, MON, "api_xian")
    assert list(roll.marks.values_list("student", "status")) == [(pupils[0].pk, Mark.SICK)]


@pytest.mark.parametrize("username", ["xian_staff", "xz1_ganbu", "shi_dudao"])
def test_roles_that_do_not_take_the_roll_get_403(world, klass, pupils, username):
    response = post(api(world, username), body(klass, MON))
    assert response.status_code == 403
    assert "提交考勤" in response.json()["detail"]
    assert_nothing_saved()


def _not_a_school_day(world, klass, pupils):
    return body(klass, SATURDAY), "date"


def _future(world, klass, pupils):
    return body(klass, timezone.localdate() + datetime.timedelta(days=1)), "date"


def _not_in_the_class(world, klass, pupils):
    stranger = pupil(world, other_class(klass))
    return body(klass, MON, {pupils[0]: Mark.SICK, stranger: Mark.UNEXCUSED}), "marks[1].student"


def _twice(world, klass, pupils):
    payload = body(klass, MON, {pupils[0]: Mark.SICK})
    payload["marks"].append({"student": pupils[0].pk, "status": "late"})
    return payload, "marks[1].student"


def _unknown_status(world, klass, pupils):
    return body(klass, MON, {pupils[0]: "absent"}), "marks[0].status"


def _note_too_long(world, klass, pupils):
    return body(klass, MON, {pupils[0]: (Mark.SICK, "咳" * 101)}), "marks[0].note"


def _bad_date(world, klass, pupils):
    return {**body(klass, MON), "date": "2026/10/12"}, "date"


def _marks_not_a_list(world, klass, pupils):
    return {**body(klass, MON), "marks": {"student": pupils[0].pk}}, "marks"


def _mark_without_student(world, klass, pupils):
    return {**body(klass, MON), "marks": [{"status": "sick"}]}, "marks"


def _class_not_a_number(world, klass, pupils):
    return {**body(klass, MON), "klass": "一年级1班"}, "klass"


def _no_class(world, klass, pupils):
    payload = body(klass, MON)
    del payload["klass"]
    return payload, "klass"


@pytest.mark.parametrize(
    "case",
    [
        _not_a_school_day,
        _future,
        _not_in_the_class,
        _twice,
        _unknown_status,
        _note_too_long,
        _bad_date,
        _marks_not_a_list,
        _mark_without_student,
        _class_not_a_number,
        _no_class,
    ],
    ids=lambda case: case.__name__.strip("_"),
)
def test_bad_input_is_400_naming_the_field_and_saves_nothing(world, klass, pupils, case):
    payload, field = case(world, klass, pupils)
    response = post(api(world), payload)
    assert response.status_code == 400, response.content
    data = response.json()
    assert field in data["errors"], data
    assert data["detail"]
    assert_nothing_saved()


def test_bad_input_on_a_resubmission_keeps_the_marks_before(world, klass, pupils):
    take(world, klass, MON, {pupils[0]: Mark.UNEXCUSED})
    response = post(api(world), body(klass, MON, {pupils[1]: "absent"}))
    assert response.status_code == 400
    assert list(AttendanceMark.objects.values_list("student_id", "status")) == [
        (pupils[0].pk, "unexcused")
    ]


@pytest.mark.parametrize(
    "username",
    [
        "c2_xz1_xx1_xiaozhang",  # the same school of county B
        "c2_api_xian",  # county B's sync client
        "xz2_xx1_xiaozhang",  # another township's school of county A
    ],
)
def test_a_class_outside_the_area_is_404(world, klass, pupils, username):
    response = post(api(world, username), body(klass, MON, {pupils[0]: Mark.UNEXCUSED}))
    assert response.status_code == 404
    assert str(klass) not in response.content.decode()
    assert_nothing_saved()


def test_a_class_teacher_cannot_submit_for_another_class_of_the_school(world, klass, pupils):
    open_to_teachers()
    response = post(api(world, TEACHER), body(other_class(klass), MON))
    assert response.status_code == 404
    assert_nothing_saved()


def test_a_class_that_does_not_exist_is_404(world, klass):
    response = post(api(world), {"klass": 999999, "date": MON.isoformat(), "marks": []})
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到该记录。"
    assert_nothing_saved()


def test_the_third_unexcused_day_returns_the_entry_it_opened(world, klass, pupils):
    absent(world, klass, [MON, TUE], pupils[0])
    response = post(api(world), body(klass, WED, {pupils[0]: Mark.UNEXCUSED}))
    assert response.status_code == 201, response.content
    entry = LedgerEntry.objects.get()
    assert entry.student == pupils[0]
    assert response.json()["flagged"] == [
        {"id": entry.pk, "student": pupils[0].pk, "name": pupils[0].name}
    ]
    # The rule does not open the same entry again when the day is resubmitted.
    again = post(api(world), body(klass, WED, {pupils[0]: Mark.UNEXCUSED}))
    assert again.status_code == 200 and again.json()["flagged"] == []
    assert LedgerEntry.objects.count() == 1


# --- reading --------------------------------------------------------------------------------------


@pytest.fixture
def week(world, klass, pupils):
    """Three class-days of ``klass`` and one of another class of the school."""
    other = other_class(klass)
    stranger = pupil(world, other)
    return {
        "mon": take(world, klass, MON, {pupils[0]: Mark.UNEXCUSED}).roll,
        "tue": take(world, klass, TUE, {pupils[1]: Mark.SICK}).roll,
        "wed": take(world, klass, WED).roll,
        "other_tue": take(world, other, TUE, {stranger: Mark.LATE}).roll,
    }


def test_list_is_newest_first_with_the_marks(world, week, pupils):
    response = api(world).get(LIST)
    assert ids(response) == [
        week["wed"].pk,
        *sorted([week["tue"].pk, week["other_tue"].pk], reverse=True),
        week["mon"].pk,
    ]
    monday = response.json()["results"][-1]
    assert monday["marks"] == [
        {
            "student": pupils[0].pk,
            "name": pupils[0].name,
            "status": "unexcused",
            "status_display": "旷课",
            "note": "",
        }
    ]
    assert "flagged" not in monday


def test_list_pages_with_a_cursor(world, week):
    client = api(world)
    first = client.get(LIST, {"page_size": 2})
    assert len(first.json()["results"]) == 2 and first.json()["next"]
    second = client.get(first.json()["next"])
    seen = ids(first) + ids(second)
    assert sorted(seen) == sorted(roll.pk for roll in week.values())


def test_list_is_scoped(world, week, klass):
    assert ids(api(world, "c2_xz1_xx1_xiaozhang").get(LIST)) == []
    assert ids(api(world, "xz2_xx1_xiaozhang").get(LIST)) == []
    # The class teacher sees their own class only; the township its schools.
    mine = {week["mon"].pk, week["tue"].pk, week["wed"].pk}
    assert set(ids(api(world, TEACHER).get(LIST))) == mine
    assert len(ids(api(world, "xz1_ganbu").get(LIST))) == 4
    assert len(ids(api(world, "xian_staff").get(LIST))) == 4


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda k: {"klass": k.pk}, {"mon", "tue", "wed"}),
        (lambda k: {"school": k.school_id}, {"mon", "tue", "wed", "other_tue"}),
        (lambda k: {"school": 999999}, set()),
        (lambda k: {"date_from": TUE.isoformat()}, {"tue", "wed", "other_tue"}),
        (lambda k: {"date_to": TUE.isoformat()}, {"mon", "tue", "other_tue"}),
        (
            lambda k: {"date_from": TUE.isoformat(), "date_to": TUE.isoformat()},
            {"tue", "other_tue"},
        ),
        (lambda k: {"status": "unexcused"}, {"mon"}),
        (lambda k: {"status": "late"}, {"other_tue"}),
        (lambda k: {"status": "personal"}, set()),
        (lambda k: {"klass": k.pk, "status": "sick"}, {"tue"}),
    ],
    ids=[
        "klass",
        "school",
        "unknown-school",
        "date_from",
        "date_to",
        "one-day",
        "status",
        "status-other-class",
        "status-none",
        "combined",
    ],
)
def test_list_filters(world, week, klass, params, expected):
    response = api(world).get(LIST, params(klass))
    assert set(ids(response)) == {week[name].pk for name in expected}


@pytest.mark.parametrize(
    "params",
    [{"status": "present"}, {"status": "absent"}, {"date_from": "12/10/2026"}, {"klass": "x"}],
)
def test_bad_filters_are_400_naming_the_parameter(world, week, params):
    response = api(world).get(LIST, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["errors"])


def test_detail_and_its_area(world, week):
    url = f"{LIST}{week['tue'].pk}/"
    detail = api(world, TEACHER).get(url)
    assert detail.status_code == 200
    assert detail.json()["date"] == TUE.isoformat()
    assert detail.json()["marks"][0]["status"] == "sick"
    assert api(world, "c2_xian_staff").get(url).status_code == 404
    assert api(world, "xz2_xx1_xiaozhang").get(url).status_code == 404
    # The class teacher of the class does not see another class's day of the same school.
    assert api(world, TEACHER).get(f"{LIST}{week['other_tue'].pk}/").status_code == 404
    assert api(world).get(f"{LIST}999999/").status_code == 404


def test_list_queries_do_not_grow_with_class_days_or_marks(world, klass, pupils):
    client = api(world, "xian_staff")

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    take(world, klass, MON, {pupils[0]: Mark.UNEXCUSED})
    few, rows = count()
    assert rows == 1
    take(world, klass, TUE, {pupil: Mark.SICK for pupil in pupils})
    take(world, klass, WED, {pupils[1]: Mark.LATE, pupils[2]: Mark.PERSONAL})
    take(world, other_class(klass), THU)
    many, rows = count()
    assert rows == 4
    assert many == few


# --- schema ---------------------------------------------------------------------------------------


def test_schema_documents_the_attendance_api_without_warnings(world, tmp_path):
    response = api(world).get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/attendance/{id}/" in response.content
    assert b"flagged" in response.content
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yml"))


def test_ledger_api_shows_the_rule_as_actor_and_the_review_flag(world, klass, pupils):
    child = pupils[0]
    for day in (MON, TUE, WED):
        take(world, klass, day, {child: Mark.UNEXCUSED})
    take(world, klass, TUE, {child: Mark.SICK})
    entry = LedgerEntry.objects.get(student=child)
    body = api(world).get(f"/api/v1/ledger-entries/{entry.pk}/").json()
    assert body["review_flag"] == entry.review_flag and "更正" in body["review_flag"]
    actors = [event["actor"] for event in body["events"]]
    assert actors == ["系统（考勤规则）", PRINCIPAL]
