"""Daily attendance (DOMAIN.md §4): taking a class's roll, correcting it, and reading it back.

A roll call is one class on one school day; only students who were not simply present get a
row. A school day without a roll call is *not recorded*: a gap to chase, never "present".

The rule that turns unexcused absence into 疑似辍学 lives in ``ledger.absence``; ``submit``
runs it for the class at once, the nightly task for everyone.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability, NotificationKind, RegionLevel
from accounts.models import Region, School, SchoolClass, User
from accounts.notifications import notify
from accounts.selectors import recipients_for_school
from accounts.services import has_capability
from kongchuo.errors import AppError

from . import calendar
from .choices import ENROLLED_STATUSES, Mark
from .models import AttendanceMark, AttendanceRules, RollCall, Student

# How many school days back the roll page shows for each student.
RECENT_DAYS = 5
# The first week of a term (DOMAIN.md §4, 002): who has not appeared by then is checked.
FIRST_WEEK = datetime.timedelta(days=7)


# -- settings ---------------------------------------------------------------------------------


def rules_for(county: Region | int) -> AttendanceRules:
    """The county's attendance settings, or the defaults when it has set none."""
    county_id = getattr(county, "pk", county)
    return AttendanceRules.objects.filter(county_id=county_id).first() or AttendanceRules(
        county_id=county_id
    )


def rules_for_school(school: School) -> AttendanceRules:
    return rules_for(school.township.parent_id)


def may_set_rules(user: User) -> bool:
    """County calendar keepers (county staff and administrators) set their county's rules."""
    return (
        has_capability(user, Capability.MANAGE_CALENDAR)
        and not user.school_id
        and user.region_id is not None
        and user.region.level == RegionLevel.COUNTY
    )


@transaction.atomic
def rules_save(
    *,
    by: User,
    county: Region,
    threshold: int,
    cutoff_days: int,
    cutoff_time: datetime.time,
) -> AttendanceRules:
    """Set a county's attendance settings (its calendar keepers do)."""
    if county.level != RegionLevel.COUNTY or not jurisdiction.contains(by, county):
        raise AppError("只能设置本县的考勤规则。", field="county")
    if not may_set_rules(by):
        raise AppError("只有县教体局可以设置考勤规则。")
    rules = AttendanceRules.objects.select_for_update().filter(county=county).first()
    before = audit.snapshot(rules) if rules else None
    rules = rules or AttendanceRules(county=county)
    rules.threshold, rules.cutoff_days, rules.cutoff_time = threshold, cutoff_days, cutoff_time
    try:
        rules.full_clean()
    except ValidationError as exc:
        raise AppError.from_validation(exc) from None
    rules.save()
    audit.record_change(actor=by, instance=rules, before=before, detail="设置考勤规则")
    return rules


def cutoff(rules: AttendanceRules, day: datetime.date) -> datetime.datetime:
    """When the class teacher's window for ``day``'s roll closes."""
    last = day + datetime.timedelta(days=rules.cutoff_days)
    return timezone.make_aware(datetime.datetime.combine(last, rules.cutoff_time))


def refusal(
    user: User, klass: SchoolClass, day: datetime.date, rules: AttendanceRules | None = None
) -> AppError | None:
    """Why ``user`` may not take or change ``klass``'s roll for ``day`` now (None: they may).
    ``submit`` raises it; the roll page shows it and stays read-only."""
    if day is None:
        return AppError("请选择考勤日期。", field="date")
    if day > timezone.localdate():
        return AppError("考勤日期不能晚于今天。", field="date")
    if not calendar.calendar_for(klass.school_id).is_school_day(day):
        return AppError(
            f"{day:%Y年%m月%d日}按校历不是上学日（周末、节假日或学期外），无需登记考勤。",
            field="date",
        )
    if not has_capability(user, Capability.TAKE_ATTENDANCE):
        return AppError("当前账号只能查看考勤，由班主任或学校提交。")
    rules = rules or rules_for_school(klass.school)
    closes = cutoff(rules, day)
    if timezone.now() > closes and not has_capability(user, Capability.LATE_ATTENDANCE):
        return AppError(
            f"{day:%m月%d日}的考勤已过修改截止时间（{timezone.localtime(closes):%m月%d日 %H:%M}），"
            "如需修改请联系校长。",
            field="date",
        )
    return None


# -- reading ----------------------------------------------------------------------------------


def _on_roll(klass: SchoolClass):
    """Who is on the class's roll: its enrolled students."""
    return Student.objects.filter(klass=klass, status__in=ENROLLED_STATUSES)


