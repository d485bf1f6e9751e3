"""Query parameters of the wrong type are refused with a 400 naming them, never ignored and never
a 500 (issue 10 §7): one test per kind of parameter (id, boolean, date, time, page size), on
every list that has it, plus the out-of-range ids the schema fuzzer found."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Notification, School
from kongchuo.filters import MAX_ID
from kongchuo.pagination import PAGE_SIZE_MESSAGE
from tests.ledger.conftest import entry_data, make_student

pytestmark = pytest.mark.django_db

# Values an id parameter must refuse: too large for any id column, an exponent (the fuzzer's
# -1.19e+245), a decimal, zero and negatives, non-ASCII digits, text.
BAD_IDS = [
    "99999999999999999999",
    str(MAX_ID + 1),
    "-1.19e+245",
    "2.2603445566135193e+41",
    "1.5",
    "1.0",
    "0",
    "-3",
    "²",
    "١٢",
    "abc",
    "9" * 5000,
]
ID_PARAMETERS = [
    ("/api/v1/students/", "school"),
    ("/api/v1/students/", "class"),
    ("/api/v1/attendance/", "school"),
    ("/api/v1/attendance/", "klass"),
    ("/api/v1/ledger-entries/", "school"),
    ("/api/v1/ledger-entries/", "township"),
    ("/api/v1/schools/", "township"),
    ("/api/v1/schools/", "parent"),
    ("/api/v1/classes/", "school"),
    ("/api/v1/classes/", "head_teacher"),
    ("/api/v1/regions/", "parent"),
]
BOOLEAN_PARAMETERS = [
    ("/api/v1/notifications/", "unread"),
    ("/api/v1/ledger-entries/", "overdue"),
    ("/api/v1/ledger-entries/", "rebound"),
]
LISTS = [
    "/api/v1/regions/",
    "/api/v1/schools/",
    "/api/v1/classes/",
    "/api/v1/notifications/",
    "/api/v1/students/",
    "/api/v1/ledger-entries/",
    "/api/v1/attendance/",
]


@pytest.fixture
def county(world):
    return world.token_client("xian_staff")


def _refused(response, parameter: str) -> list[str]:
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    assert body["detail"] and parameter in body["errors"], body
    return body["errors"][parameter]


@pytest.mark.parametrize(("path", "parameter"), ID_PARAMETERS)
def test_an_id_parameter_is_a_positive_integer_up_to_2_63_minus_1(county, path, parameter):
    for value in BAD_IDS:
        messages = _refused(county.get(path, {parameter: value}), parameter)
        assert messages == [f"应为正整数编号（1 到 {MAX_ID}）。"], value
    # The largest id there can be is a valid question: nothing has it.
    response = county.get(path, {parameter: str(MAX_ID)})
    assert response.status_code == 200 and response.json()["results"] == []


def test_an_id_filter_still_finds_by_id(world, county):
    school = School.objects.get(code=world.user("xz1_xx1_guanli").school.code)
    make_student(world)
    found = county.get("/api/v1/students/", {"school": f" {school.pk} "}).json()["results"]
    assert found and {row["school"] for row in found} == {school.pk}


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/students/", "grade"),
        ("/api/v1/classes/", "grade"),
        ("/api/v1/classes/", "school_year"),
    ],
)
def test_a_whole_number_parameter_is_not_rounded(county, path, parameter):
    for value in ("1.5", "7.0", "1e1", "-3", "x"):
        assert _refused(county.get(path, {parameter: value}), parameter) == ["应为正整数。"], value
    assert county.get(path, {parameter: "7"}).status_code == 200


def test_classes_by_grade_and_year(world, county):
    rows = county.get("/api/v1/classes/", {"grade": 7, "page_size": 500}).json()["results"]
    assert rows and {row["grade"] for row in rows} == {7}
    year = rows[0]["school_year"]
    same = county.get("/api/v1/classes/", {"school_year": year}).json()["results"]
    assert same and {row["school_year"] for row in same} == {year}


@pytest.mark.parametrize(("path", "parameter"), BOOLEAN_PARAMETERS)
def test_a_boolean_parameter_is_true_false_1_or_0(county, path, parameter):
    for value in ("yes", "on", "2", "truthy", "t", "None"):
        messages = _refused(county.get(path, {parameter: value}), parameter)
        assert messages == ["应为 true、false、1 或 0。"], value
    for value in ("true", "false", "1", "0", "True", "FALSE"):
        assert county.get(path, {parameter: value}).status_code == 200, value


def test_unread_true_and_false_both_filter(world):
    user = world.user("xian_staff")
    Notification.objects.create(recipient=user, kind="general", title="未读")
    Notification.objects.create(
        recipient=user, kind="general", title="已读", read_at=timezone.now()
    )
    client = world.token_client("xian_staff")

    def titles(value):
        response = client.get("/api/v1/notifications/", {"unread": value})
        return [row["title"] for row in response.json()["results"]]

    assert titles("true") == titles("1") == ["未读"]
    assert titles("false") == titles("0") == ["已读"]


@pytest.mark.parametrize("parameter", ["date_from", "date_to"])
def test_a_date_parameter_is_yyyy_mm_dd(county, parameter):
    for value in (
        "2026/10/12",
        "10/12/2026",
        "2026年10月12日",
        "2026-13-01",
        "2026-10-12T08:00",
        "x",
    ):
        messages = _refused(county.get("/api/v1/attendance/", {parameter: value}), parameter)
        assert messages == ["应为 YYYY-MM-DD 格式的日期，例如 2026-09-01。"], value
    assert county.get("/api/v1/attendance/", {parameter: "2026-10-12"}).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/students/", "/api/v1/ledger-entries/"])
def test_updated_since_is_iso_8601(county, path):
    for value in ("yesterday", "2026-13-01T00:00:00", "12/10/2026", "2026-10-12T25:00:00"):
        _refused(county.get(path, {"updated_since": value}), "updated_since")
    # Year 1 in a zone east of UTC would fall before year 1 in UTC.
    _refused(county.get(path, {"updated_since": "0001-01-01T00:00:00+08:00"}), "updated_since")
    for value in ("2026-10-12", "2026-10-12T08:00:00", "2026-10-12T08:00:00Z"):
        assert county.get(path, {"updated_since": value}).status_code == 200, value


@pytest.mark.parametrize("path", ["/api/v1/students/", "/api/v1/ledger-entries/"])
def test_updated_since_with_any_offset_python_accepts(world, county, path):
    """PostgreSQL refuses offsets beyond ±15:59 (the fuzzer's "1024-07-01T08:46:23-17:43" was a
    DataError, a 500); compared in UTC they never reach it."""
    student = make_student(world)
    from ledger import services

    services.entry_create(by=world.user("xz1_xx1_guanli"), data=entry_data(student))
    long_ago = county.get(path, {"updated_since": "1024-07-01T08:46:23.827240-17:43"})
    assert long_ago.status_code == 200 and long_ago.json()["results"]
    # +23:59 ahead of UTC is still earlier than now in UTC: the offset is honoured, not dropped.
    soon = timezone.now() + datetime.timedelta(hours=2)
    local = soon.astimezone(datetime.timezone(datetime.timedelta(hours=23, minutes=59)))
    ahead = county.get(path, {"updated_since": local.isoformat()})
    assert ahead.status_code == 200 and ahead.json()["results"] == []


@pytest.mark.parametrize("path", LISTS)
def test_page_size_is_a_positive_integer(county, path):
    for value in ("0", "-5", "1.5", "abc", "1e3", "٣"):
        assert _refused(county.get(path, {"page_size": value}), "page_size") == [
            PAGE_SIZE_MESSAGE
        ], value
    assert county.get(path, {"page_size": "2"}).status_code == 200
    # Larger than the cap, even far larger than any number Python converts: capped, not refused.
    assert county.get(path, {"page_size": "9" * 5000}).status_code == 200


def test_a_bad_cursor_is_a_404_in_chinese(county):
    response = county.get("/api/v1/students/", {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert response.json() == {"detail": "分页游标无效，请使用上一页返回的 next 或 previous 地址。"}


# -- path ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/students/99999999999999999999/",
        "/api/v1/students/99999999999999999999/events/",
        "/api/v1/ledger-entries/99999999999999999999/",
        "/api/v1/attendance/99999999999999999999/",
        "/api/v1/schools/99999999999999999999/",
        f"/api/v1/notifications/{MAX_ID + 1}/",
    ],
)
def test_a_path_id_out_of_range_is_404(county, path):
    response = county.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到该记录。"}
