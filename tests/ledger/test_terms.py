"""学期分类复核 on the school calendar (DOMAIN.md §5, 000): every open entry is classified within
one month of each term start of its own calendar; afterwards an open entry not reviewed since
that term started is 逾期未分类. The day is passed in, so no clock is frozen."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.models import Region
from ledger import selectors, services, terms
from ledger.choices import State
from ledger.exports import HEADINGS
from ledger.models import LedgerEntry
from students.calendar import term_calendars
from tests import export_jobs
from tests.ledger.conftest import (
    APPROVER,
    COUNTY_USER,
    SCHOOL_USER,
    add_term,
    create_entry,
    entry_in,
    make_student,
    school_of,
    unenrolled_data,
)

pytestmark = pytest.mark.django_db

D = datetime.date
COUNTY_A, COUNTY_B = "532926", "530102"
SPRING = (D(2026, 3, 1), D(2026, 7, 10))
AUTUMN = (D(2026, 9, 1), D(2027, 1, 20))


def county(code: str) -> Region:
    return Region.objects.get(code=code)


def school_year(code: str, autumn_start: datetime.date = AUTUMN[0]) -> None:
    """County ``code``'s default calendar: spring and autumn 2026."""
    add_term(county(code), *SPRING, name="2025-2026学年第二学期")
    add_term(county(code), autumn_start, AUTUMN[1], name="2026-2027学年第一学期")


def reviewed(entry: LedgerEntry, day: datetime.date) -> LedgerEntry:
    LedgerEntry.objects.filter(pk=entry.pk).update(reviewed_on=day)
    return entry


def overdue_on(day: datetime.date, username: str = APPROVER) -> set[int]:
    """The entries overdue on ``day``; the flag on every row and the filter agree."""
    listed = selectors.entries(_user(username), today=day)
    flagged = {entry.pk for entry in listed if entry.is_overdue}
    filtered = set(
        selectors.entries(_user(username), today=day, overdue=True).values_list("pk", flat=True)
    )
    assert flagged == filtered
    return flagged


def _user(username):
    from accounts.models import User

    return User.objects.select_related("region", "school").get(username=username)


# -- the classification month ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (D(2025, 9, 1), D(2025, 9, 30)),
        (D(2026, 3, 1), D(2026, 3, 31)),
        (D(2025, 12, 15), D(2026, 1, 14)),  # across the year end
        (D(2026, 8, 20), D(2026, 9, 19)),
        # A start late in a month: the month runs to the end of the shorter next month.
        (D(2026, 1, 31), D(2026, 2, 28)),
        (D(2028, 1, 30), D(2028, 2, 29)),
        (D(2026, 1, 28), D(2026, 2, 27)),
    ],
)
def test_review_deadline_is_the_end_of_the_first_month_of_the_term(start, deadline):
    assert terms.review_deadline(start) == deadline


def test_the_current_term_is_the_latest_started_so_the_summer_break_belongs_to_the_term_before(
    world,
):
    school_year(COUNTY_A)
    cal = term_calendars().of(county_id=county(COUNTY_A).pk)
    assert cal.latest_term(D(2026, 2, 28)) is None  # before the calendar's first term
    assert cal.latest_term(D(2026, 3, 1)).name == "2025-2026学年第二学期"
    assert cal.latest_term(D(2026, 8, 15)).name == "2025-2026学年第二学期"  # the summer break
    assert cal.latest_term(D(2026, 9, 1)).name == "2026-2027学年第一学期"
    assert cal.next_start(cal.latest_term(D(2026, 8, 15))) == AUTUMN[0]
    assert cal.next_start(cal.latest_term(D(2026, 9, 1))) is None


# -- overdue ---------------------------------------------------------------------------------


def test_an_entry_counts_as_classified_for_the_term_it_is_created_in(world, child):
    today = timezone.localdate()
    add_term(county(COUNTY_A), today - datetime.timedelta(days=60), today)
    entry = create_entry(world, child)
    assert entry.reviewed_on == today
    assert overdue_on(today) == set()


