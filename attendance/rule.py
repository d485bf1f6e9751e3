"""The attendance rule (DOMAIN.md §4, 001/003): a student with N school days of unexcused
absence in a row (N is the county's setting, 3 by default) is marked 疑似辍学 — a ledger
entry opens by itself, and the principal (of a 村小 or 教学点: its 中心校's too) and the
township are told the same day.

Days are the class's recorded school days, in order: weekends, holidays and the break between
terms have no roll call and so neither count nor break a run; a school day whose roll was not
taken does not either (it is a gap, chased on the attendance page). Presence, lateness and
leave break a run.

``check`` is the one entry point: ``attendance.services.submit`` calls it for the class at
once, and the nightly tasks for every class of each county (``check_county``). It looks back
over each class's last ``threshold + LOOKBACK`` roll calls, so a roll submitted or corrected
a few days late still counts.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import astuple

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import jurisdiction
from accounts.choices import NotificationKind, RegionLevel
from accounts.models import Region, School, SchoolClass, User
from accounts.notifications import notify, subject
from accounts.selectors import recipients_for_school, recipients_for_township
from kongchuo import partitions
from kongchuo.errors import AppError
from ledger.choices import OPEN_STATES, Source
from ledger.models import LedgerEntry
from ledger.services import entry_flag, entry_flag_for_review
from students.choices import ENROLLED_STATUSES
from students.models import Student

from . import selectors, signals
from .choices import Mark
from .models import AttendanceMark, AttendanceRules, RollCall

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = AttendanceRules._meta.get_field("threshold").default
# Roll calls looked at beyond the threshold: about two school weeks of late submissions.
LOOKBACK = 10
# A class with fewer roll calls than the window (new this term, or new to the student after a
# transfer) looks back this far for its students' own marks, across the summer break.
NEW_CLASS_REACH = datetime.timedelta(days=120)


def horizon(as_of: datetime.date) -> datetime.date:
    """The oldest day the scan reads, however long a class went without a roll call: the
    start of the school year NEW_CLASS_REACH before ``as_of``. Roll calls and marks are
    partitioned by school year (kongchuo.partitions), so from January on the scan reads only
    the current year's partitions, and in the autumn the last year's too (a run can span the
    summer break)."""
    return partitions.school_year_days(partitions.school_year(as_of - NEW_CLASS_REACH))[0]


_ROLLS, _MARKS, _STUDENTS, _CLASSES = (
    model._meta.db_table for model in (RollCall, AttendanceMark, Student, SchoolClass)
)


def _threshold_sql(thresholds: selectors.Thresholds, as_of: datetime.date) -> tuple[str, list]:
    """Each student's own threshold as an SQL expression over the student (alias ``s``): the
    lowest of the groups they belong to (DOMAIN.md §4; a setting per county)."""
    since = connection.ops.adapt_datetimefield_value(
        selectors.returned_since(as_of, thresholds.return_days)
    )
    returned, returned_params = signals.returned_sql("e", "%s")
    groups = [
        (signals.key_groups_sql("s"), [], thresholds.key_group),
        (
            f"EXISTS (SELECT 1 FROM {signals.ENTRIES} e WHERE e.student_id = s.id AND {returned})",  # noqa: S608 - our own SQL
            [*returned_params, since],
            thresholds.returned,
        ),
    ]
    lower = sorted(
        (group for group in groups if group[2] < thresholds.general), key=lambda group: group[2]
    )
    if not lower:
        return "%s", [thresholds.general]
    sql = " ".join(f"WHEN {condition} THEN %s" for condition, _, _ in lower)
    params = [value for _, condition_params, n in lower for value in (*condition_params, n)]
    return f"CASE {sql} ELSE %s END", [*params, thresholds.general]


def _candidates(
    classes: QuerySet, as_of: datetime.date, thresholds: selectors.Thresholds
) -> dict[int, tuple]:
    """Students of ``classes`` with at least their threshold of unexcused marks inside their
    class's window, as {student: (class, window start, threshold)}: one query over the whole
    area."""
    class_sql, class_params = classes.values("pk").query.sql_with_params()
    threshold_sql, threshold_params = _threshold_sql(thresholds, as_of)
    # Only students with enough unexcused marks in the horizon at all (``often``) can have a
    # run; each of their classes gets its window by two index look-ups on (klass, date): its
    # K-th latest roll call, or — with fewer — its earliest, reaching back at least
    # NEW_CLASS_REACH.
    latest = f"""
        FROM {_ROLLS} r WHERE r.klass_id = c.id AND r.date <= %s AND r.date >= %s
    """  # noqa: S608 - table names from the models' own metadata
    # Only placeholders and the SQL Django compiled for ``classes`` are interpolated.
    sql = f"""
        WITH often AS MATERIALIZED (
            SELECT m.student_id FROM {_MARKS} m
            JOIN {_STUDENTS} s ON s.id = m.student_id
            WHERE m.status = %s AND m.date <= %s AND m.date >= %s
              AND s.klass_id IN ({class_sql})
            GROUP BY m.student_id HAVING count(*) >= %s
        ), limits AS MATERIALIZED (
            SELECT s.id AS student_id, {threshold_sql} AS threshold
            FROM {_STUDENTS} s JOIN often ON often.student_id = s.id
        ), bounds AS MATERIALIZED (
            SELECT c.id AS klass_id,
                   (SELECT r.date {latest} ORDER BY r.date DESC LIMIT 1 OFFSET %s) AS kth,
                   (SELECT min(r.date) {latest}) AS first
            FROM {_CLASSES} c
            WHERE c.id IN (
                SELECT s.klass_id FROM {_STUDENTS} s JOIN often ON often.student_id = s.id
            )
        ), win AS MATERIALIZED (
            SELECT klass_id,
                   COALESCE(kth, CASE WHEN first < %s THEN first ELSE %s END) AS since
            FROM bounds WHERE first IS NOT NULL
        )
        SELECT m.student_id, s.klass_id, win.since, limits.threshold
        FROM {_MARKS} m
        JOIN limits ON limits.student_id = m.student_id
        JOIN {_STUDENTS} s ON s.id = m.student_id
        JOIN win ON win.klass_id = s.klass_id
        WHERE m.status = %s AND m.date >= win.since AND m.date <= %s AND m.date >= %s
          AND s.status IN ({", ".join(["%s"] * len(ENROLLED_STATUSES))})
        GROUP BY m.student_id, s.klass_id, win.since, limits.threshold
        HAVING count(*) >= limits.threshold
    """  # noqa: S608
    # The days read; the lower bound lets the planner prune the partitions (and win.since is
    # never older).
    bounds = [as_of, horizon(as_of)]
    reach = as_of - NEW_CLASS_REACH
    params = [
        Mark.UNEXCUSED.value,
        *bounds,
        *class_params,
        thresholds.lowest,
        *threshold_params,
        *bounds,
        thresholds.general + LOOKBACK - 1,
        *bounds,
        reach,
        reach,
        Mark.UNEXCUSED.value,
        *bounds,
        *sorted(ENROLLED_STATUSES),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # SQLite hands dates back as text.
        return {
            student: (
                klass,
                since if isinstance(since, datetime.date) else _date(since),
                threshold,
            )
            for student, klass, since, threshold in cursor.fetchall()
        }


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _find(
    classes: QuerySet, as_of: datetime.date, thresholds: selectors.Thresholds
) -> dict[int, tuple[int, list[selectors.Run]]]:
    """Every run of at least each student's own threshold in the window of each student of
    ``classes``, as {student: (threshold, runs)}."""
    candidates = _candidates(classes, as_of, thresholds)
    if not candidates:
        return {}
    starts = [since for _, since, _ in candidates.values()]
    class_dates: dict[int, list[datetime.date]] = defaultdict(list)
    for klass_id, date in (
        RollCall.objects.filter(
            klass_id__in={klass for klass, _, _ in candidates.values()},
            date__gte=min(starts),
            date__lte=as_of,
        )
        .order_by()
        .values_list("klass_id", "date")
    ):
        class_dates[klass_id].append(date)
    days = selectors.student_days(
        as_of,
        candidates,
        {pk: class_dates[klass] for pk, (klass, _, _) in candidates.items()},
        {pk: since for pk, (_, since, _) in candidates.items()},
    )
    result = {}
    for pk, recorded in days.items():
        threshold = candidates[pk][2]
        long = [run for run in selectors.runs(recorded) if run.length >= threshold]
        if long:
            result[pk] = (threshold, long)
    return result


def find_runs(
    classes: QuerySet, as_of: datetime.date, thresholds: "selectors.Thresholds | int"
) -> dict[int, list[selectors.Run]]:
    """Every run of at least the student's threshold (``thresholds``: the county's, as
    ``_by_threshold`` groups them, or one number for everyone) in the window of each student
    of ``classes``, by student."""
    found = _find(classes, as_of, selectors.Thresholds.of(thresholds))
    return {pk: runs for pk, (_, runs) in found.items()}


def _handled(entries: list[LedgerEntry], run: selectors.Run) -> bool:
    """Whether the ledger already took up this run: an open entry, or one found or closed
    since the run began (a run that led to an entry, later closed, is not flagged again)."""
    return any(
        entry.state in OPEN_STATES
        or entry.found_on >= run.start
        or (entry.closed_at and timezone.localdate(entry.closed_at) >= run.start)
        for entry in entries
    )


def _by_threshold(classes: QuerySet) -> list[tuple[selectors.Thresholds, QuerySet]]:
    """``classes`` split by their county's thresholds: one scan per distinct setting rather
    than per county (most counties keep the defaults)."""
    counties = Region.objects.filter(
        level=RegionLevel.COUNTY, children__schools__classes__in=classes
    ).distinct()
    custom = {
        rules.county_id: rules for rules in AttendanceRules.objects.filter(county__in=counties)
    }
    groups = defaultdict(list)
    for county in counties:
        rules = custom.get(county.pk) or AttendanceRules(county=county)
        groups[selectors.Thresholds.of(rules)].append(county)
    return [
        (thresholds, jurisdiction.within(members, classes))
        for thresholds, members in sorted(groups.items(), key=lambda pair: astuple(pair[0]))
    ]


def check(
    classes: QuerySet,
    *,
    as_of: datetime.date | None = None,
    thresholds: selectors.Thresholds | None = None,
) -> list[LedgerEntry]:
    """Apply the rule to ``classes`` as of ``as_of`` (today): open a 疑似辍学 entry for each
    student whose newest run of their threshold the ledger has not taken up. Returns the new
    entries. ``thresholds``: the caller already knows the one county's (a class's
    submission); otherwise each county's own, from its 考勤规则."""
    as_of = as_of or timezone.localdate()
    groups = [(thresholds, classes)] if thresholds is not None else _by_threshold(classes)
    opened = []
    for group_thresholds, group in groups:
        found = _find(group, as_of, group_thresholds)
        entries = defaultdict(list)
        for entry in LedgerEntry.objects.filter(student_id__in=list(found)):
            entries[entry.student_id].append(entry)
        students = Student.objects.select_related(
            "school__township", "klass", "hukou_region"
        ).in_bulk(list(found))
        for pk, (threshold, student_runs) in found.items():
            run = student_runs[-1]
            if _handled(entries[pk], run):
                continue
            entry = _open(students[pk], run, threshold)
            if entry is not None:
                opened.append(entry)
    return opened


