"""Reads of daily attendance (DOMAIN.md §4): the roll page, what a school or an area has to
chase on a day, term-start no-shows, and each student's recorded days for the 疑似辍学 rule.

A roll call is one class on one school day; only students who were not simply present get a
row. A school day without a roll call is *not recorded*: a gap to chase, never "present".
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Notification, Region, School, SchoolClass
from students import calendar
from students.choices import ENROLLED_STATUSES
from students.models import Student

from . import signals
from .choices import Mark, WatchReason
from .models import AttendanceMark, AttendanceRules, RollCall, WatchMeasure, WatchPeriod

# How many school days back the roll page shows for each student.
RECENT_DAYS = 5
# The first week of a term (DOMAIN.md §4, 002): who has not appeared by then is checked.
FIRST_WEEK = datetime.timedelta(days=7)


def rules_for(county: Region | int) -> AttendanceRules:
    """The county's attendance settings, or the defaults when it has set none."""
    county_id = getattr(county, "pk", county)
    return AttendanceRules.objects.filter(county_id=county_id).first() or AttendanceRules(
        county_id=county_id
    )


def rules_for_school(school: School) -> AttendanceRules:
    return rules_for(school.township.parent_id)


def cutoff(rules: AttendanceRules, day: datetime.date) -> datetime.datetime:
    """When the class teacher's window for ``day``'s roll closes."""
    last = day + datetime.timedelta(days=rules.cutoff_days)
    return timezone.make_aware(datetime.datetime.combine(last, rules.cutoff_time))


def on_roll(klass: SchoolClass):
    """Who is on the class's roll: its enrolled students."""
    return Student.objects.filter(klass=klass, status__in=ENROLLED_STATUSES)


def roster(klass: SchoolClass) -> list[Student]:
    return list(on_roll(klass).order_by("student_number", "name", "id"))


def marks_of(roll: RollCall | None) -> dict[int, AttendanceMark]:
    if roll is None:
        return {}
    return {mark.student_id: mark for mark in roll.marks.all()}


def student_days(
    until: datetime.date,
    student_ids: Iterable[int],
    class_dates: dict[int, Sequence[datetime.date]],
    since: dict,
) -> dict[int, list[tuple[datetime.date, str]]]:
    """Each student's recorded days, ascending, as (date, mark): the roll calls of the
    student's class (``class_dates`` by student) plus any day the student has a mark for (a
    mark follows the child to a new class), from ``since[student]`` to ``until``."""
    student_ids = list(student_ids)
    if not student_ids:
        return {}
    start = min(since.values())
    marks: dict[int, dict[datetime.date, str]] = defaultdict(dict)
    for student_id, date, status in AttendanceMark.objects.filter(
        student_id__in=student_ids, date__gte=start, date__lte=until
    ).values_list("student_id", "date", "status"):
        marks[student_id][date] = status
    days = {}
    for student_id in student_ids:
        first = since[student_id]
        own = marks[student_id]
        dates = {d for d in class_dates[student_id] if first <= d <= until}
        dates |= {d for d in own if d >= first}
        days[student_id] = [(d, own.get(d, Mark.PRESENT)) for d in sorted(dates)]
    return days


@dataclass(frozen=True)
class Run:
    """Unexcused absence on consecutive recorded days."""

    start: datetime.date
    end: datetime.date
    length: int
    days: tuple[datetime.date, ...] = field(default=(), repr=False)

    def reached(self, threshold: int) -> datetime.date:
        """The day the run reached ``threshold`` days."""
        return self.days[threshold - 1]


def runs(days: Sequence[tuple[datetime.date, str]]) -> list[Run]:
    """The runs of unexcused absence in one student's recorded days (DOMAIN.md §4): any
    other mark breaks a run; days that were not recorded are simply not in ``days``."""
    found: list[Run] = []
    current: list[datetime.date] = []
    for date, status in [*days, (None, Mark.PRESENT)]:
        if status == Mark.UNEXCUSED:
            current.append(date)
        elif current:
            found.append(Run(current[0], current[-1], len(current), tuple(current)))
            current = []
    return found