def test_overdue_follows_the_county_default_calendar_and_the_last_day_of_the_month_is_not_overdue(
    world, child
):
    school_year(COUNTY_A)
    stale = reviewed(create_entry(world, child), D(2026, 8, 20))
    reviewed(create_entry(world, make_student(world)), D(2026, 9, 2))
    assert overdue_on(D(2026, 9, 15)) == set()  # inside the classification month
    assert overdue_on(D(2026, 9, 30)) == set()  # its last day
    assert overdue_on(D(2026, 10, 1)) == {stale.pk}  # the day after


def test_a_school_overriding_with_a_later_term_start_has_a_later_deadline(world, child):
    school_year(COUNTY_A)
    # The 中心学校 starts its own autumn term on 15 September; the county's other schools
    # keep the county's 1 September.
    add_term(school_of(world, SCHOOL_USER), D(2026, 9, 15), D(2027, 1, 25), name="本校秋季学期")
    own = reviewed(create_entry(world, child), D(2026, 9, 10))
    other = reviewed(
        create_entry(world, make_student(world, "xz1_xx4_guanli", grade=8), "xz1_xx4_guanli"),
        D(2026, 9, 10),
    )
    # 9-10 is after the county's start, before the school's: reviewed for the county's term,
    # not for the school's own one.
    assert overdue_on(D(2026, 10, 1)) == set()
    assert overdue_on(D(2026, 10, 14)) == set()
    assert overdue_on(D(2026, 10, 15)) == {own.pk}
    reviewed(other, D(2026, 8, 31))
    assert overdue_on(D(2026, 10, 1)) == {other.pk}


def test_an_entry_without_a_school_follows_its_township_county(world):
    school_year(COUNTY_A)
    unborn = services.entry_create(by=_user(COUNTY_USER), data=unenrolled_data(world))
    assert unborn.school_id is None
    reviewed(unborn, D(2026, 8, 31))
    assert overdue_on(D(2026, 9, 30)) == set()
    assert overdue_on(D(2026, 10, 1)) == {unborn.pk}


def test_a_county_without_terms_has_no_overdue_entries(world):
    school_year(COUNTY_A)
    b_entry = create_entry(world, make_student(world, "c2_xz1_xx1_guanli"), "c2_xz1_xx1_guanli")
    reviewed(b_entry, D(2020, 1, 1))
    assert overdue_on(D(2026, 10, 1), "c2_xian_admin") == set()
    assert overdue_on(D(2026, 10, 1), "sheng_dudao") == set()


def test_the_summer_break_belongs_to_the_spring_term(world, child):
    school_year(COUNTY_A)
    in_spring = reviewed(create_entry(world, child), D(2026, 3, 20))
    before_spring = reviewed(create_entry(world, make_student(world)), D(2026, 2, 20))
    # August: no term is in session, the spring term is still the current one.
    assert overdue_on(D(2026, 8, 15)) == {before_spring.pk}
    # A review in the break counts for the spring term, not for the autumn one.
    reviewed(before_spring, D(2026, 8, 15))
    assert overdue_on(D(2026, 8, 16)) == set()
    assert overdue_on(D(2026, 10, 1)) == {in_spring.pk, before_spring.pk}


def test_closed_and_excluded_entries_are_never_overdue(world, child):
    school_year(COUNTY_A)
    closed = entry_in(world, State.CLOSED, child)
    excluded = entry_in(world, State.EXCLUDED, make_student(world))
    for entry in (closed, excluded):
        reviewed(entry, D(2026, 1, 1))
    assert overdue_on(D(2026, 10, 1)) == set()


def test_review_clears_overdue(world, child):
    today = timezone.localdate()
    start = today - datetime.timedelta(days=40)  # its classification month is over
    add_term(county(COUNTY_A), start, today + datetime.timedelta(days=60), name="本学期")
    entry = reviewed(create_entry(world, child), start - datetime.timedelta(days=1))
    assert overdue_on(today) == {entry.pk}
    services.entry_review(by=_user(SCHOOL_USER), entry=entry, note="仍在家")
    assert overdue_on(today) == set()
    entry.refresh_from_db()
    assert entry.reviewed_on == today
    assert entry.events.order_by("-id")[0].note == "本学期：仍在家"