def _open(student: Student, run: selectors.Run, threshold: int) -> LedgerEntry | None:
    note = (
        f"连续{run.length}个上学日无故缺勤（{run.start:%m月%d日}至{run.end:%m月%d日}），"
        f"达到{threshold}天，由考勤规则自动登记，请学校核实。"
    )
    try:
        with transaction.atomic():
            entry = entry_flag(student=student, found_on=run.reached(threshold), note=note)
    except AppError as exc:
        # Someone put the student on the ledger meanwhile (that entry stands), or the
        # ledger's rules refuse the child: said in the log, the night goes on.
        logger.warning("考勤规则未登记学生 %s：%s", student.pk, exc.message)
        return None
    recipients = [*_principals(student.school), *recipients_for_township(entry.township)]
    notify(
        recipients,
        kind=NotificationKind.SUSPECTED_DROPOUT,
        title=f"{_subject(student)}：连续旷课{run.length}天",
        body=note,
        link=f"/ledger/{entry.pk}/",
        dedupe_key=selectors.notice_key(entry.pk),
    )
    return entry


def _principals(school: School) -> list[User]:
    """Who answers for a child of ``school``: its principal and, for an attached 村小 or
    教学点, the principal of its 中心校 too (DOMAIN.md §2: a 中心校 answers for them)."""
    principals = list(recipients_for_school(school))
    if school.parent_id:
        principals.extend(recipients_for_school(school.parent_id))
    return principals


