"""Taking the roll (DOMAIN.md §4): what is stored, who may change it until when, and bad
input that is refused with nothing saved."""

import datetime

import pytest
from django.utils import timezone

from accounts.choices import NotificationKind, RegionLevel
from accounts.models import AuditEvent, Notification, Region, SchoolClass
from attendance import selectors, services
from attendance.choices import Mark
from attendance.models import AttendanceMark, AttendanceRules, RollCall
from attendance.tasks import attendance_rule, attendance_rule_county, term_start_no_shows
from kongchuo.errors import AppError
from ledger.choices import Source
from ledger.models import LedgerEntry
from students.calendar import term_save
from tests.attendance.conftest import (
    AUTUMN,
    COUNTY,
    MON,
    PRINCIPAL,
    TEACHER,
    TUE,
    WED,
    absent,
    county_admin,
    pupil,
    take,
)


def footprint():
    return (
        list(RollCall.objects.values()),
        list(AttendanceMark.objects.values()),
        AuditEvent.objects.filter(object_type=RollCall._meta.label).count(),
    )


def test_roll_stores_only_students_who_were_not_present(world, klass, pupils):
    result = take(world, klass, MON, {pupils[0]: Mark.LATE, pupils[1]: Mark.PRESENT})
    assert result.created
    roll = RollCall.objects.get()
    assert (roll.klass, roll.date, roll.school) == (klass, MON, klass.school)
    assert list(roll.marks.values_list("student", "status")) == [(pupils[0].pk, Mark.LATE)]


def test_day_without_a_roll_call_is_not_recorded_never_present(world, klass, pupils):
    take(world, klass, MON)
    sheet = selectors.sheet(klass, WED)
    recent = dict(sheet.rows[0].recent)
    assert recent[MON] == Mark.PRESENT
    assert recent[TUE] == "", "Tuesday has no roll call: not recorded"
    assert klass in selectors.expected_classes([klass.school], TUE)


def test_resubmission_is_idempotent(world, klass, pupils):
    first = take(world, klass, MON, {pupils[0]: Mark.SICK})
    again = take(world, klass, MON, {pupils[0]: Mark.SICK})
    assert not again.created and again.changes == {} and again.roll.pk == first.roll.pk
    assert AttendanceMark.objects.count() == 1
    assert AuditEvent.objects.filter(object_type=RollCall._meta.label).count() == 1


def _refused(world, klass, day, marks, message, *, user=PRINCIPAL):
    before = footprint()
    with pytest.raises(AppError, match=message) as caught:
        services.submit(by=world.user(user), klass=klass, day=day, marks=marks)
    assert footprint() == before, "nothing saved"
    return caught.value


def test_bad_input_not_a_school_day(world, klass, pupils):
    saturday = MON + datetime.timedelta(days=5)
    error = _refused(world, klass, saturday, [], "不是上学日")
    assert error.errors.keys() == {"date"}
    summer = datetime.date(2026, 8, 3)
    _refused(world, klass, summer, [], "不是上学日")


def test_bad_input_future_date(world, klass, pupils):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert _refused(world, klass, tomorrow, [], "不能晚于今天").errors.keys() == {"date"}


def test_bad_input_student_not_in_the_class(world, klass, pupils):
    other = SchoolClass.objects.exclude(pk=klass.pk).filter(school=klass.school).first()
    outsider = pupils[0]
    outsider.klass = other
    outsider.save(update_fields=["klass"])
    marks = [services.MarkData(pupils[1].pk, Mark.SICK), services.MarkData(outsider.pk, "sick")]
    error = _refused(world, klass, MON, marks, "第2名学生：该学生不在")
    assert error.errors.keys() == {"marks[1].student"}


def test_bad_input_the_same_student_twice(world, klass, pupils):
    marks = [services.MarkData(pupils[0].pk, Mark.SICK)] * 2
    assert _refused(world, klass, MON, marks, "重复").errors.keys() == {"marks[1].student"}


def test_bad_input_unknown_status(world, klass, pupils):
    marks = [services.MarkData(pupils[0].pk, "truant")]
    assert _refused(world, klass, MON, marks, "考勤状态“truant”无效").errors.keys() == {
        "marks[0].status"
    }


def test_bad_input_class_outside_the_area(world, klass, pupils):
    _refused(world, klass, MON, [], "不在您的管辖范围", user="xz2_xx1_xiaozhang")
    _refused(world, klass, MON, [], "不在您的管辖范围", user="c2_xian_admin")


def test_class_teacher_may_take_the_roll_until_the_cutoff_then_the_principal(world, klass, pupils):
    county = Region.objects.get(code=COUNTY)
    today = timezone.localdate()
    # The last weekday before today, inside a term of the school's own calendar.
    day = today - datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    term_save(
        by=world.user(PRINCIPAL),
        owner=klass.school,
        name="本校学期",
        start=day - datetime.timedelta(days=14),
        end=today,
    )
    rules = selectors.rules_for(county)
    assert (rules.threshold, rules.cutoff_days, rules.cutoff_time) == (3, 0, datetime.time(18))
    # The default cut-off is 18:00 on the day itself: a past day is closed to the teacher.
    error = _refused(world, klass, day, [], "已过修改截止时间", user=TEACHER)
    assert "请联系校长" in str(error)
    take(world, klass, day, {pupils[0]: Mark.SICK}, user=PRINCIPAL)
    # A county that gives teachers longer lets them correct it themselves.
    services.rules_save(
        by=county_admin(),
        county=county,
        threshold=3,
        cutoff_days=(today - day).days,
        cutoff_time=datetime.time(23, 59),
    )
    result = take(world, klass, day, {pupils[0]: Mark.PERSONAL}, user=TEACHER)
    assert result.changes == {pupils[0].pk: (Mark.SICK, Mark.PERSONAL)}
    assert result.roll.changed_by == world.user(TEACHER)
    assert selectors.cutoff(selectors.rules_for(county), day).date() == today


