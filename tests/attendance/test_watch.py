"""The watch list (重点监测名单, DOMAIN.md §4b, issue 16): each signal computed for a whole
county in the database, periods that open and end with history kept, measures (append-only,
never dated in the future), the weekly digest (once a week), and jurisdiction."""

import datetime

import pytest
from django.utils import timezone

from accounts.choices import RegionLevel
from accounts.models import AuditEvent, Notification, Region, SchoolClass, User
from attendance import rule, services, signals, watch
from attendance.choices import Mark, MeasureKind, WatchReason
from attendance.models import AttendanceRules, WatchMeasure, WatchPeriod, WatchRun
from attendance.tasks import watch_list, watch_list_county
from kongchuo.errors import AppError
from ledger import services as ledger_services
from ledger.choices import ClosureReason, State
from ledger.models import LedgerEntry
from students import services as student_services
from students.calendar import term_save
from tests.attendance.conftest import (
    AUTUMN,
    COUNTY,
    FRI,
    MON,
    PRINCIPAL,
    SPRING,
    TEACHER,
    THU,
    TUE,
    WED,
    absent,
    pupil,
    take,
)
from tests.ledger.conftest import APPROVER, SCHOOL_USER, entry_in
from tests.students.factories import student_data

WEEK = [MON, TUE, WED, THU, FRI]


def county():
    return Region.objects.get(code=COUNTY)


def compute(as_of=FRI):
    return watch.compute([county()], as_of=as_of)


def reasons(student) -> set[str]:
    return set(
        WatchPeriod.objects.filter(student=student, ended_on__isnull=True).values_list(
            "reason", flat=True
        )
    )


def full_week(world, klass, marks_by_day):
    """Take the roll every day of the week: ``marks_by_day`` maps a day to its marks."""
    for day in WEEK:
        take(world, klass, day, marks_by_day.get(day, {}))


# -- each signal ------------------------------------------------------------------------------


def test_signal_key_group_lists_a_key_group_child_and_not_the_others(world, klass, pupils):
    """signals.key_group: a key group of §3 (学习困难 is its own reason)."""
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    learning = pupil(world, klass, key_groups={"learning_difficulty"})
    compute()
    assert reasons(left_behind) == {WatchReason.KEY_GROUP}
    assert reasons(learning) == {WatchReason.LEARNING}
    assert reasons(pupils[0]) == set()


def test_the_nightly_watch_list_runs_a_task_per_county(world, klass, pupils, settings):
    """Issue 19 §4: watch_list queues one task per county; each brings its county's list up
    to date (a WatchRun each) and finds the key-group child."""
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    settings.CELERY_TASK_ALWAYS_EAGER = True
    counties = Region.objects.filter(level=RegionLevel.COUNTY)
    assert watch_list() == counties.count() > 1
    ran = WatchRun.objects.values_list("county_id", flat=True)
    assert sorted(ran) == sorted(counties.values_list("pk", flat=True))
    assert reasons(left_behind) == {WatchReason.KEY_GROUP}
    assert watch_list_county(left_behind.school.township.parent_id) == 0, "nothing new"


def test_signal_learning_difficulty(world, klass, pupils):
    """signals.learning_difficulty."""
    child = pupil(world, klass, key_groups={"learning_difficulty"})
    compute()
    assert WatchReason.LEARNING in reasons(child)


def test_signal_rising_unexcused_counts_unexcused_days_in_the_window(world, klass, pupils):
    """signals.rising_unexcused: 2 unexcused days (not in a row) in the last 10 school days;
    one is not enough, and the setting decides."""
    one, two = pupils[0], pupils[1]
    full_week(
        world, klass, {MON: {one: Mark.UNEXCUSED, two: Mark.UNEXCUSED}, WED: {two: Mark.UNEXCUSED}}
    )
    compute()
    assert WatchReason.UNEXCUSED in reasons(two)
    assert WatchReason.UNEXCUSED not in reasons(one)
    AttendanceRules.objects.update_or_create(county=county(), defaults={"watch_unexcused_days": 3})
    compute()
    assert WatchReason.UNEXCUSED not in reasons(two), "the setting raised: the reason ends"


