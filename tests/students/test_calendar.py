"""The school calendar: which days are school days, the services that keep it, its pages."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent, Region, School
from kongchuo.errors import AppError
from students import calendar
from students.models import CalendarDay, DayKind, Term

pytestmark = pytest.mark.django_db

D = datetime.date.fromisoformat
COUNTY_A, COUNTY_B = "532926", "530102"


@pytest.fixture
def county(world):
    """County A's default calendar for 2026-2027: autumn 2026-09-01..2027-01-20 and spring
    2027-03-01..2027-07-10, 国庆 10-01..10-07 off and Saturday 10-10 worked."""
    county = Region.objects.get(code=COUNTY_A)
    calendar.default_terms(county, 2026)
    calendar.day_set(
        by=world.user("xian_admin"), owner=county, date=D("2026-10-10"), kind=DayKind.WORKDAY
    )
    return county


@pytest.fixture
def school(world, county):
    return world.user("xz1_xx1_xiaozhang").school


@pytest.fixture
def other_school(school, county):
    """Another school of county A, without a calendar of its own."""
    return (
        School.objects.filter(township__parent=county).exclude(pk=school.pk).order_by("pk").first()
    )


def days(*values):
    return [D(value) for value in values]


# --- what a school day is -------------------------------------------------------------------


def test_weekdays_in_a_term_are_school_days_and_weekends_are_not(school):
    cal = calendar.calendar_for(school)
    assert cal.is_school_day(D("2026-09-04"))  # Friday
    assert not cal.is_school_day(D("2026-09-05"))  # Saturday
    assert not cal.is_school_day(D("2026-09-06"))  # Sunday
    assert cal.is_school_day(D("2026-09-07"))  # Monday


def test_a_holiday_inside_a_term_is_not_a_school_day(school):
    cal = calendar.calendar_for(school)
    assert not cal.is_school_day(D("2026-10-01"))
    assert not cal.is_school_day(D("2026-10-07"))
    assert cal.is_school_day(D("2026-10-08"))


def test_a_make_up_saturday_is_a_school_day(school):
    cal = calendar.calendar_for(school)
    assert cal.is_school_day(D("2026-10-10"))
    assert not cal.is_school_day(D("2026-10-11"))


def test_days_between_terms_and_outside_every_term_are_not_school_days(school):
    cal = calendar.calendar_for(school)
    assert not cal.is_school_day(D("2026-08-31"))
    assert cal.is_school_day(D("2027-01-20"))
    assert not cal.is_school_day(D("2027-01-21"))  # 寒假
    assert not cal.is_school_day(D("2027-02-26"))
    assert cal.is_school_day(D("2027-03-01"))
    assert not cal.is_school_day(D("2027-07-12"))


def test_term_of_and_term_starts(school):
    cal = calendar.calendar_for(school)
    assert cal.term_of(D("2026-10-01")).name == "2026-2027学年第一学期"
    assert cal.term_of(D("2027-02-01")) is None
    assert cal.term_of(D("2027-07-10")).name == "2026-2027学年第二学期"
    assert cal.term_starts == days("2026-09-01", "2027-03-01")


def test_a_school_without_any_calendar_has_no_school_days(world):
    school = world.user("c2_xz1_xx1_xiaozhang").school
    cal = calendar.calendar_for(school)
    assert not cal.is_school_day(D("2026-09-07"))
    assert cal.school_days(D("2026-09-01"), D("2026-09-30")) == []


# --- school overrides -----------------------------------------------------------------------


def test_a_school_term_replaces_the_county_term_it_overlaps(world, school, other_school):
    principal = world.user("xz1_xx1_xiaozhang")
    calendar.term_save(
        by=principal, owner=school, name="本校第一学期", start=D("2026-09-07"), end=D("2027-01-15")
    )
    own, default = calendar.calendar_for(school), calendar.calendar_for(other_school)
    assert not own.is_school_day(D("2026-09-01"))
    assert own.is_school_day(D("2026-09-07"))
    assert not own.is_school_day(D("2027-01-18"))
    assert own.term_of(D("2026-10-08")).name == "本校第一学期"
    # The county's spring term still applies to the school; the other school keeps it all.
    assert own.is_school_day(D("2027-03-01"))
    assert own.term_starts == days("2026-09-07", "2027-03-01")
    assert default.is_school_day(D("2026-09-01"))
    assert default.is_school_day(D("2027-01-18"))


def test_term_calendars_hold_the_same_terms_as_each_schools_calendar(world, school, other_school):
    """The terms of every calendar at once (for the ledger's 学期分类复核) follow the same
    override rule as one school's calendar, in one query."""
    calendar.term_save(
        by=world.user("xz1_xx1_xiaozhang"),
        owner=school,
        name="本校第一学期",
        start=D("2026-09-07"),
        end=D("2027-01-15"),
    )
    county_id = school.township.parent_id
    with CaptureQueriesContext(connection) as captured:
        every = calendar.term_calendars()
    assert len(captured) == 1
    for one in (school, other_school):
        assert every.of(county_id=county_id, school_id=one.pk).terms == (
            calendar.calendar_for(one).terms
        )
    assert set(every.schools) == {school.pk}
    own = every.of(county_id=county_id, school_id=school.pk)
    # The latest term started on or before a day: the winter break belongs to the term before.
    assert own.latest_term(D("2027-02-01")).name == "本校第一学期"
    assert own.next_start(own.latest_term(D("2027-02-01"))) == D("2027-03-01")
    assert own.latest_term(D("2026-09-06")) is None


def test_a_school_day_replaces_the_county_day_for_that_date(world, school, other_school):
    staff = world.user("xz1_xx1_guanli")
    calendar.day_set(by=staff, owner=school, date=D("2026-09-08"), kind="holiday", note="校运会")
    # The school keeps the county's make-up Saturday free and works on a county holiday.
    calendar.day_set(by=staff, owner=school, date=D("2026-10-10"), kind="holiday")
    calendar.day_set(by=staff, owner=school, date=D("2026-10-07"), kind="workday")
    own, default = calendar.calendar_for(school), calendar.calendar_for(other_school)
    assert not own.is_school_day(D("2026-09-08"))
    assert not own.is_school_day(D("2026-10-10"))
    assert own.is_school_day(D("2026-10-07"))
    assert not own.is_school_day(D("2026-10-06"))  # the rest of the county holiday stays
    assert default.is_school_day(D("2026-09-08"))
    assert default.is_school_day(D("2026-10-10"))
    assert not default.is_school_day(D("2026-10-07"))
    # Restating the county's holiday changes nothing and is refused.
    with pytest.raises(AppError):
        calendar.day_set(by=staff, owner=school, date=D("2026-10-05"), kind="holiday")
    # Clearing the school's row falls back to the county's.
    assert calendar.day_clear(by=staff, owner=school, date=D("2026-10-10"))
    assert calendar.calendar_for(school).is_school_day(D("2026-10-10"))


# --- ranges ---------------------------------------------------------------------------------


def test_school_days_skip_weekends_holidays_and_the_break(school):
    cal = calendar.calendar_for(school)
    assert cal.school_days(D("2026-09-30"), D("2026-10-12")) == days(
        "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10", "2026-10-12"
    )
    assert cal.school_days(D("2027-01-18"), D("2027-03-02")) == days(
        "2027-01-18", "2027-01-19", "2027-01-20", "2027-03-01", "2027-03-02"
    )
    assert cal.school_days(D("2026-08-01"), D("2026-09-01")) == days("2026-09-01")


def test_previous_school_days_across_a_weekend_a_holiday_and_the_break(school):
    cal = calendar.calendar_for(school)
    # Monday: back over Sunday to the make-up Saturday and the two days after 国庆.
    assert cal.previous_school_days(D("2026-10-12"), 3) == days(
        "2026-10-08", "2026-10-09", "2026-10-10"
    )
    # After 国庆: back over the holiday and the weekend before it.
    assert cal.previous_school_days(D("2026-10-08"), 3) == days(
        "2026-09-28", "2026-09-29", "2026-09-30"
    )
    # Over 寒假 into the autumn term.
    assert cal.previous_school_days(D("2027-03-02"), 3) == days(
        "2027-01-19", "2027-01-20", "2027-03-01"
    )
    assert cal.previous_school_days(D("2027-03-02"), 2, including=True) == days(
        "2027-03-01", "2027-03-02"
    )
    # Before the first term there is nothing more.
    assert cal.previous_school_days(D("2026-09-02"), 5) == days("2026-09-01")


def test_calendars_for_many_schools_costs_the_same_queries_as_for_one(
    world, school, county, django_assert_num_queries
):
    township = school.township
    for n in range(20):
        School.objects.create(
            code=f"99{n:08d}", name=f"测试学校{n}", kind="primary", township=township
        )
    schools = list(School.objects.order_by("pk"))
    assert len(schools) >= 20
    staff = world.user("xz1_xx1_guanli")
    calendar.term_save(
        by=staff, owner=school, name="本校第一学期", start=D("2026-09-07"), end=D("2027-01-15")
    )
    calendar.day_set(by=staff, owner=school, date=D("2026-09-08"), kind="holiday")

    with django_assert_num_queries(3):
        one = calendar.calendars_for([schools[0]])
    with django_assert_num_queries(3):
        many = calendar.calendars_for(schools)
    assert set(many) == {s.pk for s in schools}
    assert len(one) == 1
    assert not many[school.pk].is_school_day(D("2026-09-08"))
    assert many[schools[-1].pk].is_school_day(D("2026-09-08"))


# --- refusals -------------------------------------------------------------------------------


def test_an_overlapping_term_is_refused_naming_the_other(world, county):
    with pytest.raises(AppError) as exc:
        calendar.term_save(
            by=world.user("xian_staff"),
            owner=county,
            name="暑期学期",
            start=D("2027-07-01"),
            end=D("2027-08-15"),
        )
    assert "2026-2027学年第二学期" in exc.value.message
    assert "start" in exc.value.errors


def test_a_term_may_be_moved_without_clashing_with_itself(world, county):
    term = Term.objects.get(county=county, start=D("2026-09-01"))
    calendar.term_save(
        by=world.user("xian_staff"),
        owner=county,
        name=term.name,
        start=D("2026-08-31"),
        end=term.end,
        term=term,
    )
    term.refresh_from_db()
    assert term.start == D("2026-08-31")
    assert AuditEvent.objects.filter(object_type="students.Term", action="update").exists()


def test_a_term_ending_before_it_starts_is_refused(world, county):
    with pytest.raises(AppError) as exc:
        calendar.term_save(
            by=world.user("xian_admin"),
            owner=county,
            name="2028学年",
            start=D("2028-09-01"),
            end=D("2028-08-01"),
        )
    assert "end" in exc.value.errors


@pytest.mark.parametrize(
    ("date", "kind"),
    [("2026-09-08", "workday"), ("2026-09-12", "holiday")],
    ids=["workday-on-a-weekday", "holiday-on-a-weekend"],
)
def test_a_special_day_that_changes_nothing_is_refused(world, county, date, kind):
    with pytest.raises(AppError) as exc:
        calendar.day_set(by=world.user("xian_admin"), owner=county, date=D(date), kind=kind)
    assert "date" in exc.value.errors


def test_each_account_edits_only_its_own_calendar(world, county, school):
    term = dict(name="学期", start=D("2030-09-01"), end=D("2031-01-20"))
    with pytest.raises(AppError):  # a school does not change the county default
        calendar.term_save(by=world.user("xz1_xx1_xiaozhang"), owner=county, **term)
    with pytest.raises(AppError):  # the county does not write a school's override
        calendar.term_save(by=world.user("xian_admin"), owner=school, **term)
    with pytest.raises(AppError):  # a class teacher has no calendar capability
        calendar.term_save(by=world.user("xz1_xx1_banzhuren"), owner=school, **term)
    other = Region.objects.get(code=COUNTY_B)
    with pytest.raises(AppError) as exc:  # another county: as if it did not exist
        calendar.term_save(by=world.user("xian_admin"), owner=other, **term)
    assert exc.value.message == "未找到该单位。"


def test_a_holiday_range_marks_its_weekdays(world, county):
    made = calendar.holiday_set(
        by=world.user("xian_admin"),
        owner=county,
        start=D("2027-04-30"),
        end=D("2027-05-05"),
        note="劳动节",
    )
    assert [d.date for d in made] == days("2027-04-30", "2027-05-03", "2027-05-04", "2027-05-05")
    with pytest.raises(AppError):
        calendar.holiday_set(
            by=world.user("xian_admin"), owner=county, start=D("2027-04-01"), end=D("2027-05-30")
        )


def test_a_range_of_days_is_only_for_holidays_make_up_days_go_one_by_one(world, county):
    admin = world.user("xian_admin")
    with pytest.raises(AppError, match="调休上班请逐日设定") as exc:
        calendar.days_set(
            by=admin, owner=county, kind=DayKind.WORKDAY, start=D("2027-04-24"), end=D("2027-04-25")
        )
    assert "end" in exc.value.errors
    made = calendar.days_set(by=admin, owner=county, kind=DayKind.WORKDAY, start=D("2027-04-25"))
    assert [d.date for d in made] == days("2027-04-25")
    made = calendar.days_set(
        by=admin, owner=county, kind=DayKind.HOLIDAY, start=D("2027-05-03"), end=D("2027-05-04")
    )
    assert [d.date for d in made] == days("2027-05-03", "2027-05-04")


def test_calendar_rows_mark_the_county_rows_a_school_overrides(world, county, school):
    principal = world.user("xz1_xx1_xiaozhang")
    calendar.term_save(
        by=principal, owner=school, name="本校秋季学期", start=D("2026-08-25"), end=D("2027-01-15")
    )
    calendar.day_set(by=principal, owner=school, date=D("2026-10-10"), kind=DayKind.HOLIDAY)
    terms, rows = calendar.calendar_rows(school)
    assert {t.name: t.replaced for t in terms} == {
        "本校秋季学期": False,
        "2026-2027学年第一学期": True,
        "2026-2027学年第二学期": False,
    }
    tenth = [d for d in rows if d.date == D("2026-10-10")]
    assert sorted((d.school_id is not None, d.replaced) for d in tenth) == [
        (False, True),
        (True, False),
    ]


def test_default_terms_is_idempotent(county):
    calendar.default_terms(county, 2026)
    assert Term.objects.filter(county=county).count() == 2
    assert CalendarDay.objects.filter(county=county, kind="holiday").count() == 5


# --- pages ----------------------------------------------------------------------------------


def test_the_county_edits_its_default_calendar_on_the_page(world, county):
    client = world.client("xian_staff")
    page = client.get("/calendar/")
    assert page.status_code == 200
    assert "2026-2027学年第一学期" in page.content.decode()
    response = client.post(
        "/calendar/terms/new/",
        {
            "term-name": "2027-2028学年第一学期",
            "term-start": "2027-09-01",
            "term-end": "2028-01-20",
        },
    )
    assert response.status_code == 302
    term = Term.objects.get(county=county, name="2027-2028学年第一学期")
    assert AuditEvent.objects.filter(object_type="students.Term", object_id=str(term.pk)).exists()
    response = client.post(
        "/calendar/days/new/",
        {
            "day-kind": "holiday",
            "day-start": "2027-10-01",
            "day-end": "2027-10-07",
            "day-note": "国庆节",
        },
    )
    assert response.status_code == 302
    assert CalendarDay.objects.filter(county=county, date__year=2027, note="国庆节").count() == 5
    assert client.post(f"/calendar/terms/{term.pk}/delete/").status_code == 302
    assert not Term.objects.filter(pk=term.pk).exists()
    assert AuditEvent.objects.filter(object_type="students.Term", action="delete").exists()


def test_a_refused_term_comes_back_onto_the_form(world, county):
    response = world.client("xian_admin").post(
        "/calendar/terms/new/",
        {"term-name": "重叠学期", "term-start": "2026-12-01", "term-end": "2027-02-01"},
    )
    assert response.status_code == 400
    assert "2026-2027学年第一学期" in response.content.decode()


def test_a_school_sees_the_county_default_and_edits_its_own(world, county, school):
    client = world.client("xz1_xx1_guanli")
    page = client.get("/calendar/").content.decode()
    assert "2026-2027学年第一学期" in page and "县默认" in page
    response = client.post(
        "/calendar/days/new/",
        {"day-kind": "holiday", "day-start": "2026-09-08", "day-note": "校运会"},
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(school=school, date=D("2026-09-08"))
    assert client.post(f"/calendar/days/{day.pk}/delete/").status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()


def test_roles_that_may_not_edit_get_403(world, county, school):
    county_term = Term.objects.filter(county=county).first()
    school_day = calendar.day_set(
        by=world.user("xz1_xx1_xiaozhang"), owner=school, date=D("2026-09-08"), kind="holiday"
    )
    term_body = {"term-name": "学期", "term-start": "2030-09-01", "term-end": "2031-01-20"}
    teacher = world.client("xz1_xx1_banzhuren")
    assert teacher.get("/calendar/").status_code == 200  # reads its school's calendar
    assert teacher.post("/calendar/terms/new/", term_body).status_code == 403
    assert teacher.post(f"/calendar/days/{school_day.pk}/delete/").status_code == 403
    assert world.client("xz1_ganbu").get("/calendar/").status_code == 403
    assert (
        world.client("shi_dudao").post(f"/calendar/terms/{county_term.pk}/delete/").status_code
        == 403
    )
    # The county sees the school's override but does not edit it.
    assert (
        world.client("xian_admin").post(f"/calendar/days/{school_day.pk}/delete/").status_code
        == 403
    )
    assert CalendarDay.objects.filter(pk=school_day.pk).exists()


def test_records_outside_the_area_answer_404(world, county):
    other = Region.objects.get(code=COUNTY_B)
    calendar.default_terms(other, 2026)
    other_term = Term.objects.filter(county=other).first()
    other_day = CalendarDay.objects.filter(county=other).first()
    assert (
        world.client("xian_admin").post(f"/calendar/terms/{other_term.pk}/delete/").status_code
        == 404
    )
    assert (
        world.client("xian_staff").post(f"/calendar/days/{other_day.pk}/delete/").status_code == 404
    )
    # A school account reads its county's default but cannot reach its rows by id.
    own_term = Term.objects.filter(county=county).first()
    assert (
        world.client("xz1_xx1_xiaozhang").post(f"/calendar/terms/{own_term.pk}/delete/").status_code
        == 404
    )
    assert Term.objects.filter(pk__in=[other_term.pk, own_term.pk]).count() == 2