def _subject(student: Student) -> str:
    return subject(student.name, school=student.school, klass=student.klass)


def check_all(as_of: datetime.date | None = None) -> int:
    """The rule over every class at once (the benchmarks' scan of a province); returns how
    many entries it opened."""
    opened = check(SchoolClass.objects.all(), as_of=as_of)
    logger.info("考勤规则：新增疑似辍学%d人", len(opened))
    return len(opened)


def check_county(county: Region, as_of: datetime.date | None = None) -> int:
    """The nightly run over one county's classes (a task each); returns the entries it
    opened."""
    opened = check(jurisdiction.within(county, SchoolClass.objects.all()), as_of=as_of)
    logger.info("考勤规则：%s新增疑似辍学%d人", county.name, len(opened))
    return len(opened)


def corrected(*, by: User, student_ids: list[int], day: datetime.date) -> list[LedgerEntry]:
    """A correction took unexcused absence away from these students: an open entry that the
    attendance rule opened, and whose run no longer holds, is flagged for review — never
    deleted (DOMAIN.md §10). Returns the flagged entries."""
    entries = list(
        LedgerEntry.objects.filter(
            student_id__in=student_ids, source=Source.ATTENDANCE, state__in=OPEN_STATES
        ).select_related("student__klass", "student__school__township__parent")
    )
    flagged = []
    for entry in entries:
        student = entry.student
        thresholds = selectors.thresholds_for_school(student.school)
        still = _find(
            SchoolClass.objects.filter(pk=student.klass_id), timezone.localdate(), thresholds
        )
        threshold, runs = still.get(student.pk, (None, []))
        if any(run.start <= entry.found_on <= run.end for run in runs):
            continue
        threshold = threshold or selectors.student_thresholds([student], thresholds)[student.pk]
        note = (
            f"{day:%m月%d日}的旷课已被更正，连续无故缺勤不再满{threshold}天；请核实后排除或确认。"
        )
        flagged.append(entry_flag_for_review(by=by, entry=entry, note=note))
        notify(
            _principals(student.school),
            kind=NotificationKind.SUSPECTED_DROPOUT,
            title=f"{_subject(student)}：考勤更正，疑似辍学记录待核实",
            body=note,
            link=f"/ledger/{entry.pk}/",
        )
    return flagged