def trailing_run(days: Sequence[tuple[datetime.date, str]]) -> int:
    """How many unexcused days in a row the student's record ends with."""
    count = 0
    for _, status in reversed(days):
        if status != Mark.UNEXCUSED:
            break
        count += 1
    return count


# How many school days the student page shows (issue 11: what a verification call needs).
STUDENT_PAGE_DAYS = 20
# How long before an entry's 发现日期 the run that opened it may have begun: the longest
# threshold (20 school days), and a run may go on across a term's break.
OPENING_REACH = datetime.timedelta(days=120)


def recent_days(
    student: Student, *, today: datetime.date | None = None, count: int = STUDENT_PAGE_DAYS
) -> list[tuple[datetime.date, str]]:
    """The student's last ``count`` school days up to ``today`` by their school's calendar,
    ascending, each with its mark — "" when the day was not recorded (no roll call of the
    class, no mark of the student): a gap, never "present". Five queries."""
    today = today or timezone.localdate()
    days = calendar.calendar_for(student.school_id).previous_school_days(
        today, count, including=True
    )
    if not days:
        return []
    class_dates = (
        list(
            RollCall.objects.filter(
                klass_id=student.klass_id, date__gte=days[0], date__lte=today
            ).values_list("date", flat=True)
        )
        if student.klass_id
        else []
    )
    recorded = dict(
        student_days(today, [student.pk], {student.pk: class_dates}, {student.pk: days[0]})[
            student.pk
        ]
    )
    return [(day, recorded.get(day, "")) for day in days]


def opening_runs(entries: Sequence, *, until: datetime.date | None = None) -> dict[int, Run | None]:
    """For ledger entries the attendance rule opened (``attendance.rule``), by entry: the run
    of unexcused days each was opened for — in the child's recorded days up to ``until``
    (today), the run holding the entry's 发现日期, the day the run reached the threshold. It
    may have gone on since. None when a correction has broken it (the rule then flags the
    entry for review). Two queries for any number of entries (``entry.student`` loaded)."""
    until = until or timezone.localdate()
    entries = [entry for entry in entries if entry.student_id is not None]
    if not entries:
        return {}
    since = {entry.student_id: entry.found_on - OPENING_REACH for entry in entries}
    classes = {entry.student_id: entry.student.klass_id for entry in entries}
    class_dates: dict[int, list[datetime.date]] = defaultdict(list)
    for klass_id, date in (
        RollCall.objects.filter(
            klass_id__in={pk for pk in classes.values() if pk},
            date__gte=min(since.values()),
            date__lte=until,
        )
        .order_by()
        .values_list("klass_id", "date")
    ):
        class_dates[klass_id].append(date)
    days = student_days(
        until, list(since), {pk: class_dates[klass] for pk, klass in classes.items()}, since
    )
    result = {}
    for entry in entries:
        found = entry.found_on
        held = [run for run in runs(days[entry.student_id]) if run.start <= found <= run.end]
        result[entry.pk] = held[0] if held else None
    return result


def notice_key(entry_pk: int) -> str:
    """The dedupe key of the 疑似辍学 notification the rule sends about an entry."""
    return f"suspected-dropout:{entry_pk}"


def notified_roles(entries: Sequence) -> dict[int, set[str]]:
    """Who the rule's notification about each entry reached, as the recipients' roles: what
    the roll page may truthfully say was told (one query)."""
    keys = {notice_key(entry.pk): entry.pk for entry in entries}
    result: dict[int, set[str]] = {entry.pk: set() for entry in entries}
    for key, role in Notification.objects.filter(dedupe_key__in=list(keys)).values_list(
        "dedupe_key", "recipient__role"
    ):
        result[keys[key]].add(role)
    return result