def test_signal_rising_unexcused_window_is_school_days_of_the_calendar(world, klass, pupils):
    """Only the last N school days count: with a window of 3 school days, Monday's absence
    has left it by Friday (Wednesday–Friday)."""
    child = pupils[0]
    full_week(world, klass, {MON: {child: Mark.UNEXCUSED}, THU: {child: Mark.UNEXCUSED}})
    AttendanceRules.objects.update_or_create(
        county=county(), defaults={"watch_unexcused_window": 3}
    )
    compute()
    assert WatchReason.UNEXCUSED not in reasons(child)
    compute(as_of=THU)  # Tuesday–Thursday: still only one
    assert WatchReason.UNEXCUSED not in reasons(child)
    AttendanceRules.objects.filter(county=county()).update(watch_unexcused_window=4)
    compute()  # Tuesday–Friday holds Thursday only; Monday–Thursday as of Thursday holds both
    compute(as_of=THU)
    assert WatchReason.UNEXCUSED in reasons(child)


def test_signal_falling_rate_counts_only_recorded_days(world, klass, pupils):
    """signals.falling_rate: below 90% of the recorded school days in the window; leave
    counts as away, lateness as present; a day without a roll is unknown, not present."""
    sick, late, gaps = pupils[0], pupils[1], pupils[2]
    AttendanceRules.objects.update_or_create(county=county(), defaults={"watch_rate_window": 10})
    # Five recorded days: one day of leave is 80% < 90%.
    full_week(world, klass, {TUE: {sick: Mark.SICK, late: Mark.LATE}})
    compute()
    assert WatchReason.RATE in reasons(sick)
    assert WatchReason.RATE not in reasons(late)
    assert WatchReason.RATE not in reasons(gaps)


def test_signal_falling_rate_needs_half_the_window_recorded(world, klass, pupils):
    """With 20 school days and only 2 recorded, no rate is computed (unknown days are not
    presence, and not absence either)."""
    child = pupils[0]
    take(world, klass, THU, {child: Mark.UNEXCUSED})
    take(world, klass, FRI, {child: Mark.UNEXCUSED})
    compute()
    assert WatchReason.RATE not in reasons(child)
    assert WatchReason.UNEXCUSED in reasons(child)


def test_signal_falling_rate_counts_marks_on_another_class_roll(world, klass, pupils):
    """signals.falling_rate: a mark follows the child — the days marked on the old class's
    roll before a move count as recorded days beside the new class's roll calls."""
    child = pupils[0]
    other = SchoolClass.objects.filter(school=klass.school).exclude(pk=klass.pk).first()
    AttendanceRules.objects.update_or_create(county=county(), defaults={"watch_rate_window": 10})
    absent(world, klass, [MON, TUE], child, status=Mark.SICK)
    student_services.student_update(
        by=world.user(PRINCIPAL),
        student=child,
        data=student_data(
            klass.school,
            grade=other.grade,
            klass=other,
            name=child.name,
            student_number=child.student_number,
            id_number=child.id_number,
            birth_date=child.birth_date,
            entry_date=child.entry_date,
        ),
    )
    for day in (WED, THU, FRI):
        take(world, other, day)
    # 3 roll calls of the new class + 2 marks on the old one: 5 recorded days, at least
    # half of 10, and 3 of 5 in school is 60% < 90%. Without the old marks: 3 recorded days.
    compute()
    assert WatchReason.RATE in reasons(child)


def test_signal_falling_rate_setting_decides_at_the_boundary(world, klass, pupils):
    """signals.falling_rate with ``watch_rate`` 50 over 10 school days (5 must be recorded):
    3 days away of 5 is 40% < 50%, 2 of 5 is 60% and not below."""
    three, two = pupils[0], pupils[1]
    AttendanceRules.objects.update_or_create(
        county=county(), defaults={"watch_rate_window": 10, "watch_rate": 50}
    )
    full_week(
        world,
        klass,
        {
            MON: {three: Mark.SICK, two: Mark.SICK},
            TUE: {three: Mark.PERSONAL, two: Mark.UNEXCUSED},
            WED: {three: Mark.UNEXCUSED, two: Mark.LATE},
        },
    )
    compute()
    assert WatchReason.RATE in reasons(three)
    assert WatchReason.RATE not in reasons(two)