def test_school_staff_cannot_set_the_county_rules(world, terms):
    county = Region.objects.get(code=COUNTY)
    with pytest.raises(AppError, match="县教体局"):
        services.rules_save(
            by=world.user(PRINCIPAL),
            county=county,
            threshold=4,
            cutoff_days=0,
            cutoff_time=datetime.time(18),
        )
    with pytest.raises(AppError, match="本县"):
        services.rules_save(
            by=county_admin(),
            county=Region.objects.get(code="530102"),
            threshold=4,
            cutoff_days=0,
            cutoff_time=datetime.time(18),
        )
    with pytest.raises(AppError) as caught:
        services.rules_save(
            by=county_admin(),
            county=county,
            threshold=1,
            cutoff_days=0,
            cutoff_time=datetime.time(18),
        )
    assert caught.value.errors.keys() == {"threshold"}
    assert not AttendanceRules.objects.exists()


def test_nightly_rule_task_runs_the_rule_a_county_a_task(world, klass, pupils, settings):
    """Issue 19 §4: the nightly task queues the rule once per county; the county's task
    opens the entry the changed threshold now calls for, and a second run opens none."""
    county = Region.objects.get(code=COUNTY)
    AttendanceRules.objects.create(county=county, threshold=4)
    absent(world, klass, [MON, TUE, WED], pupils[0])
    AttendanceRules.objects.update(threshold=3)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    counties = Region.objects.filter(level=RegionLevel.COUNTY).count()
    assert counties > 1 and attendance_rule.apply().get() == counties
    assert LedgerEntry.objects.filter(student=pupils[0], source=Source.ATTENDANCE).count() == 1
    assert attendance_rule_county.apply(args=[county.pk]).get() == 0


# -- term start (DOMAIN.md §4, 002) ------------------------------------------------------------

FIRST = AUTUMN[0]  # Tuesday 2026-09-01; the first week runs to Monday 09-07


def test_term_start_no_shows_lists_students_who_have_not_appeared(world, klass, pupils):
    never, late, sick_then_back = pupils[0], pupils[1], pupils[2]
    take(world, klass, FIRST, {never: Mark.UNEXCUSED, late: Mark.LATE, sick_then_back: Mark.SICK})
    second = FIRST + datetime.timedelta(days=1)
    take(world, klass, second, {never: Mark.SICK})
    listed = selectors.no_shows([klass.school_id], second)
    assert listed == {klass.school_id: [never]}
    # After the first week the list is no longer kept.
    assert selectors.no_shows([klass.school_id], FIRST + datetime.timedelta(days=7)) == {}


def test_term_start_list_goes_to_the_principal_on_the_last_day_of_the_first_week(
    world, klass, pupils
):
    take(world, klass, FIRST, {pupils[0]: Mark.UNEXCUSED})
    # Friday 09-04 is not the last school day of the week that ends on Monday 09-07.
    friday = datetime.date(2026, 9, 4)
    assert services.send_no_shows(friday) == 0
    last = datetime.date(2026, 9, 7)
    assert services.send_no_shows(last) == 1
    note = Notification.objects.get(kind=NotificationKind.NO_SHOW)
    assert note.recipient == world.user(PRINCIPAL)
    assert "1人" in note.title and pupils[0].name in note.body
    assert services.send_no_shows(last) == 1
    assert Notification.objects.filter(kind=NotificationKind.NO_SHOW).count() == 1, "once"


def test_term_start_task_runs_for_today(world, klass):
    assert term_start_no_shows.apply().get() == 0


def test_correcting_an_old_roll_keeps_the_mark_of_a_student_who_has_left_the_class(
    world, klass, pupils
):
    leaver, other = pupils[0], pupils[1]
    take(world, klass, MON, {leaver: Mark.SICK, other: Mark.LATE})
    leaver.klass = SchoolClass.objects.filter(school=klass.school).exclude(pk=klass.pk).first()
    leaver.save(update_fields=["klass"])
    result = take(world, klass, MON, {other: Mark.PRESENT})
    assert result.changes == {other.pk: (Mark.LATE, Mark.PRESENT)}
    assert list(AttendanceMark.objects.values_list("student", "status")) == [(leaver.pk, Mark.SICK)]


def test_term_start_no_shows_of_many_schools_in_one_go(world, klass, pupils):
    """The term-start task asks for every school at once; each school's list is its own."""
    other_principal = world.user("xz2_xx1_xiaozhang")
    other_class = SchoolClass.objects.create(
        school=other_principal.school, school_year=klass.school_year, grade=2, name="2班"
    )
    other = pupil(world, other_class, by="xz2_xx1_xiaozhang")
    take(world, klass, FIRST, {pupils[0]: Mark.UNEXCUSED})
    take(world, other_class, FIRST, {other: Mark.SICK}, user="xz2_xx1_xiaozhang")
    schools = [klass.school_id, other_class.school_id]
    assert selectors.no_shows(schools, FIRST) == {
        klass.school_id: [pupils[0]],
        other_class.school_id: [other],
    }
    # A present day at the other school: that child has appeared.
    second = FIRST + datetime.timedelta(days=1)
    take(world, other_class, second, user="xz2_xx1_xiaozhang")
    assert selectors.no_shows(schools, second) == {klass.school_id: [pupils[0]]}
