"""The 劝返 case on the student page and on the ledger entry page (students.panels): the case's
state, step, township, last action and a link, for whoever sees the case (issue 12 rule 2);
on a 已确认辍学 entry without an open case, 下达劝返指令 for the county only."""

import pytest

from returns.choices import Method
from tests.ledger.conftest import make_student, township
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    closed,
    confirmed,
    open_case,
    visit,
    working,
)

pytestmark = pytest.mark.django_db

PANEL = 'data-testid="returns-panel"'
OPEN_BUTTON = 'data-testid="open-case"'


def student_page(world, username, student) -> str:
    response = world.client(username).get(f"/students/{student.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def entry_page(world, username, entry) -> str:
    response = world.client(username).get(f"/ledger/{entry.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "username",
    [COUNTY_USER, "xian_admin", OFFICIAL, "xz1_cungan", "xz1_xx1_guanli", "xz1_xx1_banzhuren"],
)
def test_everyone_who_sees_the_case_gets_it_on_the_student_and_entry_pages(world, child, username):
    case = working(world, child)
    visit(world, case, method=Method.PHONE, result="监护人答应周一送孩子返校")
    for html in (student_page(world, username, child), entry_page(world, username, case.entry)):
        assert PANEL in html
        assert "劝返中" in html and "宣传教育" in html and township(world).name in html
        assert "电话" in html and "监护人答应周一送孩子返校" in html
        assert f'href="/returns/{case.pk}/"' in html
        assert OPEN_BUTTON not in html


def test_the_supervisor_above_reads_the_case_on_the_entry_page(world, child):
    case = open_case(world, child)
    html = entry_page(world, "shi_dudao", case.entry)
    assert PANEL in html and "待签收" in html and "尚未登记劝返记录" in html


def test_a_confirmed_dropout_without_a_case_offers_the_instruction_to_the_county_only(world, child):
    entry = confirmed(world, child)
    html = entry_page(world, COUNTY_USER, entry)
    assert OPEN_BUTTON in html and f'href="/ledger/{entry.pk}/return-case/"' in html
    assert "尚未下达劝返指令" in html
    for username in (OFFICIAL, "xz1_xx1_guanli", "shi_dudao"):
        assert PANEL not in entry_page(world, username, entry), username
    assert PANEL not in student_page(world, COUNTY_USER, child)  # no case yet


def test_once_the_instruction_is_sent_the_entry_shows_the_case_not_the_button(world, child):
    case = open_case(world, child)
    html = entry_page(world, COUNTY_USER, case.entry)
    assert PANEL in html and "待签收" in html and OPEN_BUTTON not in html


def test_a_closed_case_is_shown_as_closed(world, child):
    case = closed(world, child)
    html = student_page(world, COUNTY_USER, child)
    assert "已结案" in html and f'href="/returns/{case.pk}/"' in html


def test_the_schools_township_reads_the_case_another_township_persuades(world):
    """Rule 2: a child of xz1's school whose 户籍 is xz2 — xz2 persuades, xz1 reads."""
    child = make_student(world, grade=1, name="赵外乡", hukou_region=township(world, "xz2_ganbu"))
    case = open_case(world, child)
    assert case.township == township(world, "xz2_ganbu")
    for username in ("xz2_ganbu", OFFICIAL):
        html = entry_page(world, username, case.entry)
        assert PANEL in html and case.township.name in html, username


def test_a_user_of_another_county_gets_404_on_the_pages_that_hold_the_panel(world, child):
    case = working(world, child)
    client = world.client("c2_xian_staff")
    assert client.get(f"/students/{child.pk}/").status_code == 404
    assert client.get(f"/ledger/{case.entry.pk}/").status_code == 404
