"""Bulk sync streams (issue 19 §5, kongchuo.sync and each app's api/sync.py): the lines are the
list API's records, masked as the API masks them; the caller's area only; the since window;
resuming from a cursor gives the rest with no record twice and none missed; bad parameters
are a 400 in Chinese."""

import csv
import datetime
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from accounts.choices import AuditAction
from accounts.models import AuditEvent, Region, SchoolClass
from attendance.choices import Mark
from attendance.models import RollCall
from kongchuo import ratelimits
from kongchuo.masking import mask_id_number, mask_phone
from kongchuo.sync import Cursor
from ledger import services as ledger_services
from ledger.models import LedgerEntry
from students.calendar import term_save
from students.models import Student
from tests.attendance.conftest import (
    AUTUMN,
    COUNTY,
    FRI,
    MON,
    TEACHER,
    THU,
    TUE,
    WED,
    county_admin,
    open_to_teachers,
    pupil,
    take,
)
from tests.ledger.conftest import create_entry, make_student, unenrolled_data

pytestmark = pytest.mark.django_db

SCHOOL = "xz1_xx1_guanli"  # 南涧镇中心学校, county A (and its attached schools)
COUNTY_A = "xian_staff"
COUNTY_B = "c2_xian_staff"
PROVINCE = "sheng_dudao"
STUDENTS = "/api/v1/sync/students.ndjson"
STUDENTS_CSV = "/api/v1/sync/students.csv"
LEDGER = "/api/v1/sync/ledger-entries.ndjson"
ATTENDANCE = "/api/v1/sync/attendance.ndjson"
PHONE = "13812345678"


@pytest.fixture
def klass(world) -> SchoolClass:
    """The class teacher's class of county A, in a term that holds the test week (as
    tests/attendance/conftest.py's fixture of the same name)."""
    county = Region.objects.get(code=COUNTY)
    term_save(
        by=county_admin(),
        owner=county,
        name="2026-2027学年第一学期",
        start=AUTUMN[0],
        end=AUTUMN[1],
    )
    return SchoolClass.objects.select_related("school__township").get(
        head_teacher=world.user(TEACHER)
    )


def read(client, url, **params) -> tuple[list[dict], dict]:
    """The records of an NDJSON stream and its end line."""
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response.streaming
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert lines and lines[-1].get("end") is True, "a complete stream ends with its end line"
    return lines[:-1], lines[-1]


def ids(records) -> list[int]:
    return [record["id"] for record in records]


def without_cursor(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "cursor"}


# --- what a line holds -------------------------------------------------------------------------


def test_a_student_line_is_the_list_api_record_with_id_number_and_phones_masked(world):
    student = make_student(world, SCHOOL)
    client = world.token_client(SCHOOL)
    records, end = read(client, STUDENTS)
    line = next(record for record in records if record["id"] == student.pk)
    detail = client.get(f"/api/v1/students/{student.pk}/").json()
    assert without_cursor(line) == detail
    assert line["id_number"] == mask_id_number(student.id_number) != student.id_number
    assert line["guardians"][0]["phone"] == mask_phone(PHONE)
    assert end == {"end": True, "rows": len(records), "next": records[-1]["cursor"]}


def test_no_stream_reveals_an_id_number_or_a_phone(world):
    open_to_teachers()
    student = make_student(world, SCHOOL)
    create_entry(world, student)
    ledger_services.entry_create(by=world.user(COUNTY_A), data=unenrolled_data(world))
    client = world.token_client(COUNTY_A)
    raw = [
        student.id_number,
        PHONE,
        *Student.objects.filter(id_number__isnull=False).values_list("id_number", flat=True),
    ]
    for url in (STUDENTS, STUDENTS_CSV, LEDGER, ATTENDANCE):
        content = b"".join(client.get(url).streaming_content).decode()
        assert not [value for value in raw if value in content], url


def test_a_ledger_line_is_the_list_api_record_masked(world):
    entry = ledger_services.entry_create(by=world.user(COUNTY_A), data=unenrolled_data(world))
    client = world.token_client(COUNTY_A)
    records, _ = read(client, LEDGER)
    line = next(record for record in records if record["id"] == entry.pk)
    listed = client.get("/api/v1/ledger-entries/", {"page_size": 200}).json()["results"]
    assert without_cursor(line) == next(item for item in listed if item["id"] == entry.pk)
    assert line["parent_contact"] == mask_phone(PHONE)
    assert line["id_number"] == mask_id_number(entry.id_number) != entry.id_number