def test_signals_read_each_school_window_when_counties_differ(world, klass, pupils, terms):
    """Computed together, each county's schools keep their own window and threshold:
    county B's 3 school days (Wednesday–Friday) and 1 unexcused day do not cut county A's
    10 days, nor does A's threshold of 2 hide B's children, nor do A's 10 days widen B's 3."""
    county_b = Region.objects.get(code="530102")
    admin_b = User.objects.get(role="county_admin", region=county_b)
    for (start, end), name in ((SPRING, "春季学期"), (AUTUMN, "秋季学期")):
        term_save(by=admin_b, owner=county_b, name=name, start=start, end=end)
    AttendanceRules.objects.update_or_create(
        county=county_b, defaults={"watch_unexcused_window": 3, "watch_unexcused_days": 1}
    )
    klass_b = (
        SchoolClass.objects.filter(school__township__parent=county_b)
        .exclude(head_teacher=None)
        .first()
    )
    principal_b = "c2_xz1_xx1_xiaozhang"
    child_a = pupils[0]
    monday_b, thursday_b = (pupil(world, klass_b, by=principal_b) for _ in range(2))
    for day in WEEK:
        take(world, klass, day, {child_a: Mark.UNEXCUSED} if day in (MON, THU) else {})
    take(world, klass_b, MON, {monday_b: Mark.UNEXCUSED}, user=principal_b)
    take(world, klass_b, THU, {thursday_b: Mark.UNEXCUSED}, user=principal_b)
    watch.compute([county(), county_b], as_of=FRI)
    assert WatchReason.UNEXCUSED in reasons(child_a)
    assert WatchReason.UNEXCUSED in reasons(thursday_b)
    assert WatchReason.UNEXCUSED not in reasons(monday_b)


def test_signal_unexplained_lateness_counts_late_days_without_a_note(world, klass, pupils):
    """signals.unexplained_lateness: 5 late days without a note in 20 school days."""
    AttendanceRules.objects.update_or_create(county=county(), defaults={"watch_late_days": 3})
    often, explained = pupils[0], pupils[1]
    for day in (MON, TUE, WED):
        services.submit(
            by=world.user(PRINCIPAL),
            klass=klass,
            day=day,
            marks=[
                services.MarkData(often.pk, Mark.LATE),
                services.MarkData(explained.pk, Mark.LATE, note="校车晚点"),
            ],
        )
    compute()
    assert WatchReason.LATENESS in reasons(often)
    assert WatchReason.LATENESS not in reasons(explained)


def test_signal_recent_return_follows_a_returned_child(world, klass, pupils):
    """signals.recent_return: 已复学（跟踪） on the ledger; closed as 已复学 within the setting's
    days still counts, then it ends."""
    child = pupils[0]
    entry = entry_in(world, State.RETURNED, child)
    compute()
    assert WatchReason.RETURNED in reasons(child)
    entry = ledger_services.entry_propose_closure(
        by=world.user(SCHOOL_USER),
        entry=entry,
        reason=ClosureReason.RETURNED,
        evidence_text="复学跟踪一学期，按时到校",
    )
    ledger_services.entry_approve(by=world.user(APPROVER), entry=entry, comment="同意")
    today = datetime.date.today()
    compute(as_of=today)
    assert WatchReason.RETURNED in reasons(child)
    AttendanceRules.objects.update_or_create(county=county(), defaults={"watch_return_days": 30})
    compute(as_of=today + datetime.timedelta(days=31))
    assert WatchReason.RETURNED not in reasons(child)
    # signals.earlier_episode: the closed dropout episode keeps the child watched.
    assert WatchReason.EPISODE in reasons(child)


def test_signal_earlier_episode_only_for_a_confirmed_dropout(world, klass, pupils):
    """signals.earlier_episode: a closed entry of a confirmed dropout, not an excluded one."""
    excluded = pupils[1]
    entry_in(world, State.EXCLUDED, excluded)
    compute()
    assert WatchReason.EPISODE not in reasons(excluded)


def test_every_reason_has_a_signal():
    assert set(signals.SIGNALS) == set(WatchReason)


# -- periods ----------------------------------------------------------------------------------


def test_child_leaves_the_list_when_no_reason_holds_and_the_history_stays(world, klass, pupils):
    child = pupils[0]
    full_week(world, klass, {MON: {child: Mark.UNEXCUSED}, TUE: {child: Mark.UNEXCUSED}})
    compute(as_of=TUE)
    period = WatchPeriod.objects.get(student=child)
    assert (period.reason, period.started_on, period.ended_on) == (WatchReason.UNEXCUSED, TUE, None)
    compute(as_of=WED)
    assert WatchPeriod.objects.get(student=child).started_on == TUE, "recomputing keeps it"
    AttendanceRules.objects.update_or_create(county=county(), defaults={"watch_unexcused_days": 3})
    outcome = compute()
    assert outcome.ended == 1 and reasons(child) == set()
    period = WatchPeriod.objects.get(student=child)
    assert (period.started_on, period.ended_on) == (TUE, FRI)