@dataclass
class SheetRow:
    student: Student
    mark: str
    note: str
    recent: list[tuple[datetime.date, str]]  # (school day, mark or "" when not recorded)
    run: int  # unexcused days in a row before the sheet's day
    warn: bool  # one more unexcused day makes them 疑似辍学
    threshold: int  # their own threshold of the rule (lower for some groups)
    watched: bool  # on the watch list (the roll shows a discreet mark, never the reason)


@dataclass
class Sheet:
    klass: SchoolClass
    day: datetime.date
    roll: RollCall | None
    rows: list[SheetRow]
    recent_days: list[datetime.date]
    rules: AttendanceRules


def sheet(klass: SchoolClass, day: datetime.date) -> Sheet:
    """The roll page for one class and day: the current marks (everyone present when the
    day is not recorded yet), each student's last school days, and their running count of
    unexcused days."""
    rules = rules_for_school(klass.school)
    students = roster(klass)
    roll = RollCall.objects.filter(klass=klass, date=day).select_related("submitted_by").first()
    current = marks_of(roll)
    recent_days = calendar.calendar_for(klass.school_id).previous_school_days(day, RECENT_DAYS)
    since = recent_days[0] if recent_days else day
    history = RollCall.objects.filter(klass=klass, date__lt=day)
    # The run may be longer than the days shown: look back over the last threshold+ days.
    run_dates = list(
        history.order_by("-date").values_list("date", flat=True)[: rules.threshold + RECENT_DAYS]
    )
    since = min([since, *run_dates])
    ids = [student.pk for student in students]
    days = student_days(day, ids, {pk: run_dates for pk in ids}, {pk: since for pk in ids})
    recorded = set(run_dates)
    own = student_thresholds(students, Thresholds.of(rules), as_of=day)
    watched = watched_ids(ids)
    rows = []
    for student in students:
        mine = [(d, m) for d, m in days[student.pk] if d < day]
        by_date = dict(mine)
        run = trailing_run(mine)
        mark = current.get(student.pk)
        threshold = own[student.pk]
        rows.append(
            SheetRow(
                student=student,
                mark=mark.status if mark else Mark.PRESENT,
                note=mark.note if mark else "",
                recent=[
                    (d, by_date.get(d, Mark.PRESENT if d in recorded else "")) for d in recent_days
                ],
                run=run,
                warn=run >= threshold - 1,
                threshold=threshold,
                watched=student.pk in watched,
            )
        )
    return Sheet(klass, day, roll, rows, recent_days, rules)


def expected_classes(schools, day: datetime.date) -> list[SchoolClass]:
    """The classes of ``schools`` that should have a roll call for ``day``: those with
    students on the roll, at schools for which ``day`` is a school day."""
    in_session = _in_session(calendar.calendars_for(schools), day)
    return list(
        _due_classes(in_session)
        .select_related("school", "head_teacher")
        .order_by("school_id", "grade", "name")
    )


def _in_session(calendars: dict[int, calendar.Calendar], day: datetime.date) -> list[int]:
    return [pk for pk, cal in calendars.items() if cal.is_school_day(day)]


def _due_classes(school_ids: list[int]):
    """The classes of these (in-session) schools that owe a roll call: those with students
    on the roll."""
    return _with_pupils(SchoolClass.objects.filter(school_id__in=school_ids))


def _with_pupils(classes):
    on_roll = Student.objects.filter(klass=OuterRef("pk"), status__in=ENROLLED_STATUSES)
    return classes.filter(Exists(on_roll))


def _without_roll(classes, day: datetime.date):
    return classes.filter(~Exists(RollCall.objects.filter(klass=OuterRef("pk"), date=day)))


def unsubmitted(school_ids: Iterable[int], day: datetime.date):
    """The classes of these schools that owe ``day``'s roll (a school day for them, students
    on the roll) and have none yet."""
    in_session = _in_session(calendar.calendars_for(school_ids), day)
    return _without_roll(_due_classes(in_session), day)


