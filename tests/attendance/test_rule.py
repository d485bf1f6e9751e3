"""The attendance rule (DOMAIN.md §4, 001/003): N school days of unexcused absence in a row
make a student 疑似辍学 — an entry opens through the ledger's services, the principal and
the township are notified — and the edges of what counts as "in a row"."""

import datetime

import pytest

from accounts.choices import NotificationKind, Role
from accounts.models import AuditEvent, Notification, Region, SchoolClass, User
from attendance import rule
from attendance.choices import Mark
from attendance.models import AttendanceRules, RollCall
from ledger import services as ledger_services
from ledger.choices import Action, EntryKind, Source, State
from ledger.models import LedgerEntry
from students import services as student_services
from students.calendar import day_set
from students.choices import EventKind
from tests.attendance.conftest import (
    AUTUMN,
    COUNTY,
    FRI,
    MON,
    NEXT_MON,
    PRINCIPAL,
    SPRING,
    THU,
    TUE,
    WED,
    absent,
    county_admin,
    pupil,
    take,
)

DAY = datetime.timedelta(days=1)


def entries(student):
    return LedgerEntry.objects.filter(student=student)


def test_rule_exactly_n_unexcused_days_open_a_suspected_entry(world, klass, pupils):
    child = pupils[0]
    results = absent(world, klass, [MON, TUE, WED], child)
    assert [len(result.flagged) for result in results] == [0, 0, 1]
    entry = entries(child).get()
    assert (entry.kind, entry.source, entry.state) == (
        EntryKind.SUSPECTED,
        Source.ATTENDANCE,
        State.PENDING,
    )
    assert entry.found_on == WED and entry.school == klass.school
    assert entry.created_by is None
    event = entry.events.get()
    assert event.action == Action.CREATE and event.actor is None
    assert "连续3个上学日无故缺勤" in event.note
    # The other pupils were present: no entries for them.
    assert LedgerEntry.objects.count() == 1


def test_rule_notifies_the_principal_and_the_township_the_same_day(world, klass, pupils):
    absent(world, klass, [MON, TUE, WED], pupils[0])
    entry = entries(pupils[0]).get()
    notified = Notification.objects.filter(kind=NotificationKind.SUSPECTED_DROPOUT)
    roles = set(notified.values_list("recipient__role", flat=True))
    assert roles == {Role.PRINCIPAL, Role.TOWNSHIP_OFFICIAL}
    principal = world.user(PRINCIPAL)
    note = notified.get(recipient=principal)
    assert note.link == f"/ledger/{entry.pk}/" and pupils[0].name in note.title
    officials = notified.filter(recipient__role=Role.TOWNSHIP_OFFICIAL)
    assert all(
        user.region.code.startswith(entry.township.prefix)
        for user in User.objects.filter(pk__in=officials.values("recipient"))
    )


def test_rule_notifies_the_central_schools_principal_of_a_child_of_an_attached_school(
    world, klass, pupils
):
    """A 中心校 answers for its attached 村小 and 教学点 (DOMAIN.md §2): when the rule opens an
    entry for one of their children, the 中心校's principal is told as well as their own."""
    centre = klass.school
    attached = SchoolClass.objects.filter(school__parent=centre).order_by("school_id", "pk")[0]
    child = pupil(world, attached, by="xian_admin")
    absent(world, attached, [MON, TUE, WED], child)
    entry = entries(child).get()
    told = Notification.objects.filter(
        kind=NotificationKind.SUSPECTED_DROPOUT, recipient__role=Role.PRINCIPAL
    )
    assert set(told.values_list("recipient__school", flat=True)) == {attached.school_id, centre.pk}
    assert all(note.link == f"/ledger/{entry.pk}/" for note in told)
    # A child of the 中心校 itself reaches its principal once, no other school's.
    absent(world, klass, [MON, TUE, WED], pupils[0])
    own = told.filter(link=f"/ledger/{entries(pupils[0]).get().pk}/")
    assert list(own.values_list("recipient__school", flat=True)) == [centre.pk]


