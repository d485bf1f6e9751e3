"""The 劝返 case list (issue 12, "What users get"): the county sees all cases of the county,
overdue first, filterable by township, step, overdue and outcome; a township official or team
member opens on "我的劝返案件", ordered by urgency with the reason on each card; the areas
above see theirs; nobody sees another area's cases. The home page's case items count what
waits for each person and link to the list filtered to exactly those cases."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import home
from returns import services
from returns.choices import CaseState, Duty, Step
from returns.models import ReturnCase
from tests.ledger.conftest import head_class, make_student, township
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    case_in,
    closed,
    days,
    open_case,
    returned,
    visit,
    working,
)

pytestmark = pytest.mark.django_db

TEACHER = "xz1_xx1_banzhuren"


def listed(world, username, **params) -> list[int]:
    response = world.client(username).get("/returns/", params)
    assert response.status_code == 200
    return [case.pk for case in response.context["object_list"]]


def page(world, username, **params) -> str:
    response = world.client(username).get("/returns/", params)
    assert response.status_code == 200
    return response.content.decode()


def students(world, names: str):
    klass = head_class(world)
    return [make_student(world, grade=1, klass=klass, name=name) for name in names]


def overdue(world, student) -> ReturnCase:
    case = working(world, student)
    services.step_advance(by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(3))
    ReturnCase.objects.filter(pk=case.pk).update(step_deadline=days(-1))
    return case


def idle(world, student) -> ReturnCase:
    case = working(world, student)
    ReturnCase.objects.filter(pk=case.pk).update(
        acknowledged_at=timezone.now() - datetime.timedelta(days=20)
    )
    return case


@pytest.fixture
def elsewhere(world):
    """A child of township xz1's school whose 户籍 is township xz2: xz2 persuades, xz1 reads."""
    return make_student(world, grade=2, name="赵外乡", hukou_region=township(world, "xz2_ganbu"))


# -- the county's list --------------------------------------------------------------------------


def test_county_list_shows_all_cases_of_the_county_overdue_first_closed_last(world):
    a, b, c, d = students(world, "甲乙丙丁")
    done = closed(world, a)
    new = open_case(world, b)
    late = overdue(world, c)
    rest = working(world, d)
    visit(world, rest)
    assert listed(world, COUNTY_USER) == [late.pk, new.pk, rest.pk, done.pk]
    html = page(world, COUNTY_USER)
    assert "<h1>劝返案件</h1>" in html and 'href="?mine=1"' in html
    assert f'href="/returns/{late.pk}/"' in html  # each row opens the case page
    assert "责令改正期限" in html and "已过" in html


def test_county_list_filters_by_township_taking_the_searched_code(world, child, elsewhere):
    own = working(world, child)
    other = open_case(world, elsewhere)
    xz2 = township(world, "xz2_ganbu")
    assert listed(world, COUNTY_USER, township=xz2.code) == [other.pk]
    assert listed(world, COUNTY_USER, township=township(world).code) == [own.pk]
    assert listed(world, COUNTY_USER, township=township(world, "c2_xz1_ganbu").code) == []
    response = world.client(COUNTY_USER).get("/returns/", {"township": "999999999"})
    assert list(response.context["object_list"]) == []  # no such township: nothing, and why
    assert "请从搜索结果中选择" in response.content.decode()


def test_county_list_filters_by_step(world):
    a, b = students(world, "甲乙")
    late = overdue(world, a)
    working(world, b)
    assert listed(world, COUNTY_USER, step=Step.ORDER.value) == [late.pk]
    assert listed(world, COUNTY_USER, step="abc") == []


def test_county_list_filters_by_overdue(world):
    a, b = students(world, "甲乙")
    late = overdue(world, a)
    working(world, b)
    assert listed(world, COUNTY_USER, overdue="1") == [late.pk]


@pytest.mark.parametrize("state", list(CaseState))
def test_county_list_filters_by_state_the_outcome(world, child, state):
    case = case_in(world, state, child)
    other = open_case(world, make_student(world, grade=1, name="钱二"))
    expected = {case.pk, other.pk} if state == CaseState.INSTRUCTED else {case.pk}
    assert set(listed(world, COUNTY_USER, state=state.value)) == expected