def schools_missing_roll(schools, day: datetime.date):
    """Those of ``schools`` (a query) with a class that ``unsubmitted`` would list, in one
    query that lists neither the schools nor their classes (a province has 170,000): the
    day's roll calls are read from the (date, class) index alone, and before the morning's
    first roll each school stops at its first class."""
    owing = _without_roll(_with_pupils(SchoolClass.objects.all()), day)
    return calendar.in_session(schools, day).filter(pk__in=owing.values("school_id"))


def classes_day(
    classes, day: datetime.date
) -> tuple[list[tuple[SchoolClass, RollCall | None]], bool]:
    """Each of ``classes`` (a class teacher's) with its roll call of ``day`` if taken, and
    whether ``day`` is a school day at any of their schools."""
    classes = list(classes.select_related("school"))
    rolls = {
        roll.klass_id: roll
        for roll in RollCall.objects.filter(klass__in=classes, date=day).select_related(
            "submitted_by"
        )
    }
    calendars = calendar.calendars_for({klass.school_id for klass in classes})
    school_day = any(cal.is_school_day(day) for cal in calendars.values())
    return [(klass, rolls.get(klass.pk)) for klass in classes], school_day


def no_shows(school_ids: Iterable[int], day: datetime.date) -> dict[int, list[Student]]:
    """Term start (DOMAIN.md §4, 002): during the first week of a school's term, its enrolled
    students who have not appeared on any roll call since the term began — absent, on leave
    or unexcused on every recorded day, by school. Students of a class with no roll call yet
    are not listed: their class is a gap, shown as such. A few queries however many schools
    (the term-start task asks for all of a province's at once)."""
    starts = {
        school_id: start
        for school_id, cal in calendar.calendars_for(school_ids).items()
        if (start := first_week_start(cal, day)) is not None
    }
    if not starts:
        return {}
    since = min(starts.values())
    days_in_class: dict[int, int] = defaultdict(int)
    for school_id, klass_id, date in RollCall.objects.filter(
        school_id__in=list(starts), date__gte=since, date__lte=day
    ).values_list("school_id", "klass_id", "date"):
        if date >= starts[school_id]:
            days_in_class[klass_id] += 1
    away = AttendanceMark.objects.filter(
        roll__school_id__in=list(starts), date__gte=since, date__lte=day
    ).exclude(status=Mark.LATE)
    days_away: dict[int, int] = defaultdict(int)
    for school_id, student_id, date in away.values_list("roll__school_id", "student_id", "date"):
        if date >= starts[school_id]:
            days_away[student_id] += 1
    candidates = Student.objects.filter(
        school_id__in=list(starts), status__in=ENROLLED_STATUSES
    ).filter(Exists(away.filter(student=OuterRef("pk"))))
    result: dict[int, list[Student]] = defaultdict(list)
    for student in candidates.select_related("klass").order_by("school_id", "klass_id", "name"):
        recorded = days_in_class.get(student.klass_id, 0)
        if recorded and days_away[student.pk] >= recorded:
            result[student.school_id].append(student)
    return dict(result)


def first_week_start(cal: calendar.Calendar, day: datetime.date) -> datetime.date | None:
    """The start of the term whose first week ``day`` falls in, or None."""
    term = cal.term_of(day)
    if term is not None and term.start <= day < term.start + FIRST_WEEK:
        return term.start
    return None


def last_day_of_first_week(cal: calendar.Calendar, day: datetime.date) -> bool:
    """Whether ``day`` is the last school day of its term's first week."""
    start = first_week_start(cal, day)
    if start is None or not cal.is_school_day(day):
        return False
    rest = cal.school_days(day + datetime.timedelta(days=1), start + FIRST_WEEK)
    return not [d for d in rest if d < start + FIRST_WEEK]