def test_rule_n_minus_one_days_open_nothing(world, klass, pupils):
    absent(world, klass, [MON, TUE], pupils[0])
    take(world, klass, WED)
    assert not LedgerEntry.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.SUSPECTED_DROPOUT).exists()


def test_rule_run_across_a_weekend_counts(world, klass, pupils):
    absent(world, klass, [THU, FRI, NEXT_MON], pupils[0])
    assert entries(pupils[0]).get().found_on == NEXT_MON


def test_rule_run_across_a_holiday_counts(world, klass, pupils):
    county = Region.objects.get(code=COUNTY)
    day_set(by=county_admin(), owner=county, date=TUE, kind="holiday")
    absent(world, klass, [MON, WED], pupils[0])
    assert not entries(pupils[0]).exists()
    absent(world, klass, [THU], pupils[0])
    assert entries(pupils[0]).get().found_on == THU


@pytest.mark.parametrize("excused", [Mark.SICK, Mark.PERSONAL, Mark.LATE, Mark.PRESENT])
def test_rule_excused_day_or_presence_breaks_the_run(world, klass, pupils, excused):
    child = pupils[0]
    absent(world, klass, [MON, TUE], child)
    take(world, klass, WED, {child: excused})
    absent(world, klass, [THU, FRI], child)
    assert not entries(child).exists()
    # …and the next run counts from the break.
    absent(world, klass, [NEXT_MON], child)
    assert entries(child).get().found_on == NEXT_MON


def test_rule_day_without_a_roll_call_neither_counts_nor_breaks(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON], child)
    # Tuesday's roll was never taken: a gap.
    absent(world, klass, [WED], child)
    assert not entries(child).exists(), "a gap does not count as an absence"
    absent(world, klass, [THU], child)
    assert entries(child).get().found_on == THU, "a gap does not break the run either"


def test_rule_run_across_two_terms_counts(world, klass, pupils):
    """A student who does not come back after the holidays is exactly who the rule catches."""
    child = pupils[0]
    last_day = SPRING[1]  # Friday 2026-07-10
    first_days = [AUTUMN[0], AUTUMN[0] + DAY]  # Tuesday and Wednesday 2026-09-01/02
    absent(world, klass, [last_day], child)
    absent(world, klass, first_days[:1], child)
    assert not entries(child).exists()
    absent(world, klass, first_days[1:], child)
    assert entries(child).get().found_on == first_days[1]


def test_rule_follows_a_student_who_transferred_mid_run(world, klass, pupils):
    """籍随人走: the absences at the old school count at the new one."""
    child = pupils[0]
    absent(world, klass, [MON, TUE], child)
    receiver = world.user("xz2_xx1_xiaozhang")
    other = SchoolClass.objects.create(
        school=receiver.school, school_year=klass.school_year, grade=klass.grade, name="转入班"
    )
    transfer = student_services.event_record(
        by=world.user(PRINCIPAL),
        student=child,
        kind=EventKind.TRANSFER_OUT,
        date=TUE,
        reason="随父母迁居",
        to_school=receiver.school,
    )
    student_services.transfer_decide(by=receiver, transfer=transfer, accept=True, klass=other)
    # The old class no longer has the child on its roll.
    with pytest.raises(Exception, match="不在"):
        take(world, klass, WED, {child: Mark.UNEXCUSED})
    take(world, other, WED, {child: Mark.UNEXCUSED}, user="xz2_xx1_xiaozhang")
    entry = entries(child).get()
    assert entry.found_on == WED and entry.school == receiver.school


def test_rule_opens_no_duplicate_on_resubmission(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED], child)
    again = take(world, klass, WED, {child: Mark.UNEXCUSED})
    assert again.flagged == [] and not again.created and again.changes == {}
    absent(world, klass, [THU, FRI], child)
    assert entries(child).count() == 1
    assert rule.check_all(as_of=FRI) == 0
    assert Notification.objects.filter(recipient=world.user(PRINCIPAL)).count() == 1