def test_the_computation_covers_only_the_counties_asked_for(world, klass, pupils):
    other = Region.objects.get(code="530102")
    outcome = watch.compute([other], as_of=FRI)
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    watch.compute([other], as_of=FRI)
    assert reasons(left_behind) == set() and outcome.counties == 1
    compute()
    assert reasons(left_behind) == {WatchReason.KEY_GROUP}


# -- the per-group thresholds of the 疑似辍学 rule --------------------------------------------


def _rules(**values):
    AttendanceRules.objects.update_or_create(county=county(), defaults=values)


def test_rule_key_group_threshold_flags_a_key_group_child_after_two_days(world, klass, pupils):
    """attendance.rule.check with key_group_threshold = 2: a left-behind child is 疑似辍学
    after two unexcused days; another child still needs three."""
    _rules(key_group_threshold=2)
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    other = pupils[0]
    results = absent(world, klass, [MON, TUE], left_behind)
    assert [len(result.flagged) for result in results] == [0, 1]
    assert "达到2天" in results[1].flagged[0].events.get().note
    assert [len(r.flagged) for r in absent(world, klass, [WED, THU], other)] == [0, 0]
    assert len(take(world, klass, FRI, {other: Mark.UNEXCUSED}).flagged) == 1


def _returned_and_closed(world, child):
    """An entry of ``child`` found and closed as 已复学 by 1 October (before the test week)."""
    entry = entry_in(world, State.RETURNED, child)
    entry = ledger_services.entry_propose_closure(
        by=world.user(SCHOOL_USER),
        entry=entry,
        reason=ClosureReason.RETURNED,
        evidence_text="复学跟踪一学期，按时到校",
    )
    ledger_services.entry_approve(by=world.user(APPROVER), entry=entry, comment="同意")
    closed = timezone.make_aware(datetime.datetime(2026, 10, 1, 10))
    LedgerEntry.objects.filter(pk=entry.pk).update(closed_at=closed, found_on=closed.date())


def test_rule_returned_threshold_flags_a_returned_child_after_two_days(world, klass, pupils):
    """attendance.rule.check with returned_threshold = 2: a child whose entry was closed as
    已复学 within watch_return_days is 疑似辍学 again (反弹) after two unexcused days."""
    child = pupils[0]
    _returned_and_closed(world, child)
    _rules(returned_threshold=2)
    results = absent(world, klass, [MON, TUE], child)
    assert [len(result.flagged) for result in results] == [0, 1]
    assert results[1].flagged[0].previous is not None
    # Past watch_return_days the general threshold applies again.
    _rules(watch_return_days=1)
    assert len(take(world, klass, MON, {pupils[1]: Mark.UNEXCUSED}).flagged) == 0


def test_rule_group_thresholds_apply_in_the_nightly_run(world, klass, pupils):
    """attendance.rule.check_all reads each county's group thresholds too."""
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    absent(world, klass, [MON, TUE], left_behind)
    assert not left_behind.ledger_entries.exists()
    _rules(key_group_threshold=2)
    assert rule.check_all(as_of=TUE) == 1


def test_rule_group_threshold_not_set_keeps_the_general_one(world, klass, pupils):
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    results = absent(world, klass, [MON, TUE, WED], left_behind)
    assert [len(result.flagged) for result in results] == [0, 0, 1]


def test_rule_group_threshold_above_the_general_one_is_refused(world):
    admin = world.user("xian_admin")
    with pytest.raises(AppError) as refused:
        services.rules_save(
            by=admin,
            county=county(),
            threshold=3,
            cutoff_days=0,
            cutoff_time=datetime.time(18),
            key_group_threshold=4,
        )
    assert "key_group_threshold" in refused.value.errors


def test_rules_page_sets_the_group_thresholds_and_the_watch_settings(world):
    client = world.client("xian_admin")
    response = client.post(
        "/attendance/rules/",
        {
            "threshold": "3",
            "key_group_threshold": "2",
            "returned_threshold": "2",
            "cutoff_days": "0",
            "cutoff_time": "18:00",
            "watch_rate": "85",
        },
    )
    assert response.status_code == 302
    rules = AttendanceRules.objects.get(county=county())
    assert (rules.key_group_threshold, rules.returned_threshold, rules.watch_rate) == (2, 2, 85)
    assert rules.watch_unexcused_days == 2, "a watch setting left empty keeps its value"