@dataclass
class SchoolDay:
    """What a school has to chase on a day: the classes without a roll call (gaps), the
    day's absences, and in a term's first week the students who have not reported. For a
    中心校, ``schools`` holds it and its attached schools, shown together."""

    school: School
    school_day: bool
    missing: list[SchoolClass]
    submitted: list[RollCall]
    absences: list[AttendanceMark]
    first_week: bool
    no_shows: list[Student]
    schools: list[School] = field(default_factory=list)


def school_day(school: School, day: datetime.date) -> SchoolDay:
    return schools_day([school], day)


def schools_day(schools: Sequence[School], day: datetime.date) -> SchoolDay:
    """``school_day`` for several schools at once — a 中心校 with its 村小 and 教学点 (DOMAIN.md
    §2: it sees and answers for them) — the first one leading. The same queries however many
    schools: a school day at any of them counts, each class by its own school's calendar."""
    ids = [school.pk for school in schools]
    order = {pk: index for index, pk in enumerate(ids)}
    calendars = calendar.calendars_for(ids)
    rolls = {
        roll.klass_id: roll
        for roll in RollCall.objects.filter(school_id__in=ids, date=day).select_related(
            "klass__school", "submitted_by"
        )
    }
    starting = [pk for pk, cal in calendars.items() if first_week_start(cal, day) is not None]
    due = (
        _due_classes(_in_session(calendars, day))
        .select_related("school", "head_teacher")
        .order_by("school_id", "grade", "name")
    )
    shown = no_shows(starting, day) if starting else {}
    return SchoolDay(
        school=schools[0],
        school_day=any(cal.is_school_day(day) for cal in calendars.values()),
        missing=sorted(
            (k for k in due if k.pk not in rolls),
            key=lambda k: (order[k.school_id], k.grade, k.name),
        ),
        submitted=sorted(
            rolls.values(),
            key=lambda roll: (order[roll.school_id], roll.klass.grade, roll.klass.name),
        ),
        absences=sorted(
            AttendanceMark.objects.filter(roll__school_id__in=ids, date=day)
            .select_related("student", "roll__klass__school")
            .order_by("roll__klass__grade", "roll__klass__name", "student__name"),
            key=lambda mark: order[mark.roll.school_id],
        ),
        first_week=bool(starting),
        no_shows=[student for pk in ids for student in shown.get(pk, [])],
        schools=list(schools),
    )


@dataclass
class AreaDay:
    """For an area of many schools: for each school (or, across counties, each county) in
    session, how many classes owe the day's roll, the most behind first, as (school or
    county, classes due, classes not submitted)."""

    area_rows: list[tuple[School | Region, int, int]]
    area_schools: int
    area_owed: int
    by_county: bool


def area_day(schools, day: datetime.date, *, by_county: bool = False) -> AreaDay:
    """Counted in the database, so that a province's fifteen thousand schools are one
    aggregate query after their calendars."""
    calendars = calendar.calendars_for(schools.values_list("pk", flat=True))
    key = "school__township__parent" if by_county else "school"
    counts = (
        _due_classes(_in_session(calendars, day))
        .values(key)
        .annotate(
            due=Count("pk"),
            owed=Count(
                "pk", filter=~Q(Exists(RollCall.objects.filter(klass=OuterRef("pk"), date=day)))
            ),
        )
    )
    rows = [(row[key], row["due"], row["owed"]) for row in counts]
    places = (Region if by_county else School).objects.in_bulk([pk for pk, _, _ in rows])
    result = [(places[pk], due, owed) for pk, due, owed in rows]
    result.sort(key=lambda row: (-row[2], row[0].name))
    return AreaDay(
        area_rows=result,
        area_schools=len(calendars),
        area_owed=sum(owed for _, _, owed in result),
        by_county=by_county,
    )