def test_an_attendance_line_is_the_class_day_with_its_marks_and_replaces_them(world, klass):
    open_to_teachers()
    first, second = pupil(world, klass), pupil(world, klass)
    roll = take(world, klass, MON, {first: Mark.LATE, second: Mark.UNEXCUSED}).roll
    client = world.token_client(SCHOOL)
    records, _ = read(client, ATTENDANCE)
    line = next(record for record in records if record["id"] == roll.pk)
    assert without_cursor(line) == client.get(f"/api/v1/attendance/{roll.pk}/").json()
    assert [mark["student"] for mark in line["marks"]] == [first.pk, second.pk]
    # A later submission takes a mark back: the day's next line holds only what stands.
    take(world, klass, MON, {second: Mark.UNEXCUSED})
    later, _ = read(client, ATTENDANCE, after=line["cursor"])
    assert ids(later) == [roll.pk]
    assert [mark["student"] for mark in later[0]["marks"]] == [second.pk]


def test_the_csv_has_the_same_records_one_per_line_after_a_header(world):
    make_student(world, SCHOOL)
    client = world.token_client(SCHOOL)
    records, _ = read(client, STUDENTS)
    response = client.get(STUDENTS_CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["id"]) for row in rows] == ids(records)
    assert [row["cursor"] for row in rows] == [record["cursor"] for record in records]
    assert [row["id_number"] for row in rows] == [record["id_number"] for record in records]
    assert json.loads(rows[-1]["guardians"]) == records[-1]["guardians"]