def test_roll_page_warns_a_key_group_child_one_day_short_of_their_own_threshold(
    world, klass, pupils
):
    _rules(key_group_threshold=2, cutoff_days=400)
    left_behind = pupil(world, klass, key_groups={"left_behind"})
    take(world, klass, MON, {left_behind: Mark.UNEXCUSED})
    page = world.client(PRINCIPAL).get(f"/attendance/{klass.pk}/{TUE:%Y-%m-%d}/")
    rows = {row.student.pk: row for row in page.context["rows"]}
    assert rows[left_behind.pk].warn and not rows[pupils[0].pk].warn


# -- measures ---------------------------------------------------------------------------------


def test_measure_dated_in_the_future_is_refused_naming_the_field(world, klass, pupils):
    with pytest.raises(AppError) as refused:
        services.measure_record(
            by=world.user(TEACHER),
            student=pupils[0],
            kind=MeasureKind.HOME_VISIT,
            date=datetime.date.today() + datetime.timedelta(days=1),
            note="家访",
        )
    assert "date" in refused.value.errors and "不能晚于今天" in refused.value.message
    assert not WatchMeasure.objects.exists()


def test_measure_is_append_only_with_who_and_when(world, klass, pupils):
    teacher = world.user(TEACHER)
    measure = services.measure_record(
        by=teacher,
        student=pupils[0],
        kind=MeasureKind.PAIRING,
        date=FRI,
        partner="李老师",
        note="每周谈心一次",
    )
    assert measure.recorded_by == teacher and measure.recorded_at is not None
    assert AuditEvent.objects.filter(object_id=str(measure.pk)).exists()
    with pytest.raises(PermissionError):
        measure.save()
    with pytest.raises(PermissionError):
        WatchMeasure.objects.all().delete()


def test_pairing_needs_a_partner(world, klass, pupils):
    with pytest.raises(AppError) as refused:
        services.measure_record(
            by=world.user(TEACHER),
            student=pupils[0],
            kind=MeasureKind.PAIRING,
            date=FRI,
            note="结对",
        )
    assert "partner" in refused.value.errors


def test_county_staff_may_not_record_a_measure(world, klass, pupils):
    response = world.client("xian_staff").post(
        f"/attendance/watch/{pupils[0].pk}/",
        {"kind": MeasureKind.HOME_VISIT, "date": FRI.isoformat(), "note": "家访"},
    )
    assert response.status_code == 403 and not WatchMeasure.objects.exists()