# -- the per-group thresholds of the 疑似辍学 rule -----------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """One county's 疑似辍学 rule (attendance.rule): the general number of unexcused school
    days in a row, and the lower ones for key-group children and returned children (a child
    in both takes the lower). ``return_days``: how long a closure as 已复学 keeps a child a
    returned one (the watch list's setting)."""

    general: int
    key_group: int
    returned: int
    return_days: int

    @classmethod
    def of(cls, rules: "AttendanceRules | Thresholds | int") -> "Thresholds":
        """The county's thresholds (from its rules, or as already read), or one number for
        every child."""
        if isinstance(rules, cls):
            return rules
        if isinstance(rules, int):
            return cls(rules, rules, rules, 0)
        general = rules.threshold
        return cls(
            general,
            min(general, rules.key_group_threshold or general),
            min(general, rules.returned_threshold or general),
            rules.watch_return_days,
        )

    @property
    def lowest(self) -> int:
        return min(self.general, self.key_group, self.returned)


def thresholds_for_school(school: School) -> Thresholds:
    return Thresholds.of(rules_for_school(school))


def student_thresholds(
    students: Sequence[Student], thresholds: Thresholds, *, as_of: datetime.date | None = None
) -> dict[int, int]:
    """Each student's own threshold of the rule, by student: the lowest of their groups'."""
    as_of = as_of or timezone.localdate()
    returned = (
        returned_students([student.pk for student in students], as_of, thresholds.return_days)
        if thresholds.returned < thresholds.general
        else set()
    )
    result = {}
    for student in students:
        own = [thresholds.general]
        if student.key_group_values:
            own.append(thresholds.key_group)
        if student.pk in returned:
            own.append(thresholds.returned)
        result[student.pk] = min(own)
    return result


def returned_since(as_of: datetime.date, return_days: int) -> datetime.datetime:
    """From when a closure as 已复学 still makes a child a returned one."""
    start = as_of - datetime.timedelta(days=return_days)
    return timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))


def returned_students(student_ids: Iterable[int], as_of: datetime.date, return_days: int) -> set:
    """Which of these students are returned children, by the same condition as the watch
    list and the rule (attendance.signals.returned_sql). One query."""
    student_ids = list(student_ids)
    if not student_ids:
        return set()
    condition, params = signals.returned_sql("e", "%s")
    marks = ", ".join(["%s"] * len(student_ids))
    since = connection.ops.adapt_datetimefield_value(returned_since(as_of, return_days))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT e.student_id FROM {signals.ENTRIES} e"  # noqa: S608 - our own SQL
            f" WHERE e.student_id IN ({marks}) AND {condition}",
            [*student_ids, *params, since],
        )
        return {row[0] for row in cursor.fetchall()}


# -- the watch list ---------------------------------------------------------------------------


def watched_ids(student_ids: Iterable[int]) -> set[int]:
    """Which of these students are on the watch list now (one query)."""
    return set(
        WatchPeriod.objects.filter(
            student_id__in=list(student_ids), ended_on__isnull=True
        ).values_list("student_id", flat=True)
    )


# Reasons read from the child's own attendance weigh most in "the most at risk first".
ATTENDANCE_REASONS = frozenset({WatchReason.UNEXCUSED, WatchReason.RATE, WatchReason.LATENESS})
# A watched child with no measure for this many days waits for one (home page, digest).
MEASURE_DUE_DAYS = 30
# How long a child counts as newly on the list (home page).
NEW_DAYS = 7


def watch_open(user):
    """The open watch periods of ``user``'s area."""
    return WatchPeriod.objects.for_user(user).filter(ended_on__isnull=True)


def watch_ranked(periods):
    """The children of ``periods`` (open ones), most at risk first: most reasons read from
    attendance, then most reasons, then the longest on the list. Rows of ``student_id``."""
    return (
        periods.order_by()
        .values("student_id")
        .annotate(
            attendance=Count("pk", filter=Q(reason__in=ATTENDANCE_REASONS)),
            reasons=Count("pk"),
            since=Min("started_on"),
        )
        .order_by("-attendance", "-reasons", "since", "student_id")
    )


