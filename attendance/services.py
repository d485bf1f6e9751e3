"""Writes of daily attendance (DOMAIN.md §4): taking a class's roll, correcting it, the
county's settings, the term-start no-show list sent to principals, and the watch list's
measures (§4b).

``submit`` runs the 疑似辍学 rule (``attendance.rule``) for the class at once; the nightly
task runs it for everyone.
"""

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability, NotificationKind, RegionLevel
from accounts.models import Region, School, SchoolClass, User
from accounts.notifications import notify, subject
from accounts.permissions import can, require
from accounts.selectors import recipients_for_school
from kongchuo import offline
from kongchuo.errors import AppError
from students import calendar
from students.models import Student

from . import rule, selectors, watch
from .choices import ABSENT, Mark, MeasureKind
from .models import AttendanceMark, AttendanceRules, OfflineRoll, RollCall, WatchMeasure
from .permissions import RECOMPUTE_WATCH, RECORD_MEASURE, SET_RULES
from .selectors import (
    cutoff,
    last_day_of_first_week,
    no_shows,
    on_roll,
    rules_for_school,
)

# The settings besides the threshold and the cut-off: the per-group thresholds of the rule
# and the watch list's signals; those a caller leaves out keep their value.
EXTRA_RULES = tuple(
    name
    for name in AttendanceRules.FORM_FIELDS
    if name not in ("threshold", "cutoff_days", "cutoff_time")
)


@transaction.atomic
def rules_save(
    *,
    by: User,
    county: Region,
    threshold: int,
    cutoff_days: int,
    cutoff_time: datetime.time,
    **extra,
) -> AttendanceRules:
    """Set a county's attendance settings (its calendar keepers do): the 疑似辍学 rule's
    thresholds (general, key groups, returned children), the cut-off, the watch list's
    signals (``EXTRA_RULES``)."""
    unknown = set(extra) - set(EXTRA_RULES)
    if unknown:
        raise TypeError(f"rules_save: unknown settings {sorted(unknown)}")
    if county.level != RegionLevel.COUNTY or not jurisdiction.contains(by, county):
        raise AppError("只能设置本县的考勤规则。", field="county")
    require(by, SET_RULES)
    rules = AttendanceRules.objects.select_for_update().filter(county=county).first()
    before = audit.snapshot(rules) if rules else None
    rules = rules or AttendanceRules(county=county)
    rules.threshold, rules.cutoff_days, rules.cutoff_time = threshold, cutoff_days, cutoff_time
    for name, value in extra.items():
        setattr(rules, name, value)
    try:
        rules.full_clean()
    except ValidationError as exc:
        raise AppError.from_validation(exc) from None
    for name in ("key_group_threshold", "returned_threshold"):
        lower = getattr(rules, name)
        if lower is not None and lower > rules.threshold:
            label = AttendanceRules._meta.get_field(name).verbose_name
            raise AppError(
                f"{label}应不大于连续旷课天数（{rules.threshold}天），不需要时请留空。",
                field=name,
            )
    rules.save()
    audit.record_change(actor=by, instance=rules, before=before, detail="设置考勤规则")
    return rules


def refusal(
    user: User,
    klass: SchoolClass,
    day: datetime.date,
    rules: AttendanceRules | None = None,
    school_calendar: calendar.Calendar | None = None,
    taken_at: datetime.datetime | None = None,
) -> AppError | None:
    """Why ``user`` may not take or change ``klass``'s roll for ``day`` now (None: they may).
    ``submit`` raises it; the roll page shows it and stays read-only. ``rules`` and
    ``school_calendar``: the school's, when the caller has them already. ``taken_at``: when
    a roll sent later was taken on the phone (``counted_time``)."""
    if day is None:
        return AppError("请选择考勤日期。", field="date")
    if day > timezone.localdate():
        return AppError("考勤日期不能晚于今天。", field="date")
    school_calendar = school_calendar or calendar.calendar_for(klass.school_id)
    if not school_calendar.is_school_day(day):
        return AppError(
            f"{day:%Y年%m月%d日}按校历不是上学日（周末、节假日或学期外），无需登记考勤。",
            field="date",
        )
    if not can(user, Capability.TAKE_ATTENDANCE):
        return AppError("当前账号只能查看考勤，由班主任或学校提交。")
    rules = rules or rules_for_school(klass.school)
    closes = cutoff(rules, day)
    if counted_time(taken_at) > closes and not can(user, Capability.LATE_ATTENDANCE):
        return AppError(
            f"{day:%m月%d日}的考勤已过修改截止时间（{timezone.localtime(closes):%m月%d日 %H:%M}），"
            "如需修改请联系校长。",
            field="date",
        )
    return None


