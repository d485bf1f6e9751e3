"""Attendance pages (issue 5): the roll a class teacher takes on a phone, the overview a
school and its supervisors chase gaps with, and the county's rules page."""

import datetime

import pytest

from accounts.models import Region, School, SchoolClass
from attendance.choices import Mark
from attendance.models import AttendanceMark, AttendanceRules, RollCall
from ledger.models import LedgerEntry
from tests.attendance.conftest import (
    AUTUMN,
    COUNTY,
    MON,
    PRINCIPAL,
    TEACHER,
    TUE,
    WED,
    absent,
    open_to_teachers,
    pupil,
    take,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_window(terms):
    """Past days stay open to the class teacher (the default closes the same evening)."""
    return open_to_teachers()


def url(klass, day) -> str:
    return f"/attendance/{klass.pk}/{day.isoformat()}/"


def body(pupils, marks=None, notes=None) -> dict:
    """The roll form as the page posts it: everyone present unless ``marks`` says."""
    marks, notes = marks or {}, notes or {}
    data = {}
    for student in pupils:
        data[f"mark_{student.pk}"] = marks.get(student, Mark.PRESENT)
        data[f"note_{student.pk}"] = notes.get(student, "")
    return data


def _radio(page: str, student, mark) -> str:
    """The radio button of ``student``'s ``mark`` as rendered."""
    start = page.index(f'name="mark_{student.pk}" value="{mark}"')
    return page[start : page.index(">", start) + 1]


def test_roll_page_lists_the_class_with_everyone_present_by_default(
    world, klass, pupils, open_window
):
    response = world.client(TEACHER).get(url(klass, MON))
    assert response.status_code == 200
    page = response.content.decode()
    for student in pupils:
        assert student.name in page
        assert "checked" in _radio(page, student, Mark.PRESENT)
        assert "checked" not in _radio(page, student, Mark.UNEXCUSED)
    assert "提交考勤" in page and "尚未提交" not in page and "未提交" in page


def test_teacher_submits_the_roll_and_sees_the_counts(world, klass, pupils, open_window):
    client = world.client(TEACHER)
    page = client.get(url(klass, MON)).content.decode()
    assert "提交考勤" in page and "班主任可修改至" in page
    data = body(pupils, {pupils[0]: Mark.UNEXCUSED, pupils[1]: Mark.SICK}, {pupils[1]: "发烧"})
    response = client.post(url(klass, MON), data, follow=True)
    assert response.redirect_chain == [(url(klass, MON), 302)]
    page = response.content.decode()
    assert "已提交考勤：出勤2人，缺勤/请假2人" in page
    roll = RollCall.objects.get(klass=klass, date=MON)
    assert roll.submitted_by.username == TEACHER
    assert dict(roll.marks.values_list("student_id", "status")) == {
        pupils[0].pk: Mark.UNEXCUSED,
        pupils[1].pk: Mark.SICK,
    }
    assert roll.marks.get(student=pupils[1]).note == "发烧"
    # The saved marks come back checked, with who submitted it.
    assert "checked" in _radio(page, pupils[0], Mark.UNEXCUSED)
    assert "checked" in _radio(page, pupils[1], Mark.SICK)
    assert "已提交" in page and "发烧" in page


def test_resubmitting_replaces_the_marks(world, klass, pupils, open_window):
    client = world.client(TEACHER)
    client.post(url(klass, MON), body(pupils, {pupils[0]: Mark.UNEXCUSED, pupils[1]: Mark.LATE}))
    response = client.post(url(klass, MON), body(pupils, {pupils[1]: Mark.LATE}), follow=True)
    assert "已修改考勤：出勤4人（含迟到1人），缺勤/请假0人" in response.content.decode()
    roll = RollCall.objects.get(klass=klass, date=MON)
    assert list(roll.marks.values_list("student_id", "status")) == [(pupils[1].pk, Mark.LATE)]
    assert RollCall.objects.count() == 1


def test_a_refused_submission_keeps_the_marks_and_saves_nothing(world, klass, pupils):
    # No open window: the service refuses the teacher's late submission.
    data = body(pupils, {pupils[2]: Mark.UNEXCUSED}, {pupils[2]: "联系不上家长"})
    response = world.client(TEACHER).post(url(klass, MON), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "已过修改截止时间" in page
    assert "checked" in _radio(page, pupils[2], Mark.UNEXCUSED)
    assert "联系不上家长" in page
    assert not RollCall.objects.exists() and not AttendanceMark.objects.exists()


def test_an_invalid_mark_is_shown_on_its_row_and_nothing_is_saved(
    world, klass, pupils, open_window
):
    data = body(pupils, {pupils[0]: Mark.SICK})
    data[f"mark_{pupils[1].pk}"] = "asleep"
    response = world.client(TEACHER).post(url(klass, MON), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "checked" in _radio(page, pupils[0], Mark.SICK)
    assert "请按提示更正后再提交" in page
    assert not RollCall.objects.exists()


def test_after_the_cut_off_the_teacher_reads_and_the_principal_may_still_change(
    world, klass, pupils
):
    take(world, klass, MON, {pupils[0]: Mark.PERSONAL})
    teacher = world.client(TEACHER).get(url(klass, MON))
    page = teacher.content.decode()
    assert 'data-testid="read-only"' in page and "请联系校长" in page
    assert "提交考勤" not in page and 'type="radio"' not in page
    assert "事假" in page
    assert world.client(TEACHER).post(url(klass, MON), body(pupils)).status_code == 400
    principal = world.client(PRINCIPAL).get(url(klass, MON)).content.decode()
    assert "修改考勤" in principal  # the day's roll exists: the button changes it


def test_third_unexcused_day_shows_the_warning_and_flags_the_child(
    world, klass, pupils, open_window
):
    absent(world, klass, [MON, TUE], pupils[0])
    client = world.client(TEACHER)
    page = client.get(url(klass, WED)).content.decode()
    assert "已连续旷课2天" in page
    response = client.post(url(klass, WED), body(pupils, {pupils[0]: Mark.UNEXCUSED}), follow=True)
    entry = LedgerEntry.objects.get(student=pupils[0])
    page = response.content.decode()
    assert (
        f'<a href="/ledger/{entry.pk}/">{pupils[0].name}</a>已连续旷课3天，已登记为疑似辍学并通知校长'
        in page
    )


def test_roll_without_a_date_goes_to_today_and_bad_dates_are_404(world, klass):
    client = world.client(TEACHER)
    response = client.get(f"/attendance/{klass.pk}/")
    assert response.status_code == 302
    assert response["Location"] == url(
        klass, datetime.date.fromisoformat(response["Location"].rstrip("/").rsplit("/", 1)[1])
    )
    for bad in ("2026-13-01", "2026-02-30", "20261012", "today"):
        assert client.get(f"/attendance/{klass.pk}/{bad}/").status_code == 404


def test_a_class_outside_the_area_is_404(world, klass, pupils):
    # Not the school's own classes nor those of the 教学点 attached to it.
    other_school = (
        SchoolClass.objects.filter(school__township__code__startswith=COUNTY)
        .exclude(school=klass.school)
        .exclude(school__parent=klass.school)
    )
    for username in (PRINCIPAL, TEACHER):
        for target in (
            other_school.first(),
            SchoolClass.objects.exclude(school__township__code__startswith=COUNTY).first(),
        ):
            client = world.client(username)
            assert client.get(url(target, MON)).status_code == 404
            assert client.post(url(target, MON), {}).status_code == 404
            assert client.get(f"/attendance/{target.pk}/").status_code == 404


def test_a_township_official_reads_the_roll_but_cannot_submit(world, klass, pupils):
    client = world.client("xz1_ganbu")
    response = client.get(url(klass, MON))
    assert response.status_code == 200
    assert "只能查看考勤" in response.content.decode()
    assert client.post(url(klass, MON), body(pupils)).status_code == 403


# -- overview ---------------------------------------------------------------------------------


@pytest.fixture
def second_class(world, klass):
    """Another class of the same school, with a student (so it owes a roll)."""
    other = SchoolClass.objects.filter(school=klass.school).exclude(pk=klass.pk).first()
    pupil(world, other)
    return other


def test_principal_overview_lists_unsubmitted_classes_and_absences(
    world, klass, pupils, second_class
):
    take(world, klass, MON, {pupils[0]: Mark.UNEXCUSED, pupils[1]: Mark.SICK})
    AttendanceMark.objects.filter(student=pupils[1]).update(note="发烧")
    response = world.client(PRINCIPAL).get("/attendance/", {"date": MON.isoformat()})
    assert response.status_code == 200
    context = response.context
    assert context["school"] == klass.school and context["school_day"] is True
    assert second_class in context["missing"] and klass not in context["missing"]
    assert {(m.student, m.status) for m in context["absences"]} == {
        (pupils[0], Mark.UNEXCUSED),
        (pupils[1], Mark.SICK),
    }
    page = response.content.decode()
    assert "未提交考勤的班级" in page and str(second_class) in page
    assert pupils[0].name in page and "旷课" in page and "发烧" in page
    assert "开学一周内未报到学生" not in page  # October is not a term's first week


@pytest.mark.parametrize("username", [PRINCIPAL, "xian_staff", "shi_dudao"])
def test_overview_queries_do_not_grow_with_absences(world, klass, username):
    """A school's day (absences listed one by one), a county's and a city's (counted per
    school or county) cost the same queries with two absences as with eight."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client(username)
    children = [pupil(world, klass) for _ in range(8)]

    def queries(absent_children) -> tuple[int, str]:
        take(world, klass, MON, dict.fromkeys(absent_children, Mark.SICK))
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/attendance/", {"date": MON.isoformat()})
        assert response.status_code == 200
        return len(captured), response.content.decode()

    few, _ = queries(children[:2])
    many, page = queries(children)
    assert many == few
    if username == PRINCIPAL:
        assert children[-1].name in page


def test_overview_shows_the_term_start_no_shows_in_the_first_week(world, klass, pupils):
    first_day = AUTUMN[0]
    take(world, klass, first_day, {pupils[3]: Mark.UNEXCUSED})
    response = world.client(PRINCIPAL).get("/attendance/", {"date": first_day.isoformat()})
    assert response.context["no_shows"] == [pupils[3]]
    assert "开学一周内未报到学生" in response.content.decode()


def test_class_teacher_overview_shows_each_class_status(world, klass, pupils):
    client = world.client(TEACHER)
    before = client.get("/attendance/", {"date": MON.isoformat()}).content.decode()
    assert "未提交" in before and url(klass, MON) in before
    take(world, klass, MON)
    after = client.get("/attendance/", {"date": MON.isoformat()})
    assert [s.roll is not None for s in after.context["my_classes"]] == [True]
    assert "已提交 " in after.content.decode()


def test_weekend_is_noted_as_not_a_school_day(world, klass, pupils):
    saturday = MON + datetime.timedelta(days=5)
    page = world.client(PRINCIPAL).get("/attendance/", {"date": saturday.isoformat()})
    assert page.context["school_day"] is False
    assert "不是上学日" in page.content.decode()


def test_township_official_picks_a_school_of_the_area(world, klass, pupils):
    client = world.client("xz1_ganbu")
    area = client.get("/attendance/", {"date": MON.isoformat()}).context
    rows = {school: (due, owed) for school, due, owed in area["area_rows"]}
    assert rows[klass.school] == (1, 1)
    school = client.get("/attendance/", {"date": MON.isoformat(), "school": klass.school.code})
    assert klass in school.context["missing"]
    elsewhere = School.objects.exclude(township__code__startswith=COUNTY).first()
    refused = client.get("/attendance/", {"school": elsewhere.code})
    assert refused.context.get("school") is None and refused.context["form"].errors["school"]
    assert f"school={elsewhere.code}" not in refused.content.decode()


# -- rules ------------------------------------------------------------------------------------


def test_county_sets_the_rules(world):
    client = world.client("xian_admin")
    assert "设置本县考勤规则" in client.get("/attendance/").content.decode()
    assert client.get("/attendance/rules/").status_code == 200
    response = client.post(
        "/attendance/rules/", {"threshold": "4", "cutoff_days": "1", "cutoff_time": "20:00"}
    )
    assert response.status_code == 302
    rules = AttendanceRules.objects.get(county__code=COUNTY)
    assert (rules.threshold, rules.cutoff_days, rules.cutoff_time) == (4, 1, datetime.time(20))


def test_rules_out_of_bounds_are_refused_with_the_reason(world):
    response = world.client("xian_admin").post(
        "/attendance/rules/", {"threshold": "1", "cutoff_days": "0", "cutoff_time": "18:00"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["threshold"]
    assert not AttendanceRules.objects.exists()


@pytest.mark.parametrize("username", [PRINCIPAL, "xz1_xx1_guanli", TEACHER, "xz1_ganbu"])
def test_rules_page_is_refused_below_the_county(world, username):
    client = world.client(username)
    assert client.get("/attendance/rules/").status_code == 403
    assert client.post("/attendance/rules/", {"threshold": "5"}).status_code == 403
    assert "设置本县考勤规则" not in client.get("/attendance/").content.decode()


def test_province_sees_counties_first_then_the_schools_of_one(world, klass, pupils):
    client = world.client("sheng_dudao")
    province = client.get("/attendance/", {"date": MON.isoformat()}).context
    assert province["by_county"] is True
    county = Region.objects.get(code=COUNTY)
    rows = {place: (due, owed) for place, due, owed in province["area_rows"]}
    assert rows[county] == (1, 1)
    assert set(province["counties"]) == {county, Region.objects.get(code="530102")}
    take(world, klass, MON)
    one = client.get("/attendance/", {"date": MON.isoformat(), "county": county.pk}).context
    assert one["by_county"] is False and one["several_schools"] is True
    assert {place for place, _, _ in one["area_rows"]} == {klass.school}
    assert one["area_owed"] == 0