@dataclass
class WatchCard:
    """One watched child: the reasons that hold with the day each began, and the last
    measure recorded."""

    student: Student
    reasons: list[WatchPeriod]
    last_measure: WatchMeasure | None

    @property
    def since(self) -> datetime.date:
        return min(period.started_on for period in self.reasons)


def watch_cards(student_ids: Sequence[int]) -> list[WatchCard]:
    """Cards for these students, in this order (three queries)."""
    students = Student.objects.select_related("school", "klass").in_bulk(list(student_ids))
    periods: dict[int, list[WatchPeriod]] = defaultdict(list)
    for period in WatchPeriod.objects.filter(
        student_id__in=list(student_ids), ended_on__isnull=True
    ).order_by("started_on", "reason"):
        periods[period.student_id].append(period)
    return [
        WatchCard(students[pk], periods[pk], measure)
        for pk, measure in zip(student_ids, _last_measures(student_ids), strict=True)
        if pk in students
    ]


def _last_measures(student_ids: Sequence[int]) -> list[WatchMeasure | None]:
    """Each student's latest measure (or None), in one query."""
    latest = WatchMeasure.objects.filter(student=OuterRef("pk")).order_by("-date", "-id")
    lasts = Student.objects.filter(pk__in=list(student_ids)).annotate(
        last=Subquery(latest.values("pk")[:1])
    )
    found = {
        measure.student_id: measure
        for measure in WatchMeasure.objects.filter(pk__in=lasts.values("last")).select_related(
            "recorded_by"
        )
    }
    return [found.get(pk) for pk in student_ids]


def watch_counts(periods, place: str) -> dict[int, int]:
    """Watched children of ``periods`` per ``place`` (a path to a school or county id)."""
    rows = periods.order_by().values(place).annotate(n=Count("student_id", distinct=True))
    return {row[place]: row["n"] for row in rows}


def watch_history(student: Student) -> tuple[list[WatchPeriod], list[WatchMeasure]]:
    """A child's whole watch history: every period, ended ones too, and every measure."""
    periods = list(WatchPeriod.objects.filter(student=student).order_by("-started_on", "reason"))
    measures = list(WatchMeasure.objects.filter(student=student).select_related("recorded_by"))
    return periods, measures


def watch_new(students, since: datetime.date):
    """Those of ``students`` put on the watch list (a reason that still holds) since ``since``."""
    fresh = WatchPeriod.objects.filter(
        student=OuterRef("pk"), ended_on__isnull=True, started_on__gte=since
    )
    return students.filter(Exists(fresh))


def watch_idle(students, day: datetime.date):
    """Those of ``students`` on the watch list for MEASURE_DUE_DAYS days or more with no
    measure dated in the last MEASURE_DUE_DAYS days."""
    due = day - datetime.timedelta(days=MEASURE_DUE_DAYS)
    long = WatchPeriod.objects.filter(
        student=OuterRef("pk"), ended_on__isnull=True, started_on__lte=due
    )
    recent = WatchMeasure.objects.filter(student=OuterRef("pk"), date__gt=due)
    return students.filter(Exists(long)).exclude(Exists(recent))


def _by_school(students) -> dict[int, list[Student]]:
    result: dict[int, list[Student]] = defaultdict(list)
    for student in students.select_related("klass").order_by("school_id", "klass_id", "name"):
        result[student.school_id].append(student)
    return dict(result)


def watch_new_by_school(since: datetime.date) -> dict[int, list[Student]]:
    return _by_school(watch_new(Student.objects.all(), since))


def watch_idle_by_school(day: datetime.date) -> dict[int, list[Student]]:
    return _by_school(watch_idle(Student.objects.all(), day))