def test_rule_does_not_reopen_a_handled_run_but_catches_a_new_one(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED], child)
    entry = entries(child).get()
    ledger_services.entry_exclude(by=world.user(PRINCIPAL), entry=entry, note="生病未请假，已返校")
    take(world, klass, THU)
    assert rule.check_all() == 0, "the run the school already looked at stays closed"
    absent(world, klass, [FRI, NEXT_MON, NEXT_MON + DAY], child)
    assert entries(child).filter(state=State.PENDING).get().found_on == NEXT_MON + DAY


def test_rule_threshold_is_a_county_setting_and_the_nightly_run_applies_it(world, klass, pupils):
    county = Region.objects.get(code=COUNTY)
    AttendanceRules.objects.create(county=county, threshold=4)
    absent(world, klass, [MON, TUE, WED], pupils[0])
    assert not entries(pupils[0]).exists()
    AttendanceRules.objects.filter(county=county).update(threshold=3)
    # The nightly run goes through the same function and picks the run up.
    assert rule.check_all() == 1
    assert entries(pupils[0]).get().found_on == WED


def test_rule_other_county_keeps_its_own_threshold(world, klass, pupils):
    AttendanceRules.objects.create(county=Region.objects.get(code="530102"), threshold=5)
    absent(world, klass, [MON, TUE, WED], pupils[0])
    assert entries(pupils[0]).exists()


def test_rule_ignores_students_no_longer_enrolled(world, klass, pupils):
    child = pupils[1]
    absent(world, klass, [MON, TUE], child)
    student_services.event_record(
        by=world.user(PRINCIPAL), student=child, kind=EventKind.SUSPEND, date=TUE, reason="病休"
    )
    assert rule.check_all() == 0
    assert not entries(child).exists()


def test_correction_removing_an_absence_flags_the_entry_for_review(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED], child)
    entry = entries(child).get()
    principal = world.user(PRINCIPAL)
    result = take(world, klass, TUE, {child: Mark.SICK})
    assert result.changes == {child.pk: (Mark.UNEXCUSED, Mark.SICK)}
    entry.refresh_from_db()
    assert entry.state == State.PENDING, "the entry is not deleted or closed"
    assert "更正" in entry.review_flag
    flag = entry.events.get(action=Action.FLAG)
    assert flag.actor == principal
    assert Notification.objects.filter(recipient=principal, title__contains="考勤更正").exists()
    # Verifying the entry clears the flag.
    ledger_services.entry_exclude(by=principal, entry=entry, note="病假，补交假条")
    entry.refresh_from_db()
    assert entry.review_flag == ""


def test_correction_that_keeps_the_run_does_not_flag(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED, THU], child)
    take(world, klass, MON, {child: Mark.SICK})
    entry = entries(child).get()
    assert entry.review_flag == ""
    assert not entry.events.filter(action=Action.FLAG).exists()


def test_roll_change_is_in_the_audit_trail(world, klass, pupils):
    child = pupils[0]
    take(world, klass, MON, {child: Mark.UNEXCUSED})
    take(world, klass, MON, {child: Mark.LATE})
    events = AuditEvent.objects.filter(object_type=RollCall._meta.label).order_by("pk")
    assert [event.action for event in events] == ["create", "update"]
    assert events.last().changes == {f"{child.name}（{child.pk}）": ["旷课", "迟到"]}


def test_rule_as_of_a_past_day_ignores_later_rolls(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED], child)
    classes = SchoolClass.objects.filter(pk=klass.pk)
    assert rule.find_runs(classes, TUE, 3) == {}
    assert [run.length for run in rule.find_runs(classes, WED, 3)[child.pk]] == [3]
    # The county's thresholds as _by_threshold groups them (the benchmark's way) alike.
    ((thresholds, grouped),) = rule._by_threshold(classes)
    assert rule.find_runs(grouped, WED, thresholds) == rule.find_runs(
        classes, WED, thresholds.general
    )