@pytest.mark.parametrize("url", [STUDENTS, ATTENDANCE])
def test_a_stream_reads_in_batches_whatever_its_length(world, klass, url):
    """One query for the rows and one for their guardians or marks per batch of
    kongchuo.sync.CHUNK_ROWS, whatever the number of rows: never one per row."""
    open_to_teachers()
    client = world.token_client(SCHOOL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            b"".join(client.get(url).streaming_content)
        return len(captured)

    first = pupil(world, klass)
    take(world, klass, MON, {first: Mark.LATE})
    few = queries()
    for day in (TUE, WED):
        take(world, klass, day, {pupil(world, klass): Mark.UNEXCUSED, first: Mark.LATE})
    assert queries() == few


@pytest.mark.parametrize("url", [STUDENTS, ATTENDANCE])
def test_a_stream_read_in_many_batches_is_the_stream_read_in_one(world, klass, url, monkeypatch):
    """Each batch's guardians or marks belong to its own rows: with batches of two rows
    (kongchuo.sync.CHUNK_ROWS), the stream is line for line the one read in a single batch."""
    open_to_teachers()
    client = world.token_client(SCHOOL)
    for day in (MON, TUE, WED, THU, FRI):
        take(world, klass, day, {pupil(world, klass): Mark.UNEXCUSED})

    def stream() -> list[bytes]:
        return b"".join(client.get(url).streaming_content).splitlines()

    whole = stream()
    monkeypatch.setattr("kongchuo.sync.CHUNK_ROWS", 2)
    assert len(whole) > 5 and stream() == whole


# --- whose records -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [STUDENTS, LEDGER, ATTENDANCE])
def test_a_stream_holds_the_area_and_never_another_county(world, klass, url):
    open_to_teachers()
    mine = pupil(world, klass)
    take(world, klass, MON, {mine: Mark.LATE})
    create_entry(world, mine)
    theirs = make_student(world, "c2_xz1_xx1_guanli")
    create_entry(world, theirs, "c2_xz1_xx1_guanli")
    model = {STUDENTS: Student, LEDGER: LedgerEntry, ATTENDANCE: RollCall}[url]
    for username in (SCHOOL, COUNTY_A, COUNTY_B, PROVINCE):
        user = world.user(username)
        records, _ = read(world.token_client(username), url)
        expected = model.objects.for_user(user).order_by("pk").values_list("pk", flat=True)
        assert sorted(ids(records)) == list(expected), (username, url)
        if username != COUNTY_B:  # county B takes no roll here
            assert records, (username, url, "every account has something of county A's")
    if url == STUDENTS:
        for username, own, other in (
            (SCHOOL, mine, theirs),
            (COUNTY_A, mine, theirs),
            (COUNTY_B, theirs, mine),
        ):
            listed = ids(read(world.token_client(username), STUDENTS)[0])
            assert own.pk in listed and other.pk not in listed, username


def test_a_class_teacher_syncs_their_own_class_only(world, klass):
    mine = pupil(world, klass)
    records, _ = read(world.token_client("xz1_xx1_banzhuren"), STUDENTS)
    assert mine.pk in ids(records)
    assert {record["klass"] for record in records} == {klass.pk}


def test_a_read_only_token_may_sync(world):
    from rest_framework.test import APIClient

    from accounts import tokens

    make_student(world, SCHOOL)
    issued = tokens.issue(user=world.user(COUNTY_A), name="镜像系统", read_only=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    records, _ = read(client, STUDENTS)
    assert records


def test_a_stream_needs_an_account(world):
    from rest_framework.test import APIClient

    response = APIClient().get(STUDENTS)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_each_stream_is_rate_limited_as_an_export(world):
    for url in (STUDENTS, STUDENTS_CSV, LEDGER, ATTENDANCE):
        assert ratelimits._export(None, resolve(url)), url


def test_each_stream_read_is_in_the_audit_trail_as_an_export(world):
    client = world.token_client(SCHOOL)
    records, _ = read(client, STUDENTS)
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert event.actor == world.user(SCHOOL)
    assert event.detail == f"导出学生（批量同步），共{len(records)}行"


# --- which records, in which order, resumed ----------------------------------------------------


def _stamp(students, at: datetime.datetime) -> None:
    Student.objects.filter(pk__in=[s.pk for s in students]).update(updated_at=at)


def test_since_gives_the_records_changed_at_or_after_it(world):
    old, new = make_student(world, SCHOOL), make_student(world, SCHOOL)
    before = timezone.now() - datetime.timedelta(days=30)
    _stamp(Student.objects.exclude(pk=new.pk), before)
    client = world.token_client(SCHOOL)
    since = (before + datetime.timedelta(seconds=1)).isoformat()
    assert ids(read(client, STUDENTS, since=since)[0]) == [new.pk]
    assert old.pk in ids(read(client, STUDENTS, since=before.isoformat())[0])
    # A day is that day's midnight, Beijing time; so is a moment without a zone.
    day = timezone.localtime(before).date() + datetime.timedelta(days=1)
    assert ids(read(client, STUDENTS, since=day.isoformat())[0]) == [new.pk]
    naive = timezone.localtime(before).replace(tzinfo=None) + datetime.timedelta(seconds=1)
    assert ids(read(client, STUDENTS, since=naive.isoformat())[0]) == [new.pk]


def test_a_plus_of_the_zone_left_unencoded_is_still_read(world):
    make_student(world, SCHOOL)
    client = world.token_client(SCHOOL)
    response = client.get(f"{STUDENTS}?since=2026-01-01T00:00:00+08:00")
    assert response.status_code == 200, response.content


def test_records_come_oldest_change_first_with_ties_in_id_order(world):
    made = [make_student(world, SCHOOL) for _ in range(4)]
    at = timezone.now() - datetime.timedelta(hours=1)
    _stamp(made[2:], at - datetime.timedelta(minutes=5))
    _stamp(made[:2], at)  # two records changed at the same moment
    records, _ = read(world.token_client(SCHOOL), STUDENTS)
    order = ids(records)
    mine = [order.index(s.pk) for s in (made[2], made[3], made[0], made[1])]
    assert mine == sorted(mine)
    stamps = [(Cursor.decode(r["cursor"]).at, r["id"]) for r in records]
    assert stamps == sorted(stamps)


def test_resuming_after_any_cursor_gives_the_rest_none_twice_none_missed(world):
    made = [make_student(world, SCHOOL) for _ in range(5)]
    # Ties at the cut: three records changed at one moment.
    _stamp(made[1:4], timezone.now() - datetime.timedelta(minutes=1))
    client = world.token_client(SCHOOL)
    everything, _ = read(client, STUDENTS)
    assert len(everything) >= 5
    for size in (1, 2, 3):
        resumed, after = [], None
        while True:
            params = {"limit": size, **({"after": after} if after else {})}
            part, end = read(client, STUDENTS, **params)
            resumed += part
            if not part:
                assert end["next"] == after, "an empty part keeps the cursor"
                break
            assert end["next"] == part[-1]["cursor"]
            after = end["next"]
        assert resumed == everything, size
    # From a line in the middle (a dropped connection): exactly the lines after it.
    middle = everything[len(everything) // 2]
    rest, _ = read(client, STUDENTS, after=middle["cursor"])
    assert rest == everything[len(everything) // 2 + 1 :]


def test_a_record_changed_after_it_was_sent_comes_again_after_the_cursor(world):
    student = make_student(world, SCHOOL)
    client = world.token_client(SCHOOL)
    everything, end = read(client, STUDENTS)
    Student.objects.filter(pk=student.pk).update(
        address="南涧镇新政村", updated_at=timezone.now() + datetime.timedelta(seconds=1)
    )
    again, _ = read(client, STUDENTS, after=end["next"])
    assert ids(again) == [student.pk] and again[0]["address"] == "南涧镇新政村"


def test_a_merge_reaches_a_mirror_both_records_and_the_class_days_of_the_moved_marks(world, klass):
    """A merge writes by UPDATE, which sets no auto_now: it stamps the merged record and
    the roll calls whose marks moved itself, so that syncing after the last cursor gets the
    merged record (pointing to the kept one) and those days as they now read."""
    from students import merge

    open_to_teachers()
    kept, twin = pupil(world, klass), pupil(world, klass)
    # The same child registered twice, once without numbers.
    Student.objects.filter(pk=twin.pk).update(
        name=kept.name, student_number=None, id_number=None, id_hash=None, id_masked=""
    )
    twin.refresh_from_db()
    roll = take(world, klass, MON, {twin: Mark.UNEXCUSED}).roll
    client = world.token_client(COUNTY_A)
    _, students_end = read(client, STUDENTS)
    _, days_end = read(client, ATTENDANCE)
    merge.merge_students(by=world.user("xian_admin"), keep=kept, merged=twin, reason="重复登记")
    students, _ = read(client, STUDENTS, after=students_end["next"])
    merged = next(record for record in students if record["id"] == twin.pk)
    assert merged["merged_into"] == kept.pk and kept.pk in ids(students)
    days, _ = read(client, ATTENDANCE, after=days_end["next"])
    assert ids(days) == [roll.pk]
    # The kept record was on that roll (present), so the twin's mark went (attendance.merge).
    assert days[0]["marks"] == []


# --- bad parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"since": "yesterday"}, "since", "ISO 8601"),
        ({"since": "2026-02-30"}, "since", "ISO 8601"),
        ({"since": "2026-13-01T00:00:00"}, "since", "ISO 8601"),
        ({"since": "0001-01-01"}, "since", "ISO 8601"),
        ({"after": "1764547200000000"}, "after", "cursor"),
        ({"after": "abc_1"}, "after", "cursor"),
        ({"after": "9" * 18 + "_1"}, "after", "cursor"),
        ({"after": "1_" + "9" * 19}, "after", "cursor"),
        ({"after": "1_"}, "after", "cursor"),
        ({"limit": "0"}, "limit", "整数"),
        ({"limit": "-5"}, "limit", "整数"),
        ({"limit": "1.5"}, "limit", "整数"),
        ({"limit": "１０"}, "limit", "整数"),
        ({"limit": "99999999999"}, "limit", "整数"),
        ({"sinc": "2026-01-01"}, "sinc", "不支持的查询参数"),
        ({"page_size": "50"}, "page_size", "不支持的查询参数"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_in_chinese(world, params, field, says):
    for url in (STUDENTS, STUDENTS_CSV, LEDGER, ATTENDANCE):
        response = world.token_client(SCHOOL).get(url, params)
        assert response.status_code == 400, (url, params)
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert says in body["errors"][field][0] and says in body["detail"], body


def test_an_error_is_json_whatever_the_client_accepts(world):
    response = world.token_client(SCHOOL).get(
        STUDENTS, {"limit": "x"}, HTTP_ACCEPT="application/x-ndjson"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_the_cursor_is_the_change_time_in_microseconds_and_the_id():
    at = datetime.datetime(2026, 12, 1, 0, 0, 0, 123456, tzinfo=datetime.UTC)
    cursor = Cursor(at, 42)
    assert cursor.encode() == "1796083200123456_42"
    assert Cursor.decode(cursor.encode()) == cursor


# --- the schema --------------------------------------------------------------------------------


def test_the_streams_are_in_the_schema_with_their_media_types(world):
    response = world.token_client(SCHOOL).get("/api/v1/schema/", {"format": "json"})
    paths = response.json()["paths"]
    for name in ("students", "ledger-entries", "attendance"):
        for fmt, media in (("ndjson", "application/x-ndjson"), ("csv", "text/csv")):
            operation = paths[f"/api/v1/sync/{name}.{fmt}"]["get"]
            assert media in operation["responses"]["200"]["content"]
            assert "application/json" in operation["responses"]["400"]["content"]
            assert {p["name"] for p in operation["parameters"]} == {"since", "after", "limit"}