def test_the_overdue_flag_and_the_reviewed_term_reach_the_page_the_api_and_the_export(world, child):
    today = timezone.localdate()
    start = today - datetime.timedelta(days=40)
    add_term(county(COUNTY_A), start, today + datetime.timedelta(days=60), name="本学期")
    entry = reviewed(create_entry(world, child), start - datetime.timedelta(days=1))
    add_term(
        county(COUNTY_A),
        start - datetime.timedelta(days=200),
        start - datetime.timedelta(days=100),
        name="上学期",
    )
    client = world.client(COUNTY_USER)
    page = client.get(f"/ledger/{entry.pk}/").content.decode()
    assert 'data-testid="overdue"' in page and "上学期" in page
    listed = client.get("/ledger/")
    assert [row.is_overdue for row in listed.context["object_list"]] == [True]
    assert listed.context["overdue_count"] == 1
    body = world.token_client(COUNTY_USER).get(f"/api/v1/ledger-entries/{entry.pk}/").json()
    assert body["is_overdue"] is True
    assert body["reviewed_on"] == (start - datetime.timedelta(days=1)).isoformat()
    rows = export_jobs.rows(export_jobs.export(client, "/ledger/export/")[1])
    row = dict(zip(HEADINGS, rows[1], strict=True))
    assert row["已分类学期"] == "上学期" and row["是否逾期未分类"] == "是"


# -- the terms a day needs ------------------------------------------------------------------


def test_the_terms_read_for_a_day_answer_that_days_questions_as_every_term_does(world):
    """The home page asks about one day (overdue today): it reads each calendar's two latest
    terms started by then and those after, not every year's — and gets the same answers, also
    where a school's own later term replaces the county's latest (so the one before counts)."""
    years = [(D(y, 3, 1), D(y, 7, 10)) for y in (2025, 2026)] + [
        (D(y, 9, 1), D(y + 1, 1, 20)) for y in (2024, 2025, 2026)
    ]
    for start, end in years:
        add_term(county(COUNTY_A), start, end)
    own = school_of(world, SCHOOL_USER)
    other = school_of(world, "xz1_xx4_guanli")
    add_term(own, D(2026, 9, 15), D(2027, 1, 25), name="本校秋季学期")
    every = term_calendars()
    county_id = county(COUNTY_A).pk
    for day in (D(2024, 8, 1), D(2026, 2, 1), D(2026, 9, 5), D(2026, 9, 10), D(2026, 12, 1)):
        for_day = term_calendars(on=day)
        for school in (own, other, None):
            school_id = school.pk if school else None
            full = every.of(county_id=county_id, school_id=school_id)
            read = for_day.of(county_id=county_id, school_id=school_id)
            term = full.latest_term(day)
            assert read.latest_term(day) == term, (day, school)
            if term is not None:
                assert read.next_start(term) == full.next_start(term), (day, school)
    # On 10 September the school's own autumn term (from the 15th) has replaced the county's:
    # its current term is the spring term before.
    assert term_calendars(on=D(2026, 9, 10)).of(county_id=county_id, school_id=own.pk).latest_term(
        D(2026, 9, 10)
    ).start == D(2026, 3, 1)
    # In December only the county's spring and autumn terms of 2026 are read.
    december = term_calendars(on=D(2026, 12, 1)).of(county_id=county_id)
    assert [term.start for term in december.terms] == [D(2026, 3, 1), D(2026, 9, 1)]


# -- the data migration ----------------------------------------------------------------------


