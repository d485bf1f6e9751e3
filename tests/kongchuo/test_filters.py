"""Id parameters on the pages (issue 10 §7): a list filter by an id no record can have matches
nothing, and a path id out of range is 404, on SQLite and PostgreSQL alike; never a 500."""

import pytest

from accounts.models import Region, School
from kongchuo.filters import MAX_ID, NO_MATCH, page_integer
from tests.ledger.conftest import entry_data, make_student

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["99999999999999999999", str(MAX_ID + 1), "-1.19e+245", "²", "abc", "9" * 5000]


def test_page_integer():
    assert page_integer(None) is None and page_integer("") is None and page_integer(" ") is None
    assert page_integer("42") == 42 and page_integer(" 7 ") == 7 and page_integer("007") == 7
    assert page_integer(str(MAX_ID)) == MAX_ID
    for value in [*OUT_OF_RANGE, "0", "-3", "1.5", "١٢"]:
        assert page_integer(value) == NO_MATCH, value


@pytest.fixture
def county_page(world):
    student = make_student(world)
    from ledger import services

    services.entry_create(by=world.user("xz1_xx1_guanli"), data=entry_data(student))
    return world.client("xian_staff"), student


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/students/", "school"),
        ("/students/", "class"),
        ("/students/", "grade"),
        ("/ledger/", "township"),
        ("/ledger/", "school"),
        ("/ledger/", "grade"),
        ("/org/schools/", "township"),
    ],
)
def test_a_list_filter_by_an_impossible_id_matches_nothing(county_page, path, parameter):
    client, student = county_page
    shown = client.get(path).content.decode()
    assert student.name in shown or path == "/org/schools/"
    for value in OUT_OF_RANGE:
        response = client.get(path, {parameter: value})
        assert response.status_code == 200, value
        assert student.name not in response.content.decode(), value


def test_the_school_list_filter_by_township_still_works(world):
    client = world.client("xian_staff")
    township = Region.objects.get(code="532926101")
    school = School.objects.filter(township=township).first()
    other = School.objects.exclude(township=township).filter(township__code__startswith="532926")
    page = client.get("/org/schools/", {"township": township.code}).content.decode()
    assert school.name in page and other.first().name not in page
    nothing = client.get("/org/schools/", {"township": "99999999999999999999"}).content.decode()
    assert school.name not in nothing


@pytest.mark.parametrize(
    "path",
    [
        "/students/99999999999999999999/",
        "/students/99999999999999999999/edit/",
        "/ledger/99999999999999999999/",
        "/org/schools/99999999999999999999/",
        f"/org/regions/{MAX_ID + 1}/edit/",
        "/ledger/new/?student=99999999999999999999",
    ],
)
def test_a_path_id_out_of_range_is_404(world, path):
    response = world.client("xian_admin").get(path)
    assert response.status_code == 404
    assert "未找到" in response.content.decode()