def counted_time(taken_at: datetime.datetime | None) -> datetime.datetime:
    """The time the cut-off is checked against (DOMAIN.md §4, issue 17 rule 4): a roll taken
    offline counts at the time the phone took it if it arrives within
    ``ATTENDANCE_OFFLINE_GRACE_DAYS`` days of that day (0: the same day); later, or with no
    phone time, it counts now and follows the normal late-change rule. A phone clock ahead of
    the server's counts as now."""
    now = timezone.now()
    if taken_at is None or taken_at >= now:
        return now
    late = (timezone.localdate(now) - timezone.localdate(taken_at)).days
    return taken_at if late <= settings.ATTENDANCE_OFFLINE_GRACE_DAYS else now


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
        # One list per school: the title names the school, the body each child's class.
        names = "、".join(subject(student.name, klass=student.klass) for student in students)
        notify(
            recipients_for_school(schools[school_id]),
            kind=NotificationKind.NO_SHOW,
            title=f"{subject(school=schools[school_id])}：开学一周未报到学生{len(students)}人",
            body=f"以下学生开学以来未到校，请逐一核查并登记：{names}。",
            link=f"/attendance/?date={day:%Y-%m-%d}",
            dedupe_key=f"no-show:{school_id}:{day:%Y-%m-%d}",
        )
    return len(lists)


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
    klass: SchoolClass, marks: Sequence[MarkData], names: dict[int, str]
) -> dict[int, MarkData]:
    """The submitted marks by student after checking each names a student of the class's
    roll (``names``) once with a known status; present students are dropped (they get no
    row)."""
    result: dict[int, MarkData] = {}
    for number, mark in enumerate(marks, start=1):
        where = f"第{number}名学生"
        if mark.status not in Mark.values:
            raise AppError(
                f"{where}：考勤状态“{mark.status}”无效，应为{'、'.join(Mark.labels)}之一。",
                field=f"marks[{number - 1}].status",
            )
        if mark.student not in names:
            raise AppError(
                f"{where}：该学生不在{klass}的在读名单中。", field=f"marks[{number - 1}].student"
            )
        if mark.student in result:
            raise AppError(
                f"{where}：{names[mark.student]}重复出现，每名学生只能登记一次。",
                field=f"marks[{number - 1}].student",
            )
        note = (mark.note or "").strip()
        if len(note) > 100:
            raise AppError(f"{where}：备注不能超过100字。", field=f"marks[{number - 1}].note")
        result[mark.student] = MarkData(mark.student, mark.status, note)
    return {pk: mark for pk, mark in result.items() if mark.status != Mark.PRESENT}


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