def test_migration_takes_the_newest_review_day_or_else_the_creation_day(world, child, monkeypatch):
    """Entries written before the calendar held a term label: the migration gives each the
    local day of its newest 学期分类复核, or else the day it was created."""
    migration = importlib.import_module("ledger.migrations.0005_reviewed_on")
    other_child = make_student(world)

    def at(iso):
        monkeypatch.setattr(timezone, "now", lambda: datetime.datetime.fromisoformat(iso))

    at("2026-08-31T16:30:00+00:00")  # 2026-09-01 00:30 in Beijing time
    never_reviewed = create_entry(world, other_child)
    twice = create_entry(world, child)
    at("2026-09-10T02:00:00+00:00")
    services.entry_review(by=_user(SCHOOL_USER), entry=twice, note="第一次")
    at("2026-10-19T16:30:00+00:00")  # 2026-10-20 00:30 in Beijing time
    services.entry_review(by=_user(SCHOOL_USER), entry=twice, note="第二次")
    monkeypatch.undo()
    LedgerEntry.objects.update(reviewed_on=D(2000, 1, 1))

    migration.fill_reviewed_on(apps, None)

    assert LedgerEntry.objects.get(pk=twice.pk).reviewed_on == D(2026, 10, 20)
    assert LedgerEntry.objects.get(pk=never_reviewed.pk).reviewed_on == D(2026, 9, 1)


# -- the term filter -------------------------------------------------------------------------


@pytest.fixture
def two_counties(world):
    """County A starts its autumn term on 1 September, county B on 7 September."""
    school_year(COUNTY_A)
    school_year(COUNTY_B, autumn_start=D(2026, 9, 7))
    b_school = "c2_xz1_xx1_guanli"
    return {
        "a_autumn": create_entry(world, make_student(world), found_on=D(2026, 9, 3)),
        "b_spring": create_entry(
            world, make_student(world, b_school), b_school, found_on=D(2026, 9, 3)
        ),
        "b_autumn": create_entry(
            world, make_student(world, b_school), b_school, found_on=D(2026, 9, 8)
        ),
    }


def test_term_filter_takes_the_term_of_each_entrys_own_calendar(world, two_counties):
    province = _user("sheng_dudao")

    def found_in(day):
        return {entry.pk for entry in selectors.entries(province, term=day.isoformat())}

    e = {name: entry.pk for name, entry in two_counties.items()}
    # 7 September is in both counties' autumn terms.
    assert found_in(D(2026, 9, 7)) == {e["a_autumn"], e["b_autumn"]}
    # 3 September: county A's autumn, but county B's spring term (its break runs to 9-06).
    assert found_in(D(2026, 9, 3)) == {e["a_autumn"], e["b_spring"]}
    assert found_in(D(2026, 5, 1)) == {e["b_spring"]}
    # Before any term: nothing.
    assert found_in(D(2025, 5, 1)) == set()


def test_term_choices_above_the_county_carry_a_day_inside_every_countys_term(world, two_counties):
    options = selectors.term_options(_user("sheng_dudao"), today=D(2026, 12, 2))
    assert [(o.name, o.day) for o in options] == [
        ("2026-2027学年第一学期", D(2026, 9, 7)),
        ("2025-2026学年第二学期", D(2026, 3, 1)),
    ]
    # The option's day selects the term in both counties.
    listed = selectors.entries(_user("sheng_dudao"), term=options[0].day.isoformat())
    assert {entry.pk for entry in listed} == {
        two_counties["a_autumn"].pk,
        two_counties["b_autumn"].pk,
    }


def test_term_choices_of_a_township_are_its_countys_and_of_a_school_its_own(world, two_counties):
    add_term(school_of(world, SCHOOL_USER), D(2026, 9, 15), D(2027, 1, 25), name="本校秋季学期")
    day = D(2026, 12, 2)
    assert [(o.name, o.day) for o in selectors.term_options(_user("c2_xz1_ganbu"), today=day)] == [
        ("2026-2027学年第一学期", D(2026, 9, 7)),
        ("2025-2026学年第二学期", D(2026, 3, 1)),
    ]
    school = selectors.term_options(_user(SCHOOL_USER), today=day)
    assert [(o.name, o.day) for o in school] == [
        ("本校秋季学期", D(2026, 9, 15)),
        ("2025-2026学年第二学期", D(2026, 3, 1)),
    ]
    # Terms not started yet are not offered.
    assert selectors.term_options(_user("xz1_ganbu"), today=D(2026, 8, 1))[0].day == D(2026, 3, 1)