def test_county_list_filters_by_what_waits_and_searches_the_name(world):
    a, b, c = students(world, "甲乙丙")
    late, lazy, back = overdue(world, a), idle(world, b), returned(world, c)
    ReturnCase.objects.filter(pk=back.pk).update(follow_up_until=days(-1))
    assert listed(world, COUNTY_USER, due="deadline") == [late.pk]
    assert listed(world, COUNTY_USER, due="idle") == [lazy.pk]
    assert listed(world, COUNTY_USER, due="follow_up") == [back.pk]
    assert listed(world, COUNTY_USER, due="nonsense") == []
    assert listed(world, COUNTY_USER, q="乙") == [lazy.pk]


def test_county_list_shows_counts_by_state_linked_to_the_filter(world):
    a, b = students(world, "甲乙")
    open_case(world, a)
    returned(world, b)
    html = page(world, COUNTY_USER)
    assert 'href="?state=instructed"' in html and 'href="?overdue=1"' in html
    response = world.client(COUNTY_USER).get("/returns/")
    counts = {value: n for value, _, n in response.context["counts"]}
    assert counts[CaseState.INSTRUCTED] == 1 and counts[CaseState.RETURNED] == 1


# -- my cases -----------------------------------------------------------------------------------


def test_township_official_lands_on_my_cases_by_urgency_with_the_reason(world):
    a, b, c, d = students(world, "甲乙丙丁")
    rest = working(world, a)
    visit(world, rest)
    new = open_case(world, b)
    lazy = idle(world, c)
    late = overdue(world, d)
    closed(world, make_student(world, grade=1, name="戊"))  # done: not in "my cases"
    assert listed(world, OFFICIAL) == [late.pk, lazy.pk, new.pk, rest.pk]
    html = page(world, OFFICIAL)
    assert "<h1>我的劝返案件</h1>" in html and 'href="?mine=0"' in html
    assert f"责令改正期限（{days(-1):%Y-%m-%d}）已过" in html
    assert "超过14天未开展劝返" in html and "新的劝返指令，待签收" in html
    response = world.client(OFFICIAL).get("/returns/")
    reasons = [reason for _, reason in response.context["rows"]]
    assert (
        reasons[:3]
        == [
            f"责令改正期限（{days(-1):%Y-%m-%d}）已过",
            "超过14天未开展劝返",
            "新的劝返指令，待签收",
        ]
        and reasons[3] == ""
    )


def test_village_cadre_lands_on_my_cases_of_the_township(world, child):
    case = working(world, child)
    assert listed(world, "xz1_cungan") == [case.pk]
    assert "<h1>我的劝返案件</h1>" in page(world, "xz1_cungan")


def test_a_team_member_teacher_lands_on_my_cases_and_can_see_all_of_the_school(world):
    a, b = students(world, "甲乙")
    paired, other = working(world, a), working(world, b)
    assert listed(world, TEACHER) == [other.pk, paired.pk]  # not on a team: all, newest first
    services.member_add(
        by=world.user(OFFICIAL), case=paired, user=world.user(TEACHER), duty=Duty.TEACHER
    )
    assert listed(world, TEACHER) == [paired.pk]
    assert sorted(listed(world, TEACHER, mine="0")) == sorted([paired.pk, other.pk])


def test_the_schools_township_reads_a_case_in_all_cases_but_not_in_mine(world, child, elsewhere):
    """Rule 2: xz1 (the school's township) reads the case xz2 persuades, and does not work it."""
    own = working(world, child)
    read = open_case(world, elsewhere)
    assert listed(world, OFFICIAL) == [own.pk]
    assert sorted(listed(world, OFFICIAL, mine="0")) == sorted([own.pk, read.pk])
    assert listed(world, "xz2_ganbu") == [read.pk]
    html = page(world, OFFICIAL, mine="0")
    assert 'href="?mine=1"' in html and "赵外乡" in html


def test_another_countys_user_sees_none_of_the_cases(world, child):
    working(world, child)
    assert listed(world, "c2_xian_staff") == []
    assert listed(world, "c2_xz1_ganbu") == []
    assert listed(world, "xz2_xx1_guanli") == []  # another school of the county


def test_the_city_and_province_see_the_area_and_filter_by_county(world, child):
    case = working(world, child)
    assert listed(world, "shi_dudao") == [case.pk]
    assert listed(world, "sheng_dudao", county="532926") == [case.pk]
    assert listed(world, "sheng_dudao", county="530102") == []


def test_list_is_cards_on_a_phone_with_one_folding_filter_panel(world, child):
    working(world, child)
    html = page(world, COUNTY_USER)
    assert html.count('<details class="filter-panel">') == 1
    assert 'class="table cards"' in html and 'data-label="责任乡镇"' in html
    assert 'action="/returns/export/"' in html