def test_measure_page_form_shows_the_future_date_error(world, klass, pupils):
    future = datetime.date.today() + datetime.timedelta(days=3)
    response = world.client(TEACHER).post(
        f"/attendance/watch/{pupils[0].pk}/",
        {"kind": MeasureKind.HOME_VISIT, "date": future.isoformat(), "note": "家访"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date"] and not WatchMeasure.objects.exists()


# -- pages, API, jurisdiction -----------------------------------------------------------------


def test_school_sees_its_watch_list_as_cards_with_reasons_and_last_measure(world, klass, pupils):
    child = pupil(world, klass, key_groups={"left_behind"})
    compute()
    services.measure_record(
        by=world.user(TEACHER),
        student=child,
        kind=MeasureKind.HOME_VISIT,
        date=FRI,
        note="家访谈心",
    )
    response = world.client(PRINCIPAL).get("/attendance/watch/")
    cards = [card for card, _ in response.context["cards"]]
    assert [card.student for card in cards] == [child]
    assert cards[0].last_measure.note == "家访谈心"
    page = response.content.decode()
    assert "重点群体" in page and f"自{FRI:%Y-%m-%d}" in page


def test_county_sees_counts_per_school_and_the_most_at_risk_first(world, klass, pupils):
    key = pupil(world, klass, key_groups={"left_behind"})
    risky = pupils[0]
    full_week(world, klass, {MON: {risky: Mark.UNEXCUSED}, TUE: {risky: Mark.UNEXCUSED}})
    compute()
    response = world.client("xian_staff").get("/attendance/watch/")
    assert response.context["counts"] == [(klass.school, 2)]
    order = [card.student for card, _ in response.context["cards"]]
    assert order.index(risky) < order.index(key)


def test_recompute_on_demand_by_the_county(world, klass, pupils):
    child = pupil(world, klass, key_groups={"left_behind"})
    response = world.client("xian_admin").post("/attendance/watch/recompute/")
    assert response.status_code == 302 and reasons(child) == {WatchReason.KEY_GROUP}
    assert world.client(PRINCIPAL).post("/attendance/watch/recompute/").status_code == 403


def test_a_school_asking_for_another_schools_watched_child_gets_404(world, klass, pupils):
    """Jurisdiction: school A's principal asks for school B's watched child: 404, page and API."""
    other_class = (
        SchoolClass.objects.filter(school__township__code__startswith="530102")
        .exclude(head_teacher=None)
        .first()
    )
    elsewhere = pupil(world, other_class, by="c2_xz1_xx1_xiaozhang", key_groups={"left_behind"})
    watch.compute(as_of=FRI)
    assert reasons(elsewhere) == {WatchReason.KEY_GROUP}
    principal = world.client(PRINCIPAL)
    assert principal.get(f"/attendance/watch/{elsewhere.pk}/").status_code == 404
    api = world.token_client(PRINCIPAL)
    assert api.get(f"/api/v1/watch-list/{elsewhere.pk}/").status_code == 404
    assert (
        api.post(
            f"/api/v1/watch-list/{elsewhere.pk}/measures/",
            {"kind": "home_visit", "date": FRI.isoformat(), "note": "家访"},
            format="json",
        ).status_code
        == 404
    )
    listed = {row["id"] for row in api.get("/api/v1/watch-list/").json()["results"]}
    assert elsewhere.pk not in listed


def test_api_lists_the_watch_list_and_posts_a_measure(world, klass, pupils):
    child = pupil(world, klass, key_groups={"left_behind"})
    compute()
    api = world.token_client(TEACHER)
    rows = api.get("/api/v1/watch-list/").json()["results"]
    assert [(row["id"], [r["reason"] for r in row["reasons"]]) for row in rows] == [
        (child.pk, [WatchReason.KEY_GROUP])
    ]
    future = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    refused = api.post(
        f"/api/v1/watch-list/{child.pk}/measures/",
        {"kind": "home_visit", "date": future, "note": "家访"},
        format="json",
    )
    assert refused.status_code == 400 and "date" in refused.json()["errors"]
    done = api.post(
        f"/api/v1/watch-list/{child.pk}/measures/",
        {"kind": "home_visit", "date": FRI.isoformat(), "note": "家访"},
        format="json",
    )
    assert done.status_code == 201 and done.json()["recorded_by"] == TEACHER
    detail = api.get(f"/api/v1/watch-list/{child.pk}/").json()
    assert detail["last_measure"]["note"] == "家访" and len(detail["periods"]) == 1


def test_roll_shows_a_discreet_mark_beside_a_watched_child_without_the_reason(world, klass, pupils):
    child = pupil(world, klass, key_groups={"left_behind"})
    compute()
    page = world.client(TEACHER).get(f"/attendance/{klass.pk}/{FRI:%Y-%m-%d}/").content.decode()
    assert page.count('data-testid="watch-mark"') == 1
    assert 'aria-label="重点监测"' in page and "重点群体" not in page and child.name in page


# -- the weekly digest ------------------------------------------------------------------------


def test_weekly_digest_goes_once_per_week_per_principal_even_if_run_twice(world, klass, pupils):
    child = pupil(world, klass, key_groups={"left_behind"})
    today = datetime.date.today()
    compute(as_of=today)
    assert watch.send_digests(today) == 1
    assert watch.send_digests(today) == 0
    notes = Notification.objects.filter(dedupe_key=watch.digest_key(klass.school_id, today))
    assert notes.count() == 1 and notes.get().recipient == world.user(PRINCIPAL)
    assert child.name in notes.get().body and "本周新列入" in notes.get().body


def test_weekly_digest_lists_children_with_no_measure_for_30_days(world, klass, pupils):
    child = pupil(world, klass, key_groups={"left_behind"})
    today = datetime.date.today()
    compute(as_of=today - datetime.timedelta(days=40))
    later = today + datetime.timedelta(days=7 - today.weekday())  # next Monday
    assert watch.send_digests(later) == 1
    body = Notification.objects.get(dedupe_key=watch.digest_key(klass.school_id, later)).body
    assert "30天内没有登记帮扶措施" in body and child.name in body and "本周新列入" not in body