@dataclass
class _RollContext:
    """What every class-day of one school shares: its rules, its calendar, the rule's
    thresholds, and the names on its classes' rolls (each loaded once, on first use)."""

    rules: AttendanceRules
    school_calendar: calendar.Calendar
    thresholds: selectors.Thresholds
    rolls: dict[int, dict[int, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, school: School) -> "_RollContext":
        rules = rules_for_school(school)
        return cls(rules, calendar.calendar_for(school), selectors.Thresholds.of(rules))

    def names(self, klass: SchoolClass) -> dict[int, str]:
        if klass.pk not in self.rolls:
            self.rolls[klass.pk] = dict(on_roll(klass).values_list("pk", "name"))
        return self.rolls[klass.pk]


@transaction.atomic
def submit(
    *, by: User, klass: SchoolClass, day: datetime.date, marks: Sequence[MarkData]
) -> Submission:
    """Save ``klass``'s roll for ``day``: ``marks`` lists the students who were not
    present. Submitting the same class and day again replaces its marks (idempotent). The
    attendance rule then runs for the class at once."""
    return _submit(by, klass, day, marks, _RollContext.of(klass.school))


@dataclass(frozen=True)
class OfflineBase:
    """What a phone knew when it took a roll offline: when (its clock) and the class-day's
    roll as it had loaded it (its last change, None: no roll yet)."""

    taken_at: datetime.datetime | None
    changed_at: datetime.datetime | None


@transaction.atomic
def submit_offline(
    *,
    by: User,
    klass: SchoolClass,
    day: datetime.date,
    marks: Sequence[MarkData],
    client_id: uuid.UUID,
    base: OfflineBase,
) -> dict:
    """A roll taken offline and sent later (issue 17): ``submit``'s checks, writes and rule,
    once per ``client_id`` (a replay answers the same result), the cut-off at the phone's time
    within the grace (``counted_time``), and refused with ``offline.Conflict`` when the
    class-day changed on the server since the phone loaded it and the marks differ."""

    def write():
        result = _submit(by, klass, day, marks, _RollContext.of(klass.school), base)
        roll = result.roll
        return {
            "roll": roll.pk,
            "klass": klass.pk,
            "date": day.isoformat(),
            "created": result.created,
            "changed": len(result.changes),
            "absent": sum(1 for mark in roll.marks.all() if mark.status in ABSENT),
            "flagged": [{"entry": entry.pk, "name": entry.name} for entry in result.flagged],
        }, {"roll": roll}

    return offline.once(OfflineRoll, client_id=client_id, by=by, write=write)


@transaction.atomic
def submit_many(
    *,
    by: User,
    school: School,
    rolls: Sequence[tuple[SchoolClass, datetime.date, Sequence[MarkData]]],
    progress: Callable[[int], object] | None = None,
) -> list[Submission]:
    """The bulk variant of ``submit`` for many class-days of one school (考勤表导入): each
    (class, day, marks) in the order given, with submit's own checks, writes and rule check,
    the school's rules, calendar and rolls loaded once. All or none: the first refusal
    raises and nothing is kept. ``progress(done)`` is called after each class-day."""
    shared = _RollContext.of(school)
    result = []
    for klass, day, marks in rolls:
        if klass.school_id != school.pk:
            raise AppError(f"{klass}不是{school}的班级。", field="klass")
        result.append(_submit(by, klass, day, marks, shared))
        if progress is not None:
            progress(len(result))
    return result


def _submit(
    by: User,
    klass: SchoolClass,
    day: datetime.date,
    marks: Sequence[MarkData],
    shared: _RollContext,
    base: OfflineBase | None = None,
) -> Submission:
    if not jurisdiction.contains(by, klass):
        raise AppError("该班级不在您的管辖范围内。", field="klass")
    taken_at = base.taken_at if base else None
    problem = refusal(by, klass, day, shared.rules, shared.school_calendar, taken_at)
    if problem is not None:
        raise problem
    names = shared.names(klass)
    wanted = _check_marks(klass, marks, names)
    roll, created = _locked_roll(by, klass, day)
    before = {} if created else {mark.student_id: mark for mark in roll.marks.all()}
    # A student who has left the class since keeps their mark: this roll no longer lists them.
    wanted.update({pk: mark for pk, mark in before.items() if pk not in names})
    changes = {
        pk: (_mark(before, pk)[0], _mark(wanted, pk)[0])
        for pk in before.keys() | wanted.keys()
        if _mark(before, pk) != _mark(wanted, pk)
    }
    if base is not None and not created and changes and roll.changed_at != base.changed_at:
        raise offline.Conflict(
            f"{roll}在您离线期间已由{roll.changed_by.full_name or roll.changed_by.username}"
            f"于{timezone.localtime(roll.changed_at):%m月%d日 %H:%M}提交或修改，请选择保留哪一份。",
            current=roll,
            base=roll.changed_at,
        )
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
        rule.corrected(by=by, student_ids=removed, day=day)
    # A day without unexcused absence can only break runs, never complete one.
    flagged = (
        rule.check(SchoolClass.objects.filter(pk=klass.pk), thresholds=shared.thresholds)
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


@transaction.atomic
def measure_record(
    *,
    by: User,
    student: Student,
    kind: str,
    date: datetime.date | None,
    note: str,
    partner: str = "",
) -> WatchMeasure:
    """Record a measure taken for a watched child (结对帮扶, 家访, 资助, 谈心, DOMAIN.md §4b).
    Measures are append-only: who recorded it and when are kept with it."""
    require(by, RECORD_MEASURE)
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。", field="student")
    if kind not in MeasureKind.values:
        raise AppError(f"请选择措施类型：{'、'.join(MeasureKind.labels)}。", field="kind")
    if date is None:
        raise AppError("请填写措施日期。", field="date")
    if date > timezone.localdate():
        raise AppError(f"措施日期（{date:%Y-%m-%d}）不能晚于今天。", field="date")
    note, partner = (note or "").strip(), (partner or "").strip()
    if not note:
        raise AppError("请填写措施情况（做了什么、孩子和家长的反应）。", field="note")
    if kind == MeasureKind.PAIRING and not partner:
        raise AppError("结对帮扶请填写帮扶责任人。", field="partner")
    measure = WatchMeasure(
        student=student, kind=kind, date=date, note=note, partner=partner, recorded_by=by
    )
    try:
        measure.full_clean()
    except ValidationError as exc:
        raise AppError.from_validation(exc) from None
    measure.save()
    audit.record(
        actor=by,
        action=AuditAction.CREATE,
        obj=measure,
        detail=f"登记帮扶措施：{subject(student.name, school=student.school, klass=student.klass)}",
    )
    return measure


def watch_recompute(*, by: User, county: Region):
    """立即更新: recompute a county's watch list now (its calendar keepers do)."""
    require(by, RECOMPUTE_WATCH)
    if county.level != RegionLevel.COUNTY or not jurisdiction.contains(by, county):
        raise AppError("只能更新本县的重点监测名单。", field="county")
    return watch.compute([county])