@pytest.mark.parametrize("username", [COUNTY_USER, OFFICIAL, "sheng_dudao"])
def test_list_queries_do_not_grow_with_rows(world, username):
    client = world.client(username)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/returns/")
        assert response.status_code == 200
        return len(captured)

    first, *more = students(world, "甲乙丙丁戊")
    working(world, first)
    few = queries()
    for student in more:
        visit(world, working(world, student))
    assert queries() == few


# -- home page items ----------------------------------------------------------------------------


def items(world, username) -> dict[str, home.Item]:
    where = home.desk(world.user(username), timezone.localdate())
    return {item.key: item for item in home.work(where) if item.key.startswith("returns-")}


def follows(world, username, item: home.Item, url: str | None = None) -> list[int]:
    response = world.client(username).get(url or item.url)
    assert response.status_code == 200
    return [case.pk for case in response.context["object_list"]]


def test_township_home_items_count_what_waits_and_link_to_exactly_those_cases(world):
    a, b, c, d, e = students(world, "甲乙丙丁戊")
    new = open_case(world, a)
    near = working(world, b)
    services.step_advance(by=world.user(OFFICIAL), case=near, step=Step.ORDER, deadline=days(2))
    late = overdue(world, c)
    lazy = idle(world, d)
    back = returned(world, e)
    ReturnCase.objects.filter(pk=back.pk).update(follow_up_until=days(0))
    found = items(world, OFFICIAL)
    expected = {
        "returns-to-acknowledge": ("/returns/?mine=1&state=instructed", [new.pk]),
        "returns-deadline": ("/returns/?mine=1&due=deadline", [late.pk, near.pk]),
        "returns-idle": ("/returns/?mine=1&due=idle", [lazy.pk]),
        "returns-follow-up": ("/returns/?mine=1&due=follow_up", [back.pk]),
    }
    assert list(found) == list(expected)
    for key, (url, cases) in expected.items():
        assert found[key].url == url
        assert found[key].count == len(cases), key
        assert follows(world, OFFICIAL, found[key]) == cases, key


def test_a_teacher_gets_case_items_only_when_on_a_team(world, child):
    case = idle(world, child)
    assert items(world, TEACHER) == {}
    services.member_add(
        by=world.user(OFFICIAL), case=case, user=world.user(TEACHER), duty=Duty.TEACHER
    )
    found = items(world, TEACHER)
    assert found["returns-idle"].count == 1 and "returns-to-acknowledge" not in found
    assert follows(world, TEACHER, found["returns-idle"]) == [case.pk]


def test_county_home_items_link_to_overdue_and_unsigned_cases(world):
    a, b, c = students(world, "甲乙丙")
    late = overdue(world, a)
    unsigned = open_case(world, b)
    ReturnCase.objects.filter(pk=unsigned.pk).update(
        instructed_at=timezone.now() - datetime.timedelta(days=3)
    )
    open_case(world, c)  # sent today: not yet late
    found = items(world, COUNTY_USER)
    assert found["returns-overdue"].url == "/returns/?mine=0&overdue=1"
    assert found["returns-overdue"].count == 1
    assert follows(world, COUNTY_USER, found["returns-overdue"]) == [late.pk]
    assert found["returns-unacknowledged"].url == "/returns/?mine=0&due=unacknowledged"
    assert found["returns-unacknowledged"].count == 1
    assert follows(world, COUNTY_USER, found["returns-unacknowledged"]) == [unsigned.pk]


def test_province_home_items_link_each_county_to_its_filtered_list(world):
    (a,) = students(world, "甲")
    late = overdue(world, a)
    found = items(world, "sheng_dudao")["returns-overdue"]
    county = late.county
    assert found.by_county == {county.pk: 1}
    url = found.county_url(county)
    assert url == "/returns/?mine=0&overdue=1&county=532926"
    assert follows(world, "sheng_dudao", found, url) == [late.pk]
    page_html = world.client("sheng_dudao").get("/").content.decode()
    assert url.replace("&", "&amp;") in page_html


@pytest.mark.parametrize("username", [OFFICIAL, COUNTY_USER, "sheng_dudao"])
def test_home_page_queries_do_not_grow_with_the_cases(world, username):
    client = world.client(username)

    def queries() -> int:
        cache.clear()  # a province's counts are kept: count them afresh each time
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/")
        assert response.status_code == 200
        return len(captured)

    first, *more = students(world, "甲乙丙丁")
    open_case(world, first)
    few = queries()
    overdue(world, more[0])
    idle(world, more[1])
    returned(world, more[2])
    assert queries() == few