def roster(klass: SchoolClass) -> list[Student]:
    return list(_on_roll(klass).order_by("student_number", "name", "id"))


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


@dataclass
class SheetRow:
    student: Student
    mark: str
    note: str
    recent: list[tuple[datetime.date, str]]  # (school day, mark or "" when not recorded)
    run: int  # unexcused days in a row before the sheet's day
    warn: bool  # one more unexcused day makes them 疑似辍学


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
    rows = []
    for student in students:
        mine = [(d, m) for d, m in days[student.pk] if d < day]
        by_date = dict(mine)
        run = trailing_run(mine)
        mark = current.get(student.pk)
        rows.append(
            SheetRow(
                student=student,
                mark=mark.status if mark else Mark.PRESENT,
                note=mark.note if mark else "",
                recent=[
                    (d, by_date.get(d, Mark.PRESENT if d in recorded else "")) for d in recent_days
                ],
                run=run,
                warn=run >= rules.threshold - 1,
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
    on_roll = Student.objects.filter(klass=OuterRef("pk"), status__in=ENROLLED_STATUSES)
    return SchoolClass.objects.filter(school_id__in=school_ids).filter(Exists(on_roll))


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
    day's absences, and in a term's first week the students who have not reported."""

    school: School
    school_day: bool
    missing: list[SchoolClass]
    submitted: list[RollCall]
    absences: list[AttendanceMark]
    first_week: bool
    no_shows: list[Student]


def school_day(school: School, day: datetime.date) -> SchoolDay:
    cal = calendar.calendar_for(school)
    rolls = {
        roll.klass_id: roll
        for roll in RollCall.objects.filter(school=school, date=day).select_related(
            "klass", "submitted_by"
        )
    }
    first_week = first_week_start(cal, day) is not None
    return SchoolDay(
        school=school,
        school_day=cal.is_school_day(day),
        missing=[k for k in expected_classes([school], day) if k.pk not in rolls],
        submitted=sorted(rolls.values(), key=lambda roll: (roll.klass.grade, roll.klass.name)),
        absences=list(
            AttendanceMark.objects.filter(roll__school=school, date=day)
            .select_related("student", "roll__klass")
            .order_by("roll__klass__grade", "roll__klass__name", "student__name")
        ),
        first_week=first_week,
        no_shows=no_shows([school.pk], day).get(school.pk, []) if first_week else [],
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


def send_no_shows(day: datetime.date | None = None) -> int:
    """On the last school day of a term's first week, send each school's principal the list
    of students who have not appeared (DOMAIN.md §4, 002). Returns the schools notified."""
    day = day or timezone.localdate()
    due = [
        pk
        for pk, cal in calendar.calendars_for(School.objects.values_list("pk", flat=True)).items()
        if last_day_of_first_week(cal, day)
    ]
    lists = no_shows(due, day)
    schools = School.objects.in_bulk(list(lists))
    for school_id, students in lists.items():
        names = "、".join(f"{student.klass}{student.name}" for student in students)
        notify(
            recipients_for_school(schools[school_id]),
            kind=NotificationKind.NO_SHOW,
            title=f"开学一周未报到学生：{len(students)}人",
            body=f"以下学生开学以来未到校，请逐一核查并登记：{names}。",
            link=f"/attendance/?date={day:%Y-%m-%d}",
            dedupe_key=f"no-show:{school_id}:{day:%Y-%m-%d}",
        )
    return len(lists)


# -- writing ----------------------------------------------------------------------------------


@dataclass
class MarkData:
    """One student who was not simply present, as submitted."""

    student: int
    status: str
    note: str = ""


@dataclass
class Submission:
    roll: RollCall
    created: bool
    changes: dict[int, tuple[str, str]]  # student id → (mark before, mark after)
    flagged: list = field(default_factory=list)  # ledger entries the rule opened


def _check_marks(
    klass: SchoolClass, marks: Sequence[MarkData]
) -> tuple[dict[int, str], dict[int, MarkData]]:
    """The names on the class's roll, and the submitted marks by student after checking
    each names a student of the roll once with a known status; present students are dropped
    (they get no row)."""
    on_roll = dict(_on_roll(klass).values_list("pk", "name"))
    result: dict[int, MarkData] = {}
    for number, mark in enumerate(marks, start=1):
        where = f"第{number}名学生"
        if mark.status not in Mark.values:
            raise AppError(
                f"{where}：考勤状态“{mark.status}”无效，应为{'、'.join(Mark.labels)}之一。",
                field=f"marks[{number - 1}].status",
            )
        if mark.student not in on_roll:
            raise AppError(
                f"{where}：该学生不在{klass}的在读名单中。", field=f"marks[{number - 1}].student"
            )
        if mark.student in result:
            raise AppError(
                f"{where}：{on_roll[mark.student]}重复出现，每名学生只能登记一次。",
                field=f"marks[{number - 1}].student",
            )
        note = (mark.note or "").strip()
        if len(note) > 100:
            raise AppError(f"{where}：备注不能超过100字。", field=f"marks[{number - 1}].note")
        result[mark.student] = MarkData(mark.student, mark.status, note)
    return on_roll, {pk: mark for pk, mark in result.items() if mark.status != Mark.PRESENT}


def _locked_roll(by: User, klass: SchoolClass, day: datetime.date) -> tuple[RollCall, bool]:
    """The class-day's roll call, locked, and whether this submission created it. One
    statement for a new day; a concurrent submission of the same class and day either
    waits for this one or is waited for, then changes the roll call it finds."""
    now = timezone.now()
    table = RollCall._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (klass_id, school_id, date, submitted_by_id, submitted_at,"  # noqa: S608 - the model's own table name
            " changed_by_id, changed_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (klass_id, date) DO NOTHING RETURNING id",
            [klass.pk, klass.school_id, day, by.pk, now, by.pk, now],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return RollCall.objects.select_for_update().get(klass=klass, date=day), False
    roll = RollCall(
        pk=inserted[0],
        klass=klass,
        school=klass.school,
        date=day,
        submitted_by=by,
        submitted_at=now,
        changed_by=by,
        changed_at=now,
    )
    return roll, True


@transaction.atomic
def submit(
    *, by: User, klass: SchoolClass, day: datetime.date, marks: Sequence[MarkData]
) -> Submission:
    """Save ``klass``'s roll for ``day``: ``marks`` lists the students who were not
    present. Submitting the same class and day again replaces its marks (idempotent). The
    attendance rule then runs for the class at once."""
    from ledger import absence  # the ledger builds on students; the rule closes the loop

    if not jurisdiction.contains(by, klass):
        raise AppError("该班级不在您的管辖范围内。", field="klass")
    rules = rules_for_school(klass.school)
    problem = refusal(by, klass, day, rules)
    if problem is not None:
        raise problem
    names, wanted = _check_marks(klass, marks)
    roll, created = _locked_roll(by, klass, day)
    before = {} if created else {mark.student_id: mark for mark in roll.marks.all()}
    # A student who has left the class since keeps their mark: this roll no longer lists them.
    wanted.update({pk: mark for pk, mark in before.items() if pk not in names})
    changes = {
        pk: (_mark(before, pk)[0], _mark(wanted, pk)[0])
        for pk in before.keys() | wanted.keys()
        if _mark(before, pk) != _mark(wanted, pk)
    }
    if created or changes:
        if not created:
            roll.marks.all().delete()
            roll.changed_by = by
            roll.save(update_fields=["changed_by", "changed_at"])
        AttendanceMark.objects.bulk_create(
            AttendanceMark(roll=roll, student_id=pk, date=day, status=m.status, note=m.note)
            for pk, m in wanted.items()
        )
        _audit(by, roll, created, changes, names)
    removed = [pk for pk, (old, new) in changes.items() if old == Mark.UNEXCUSED != new]
    if removed:
        absence.corrected(by=by, student_ids=removed, day=day)
    # A day without unexcused absence can only break runs, never complete one.
    flagged = (
        absence.check(SchoolClass.objects.filter(pk=klass.pk), threshold=rules.threshold)
        if any(mark.status == Mark.UNEXCUSED for mark in wanted.values())
        else []
    )
    return Submission(roll=roll, created=created, changes=changes, flagged=flagged)


def _mark(marks: dict, pk: int) -> tuple[str, str]:
    mark = marks.get(pk)
    return (mark.status, mark.note) if mark else (Mark.PRESENT, "")


def _audit(by: User, roll: RollCall, created: bool, changes: dict, names: dict) -> None:
    audit.record(
        actor=by,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=roll,
        changes={
            f"{names[pk]}（{pk}）": [Mark(old).label, Mark(new).label]
            for pk, (old, new) in sorted(changes.items())
        },
        detail=f"{'提交' if created else '修改'}考勤：{roll}",
    )
