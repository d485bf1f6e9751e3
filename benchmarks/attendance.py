"""Issue 5: daily attendance at province scale.

The data (once; kept with BENCH_REUSE=1): every class with students on the roll gets a roll
call on each of 40 school days of the county default calendar (the first 40 school days
from the first Monday of September of a past autumn term, the 国庆 holidays skipped), about
3% of students absent each day (sick, personal leave, late, unexcused) and a fixed 0.3% of
chronic absentees who are unexcused on about 85% of days (long runs). Rows go in by COPY,
one transaction per day. Twenty classes, one per school spread over the province, are first
topped up to 50 enrolled students with children of the same grade of their county. Then
``attendance.rule.check_all`` runs once for the last bulk day: the *first night*, which opens a
疑似辍学 entry for every chronic absentee (timed once, printed, not recorded).

Figures, each beside a baseline measured in the same run:

1. The nightly scan: ``check_all(as_of=last bulk day)``, timed for real in the steady state
   (the first night already took up every run, so it opens nothing and is repeatable: every
   run it finds is read, its ledger entries loaded and judged handled — the cost of an
   ordinary night). Also ``find_runs`` alone, over the same classes grouped by threshold as
   ``check`` calls it. Baseline: one hand-written SQL query computing the same runs — each
   class's window by an index-only look-up of its last roll calls, the students with enough
   unexcused marks in it, then gaps and islands over their recorded days; the two sets of runs
   are compared and must agree. Targets: scan < 20 s and within 2× of the baseline.
2. Submitting the roll of a class of 50: ``attendance.services.submit`` as the school's
   principal (past days: the principal may submit after the cut-off), 100 submissions over 5
   school days after the bulk days × the 20 classes, p50/p95; it includes the rule check.
   Baseline: INSERT of the same roll call and marks with raw SQL, one transaction each.
   Target p95 < 50 ms.
3. Concurrent throughput: gunicorn on loopback against the benchmark database, N client
   threads POSTing /api/v1/attendance/ (token auth, principals of 60 schools, distinct
   class-days over the next 10 school days, ~3% of students marked) for 10 s after 1 s of
   warm-up; a new connection per request. Baseline: the same clients GETting
   /api/v1/regions/<county>/ (token auth, one row) on the same server. Target ≥ 100/s.

Roll calls after the bulk days (left by the submissions) are deleted at the start and the end,
so every run sees the same data. The ledger entries and audit rows that submissions may add
stay (a later run finds them already handled).

Environment: BENCH_CLIENTS (client threads, default 8), BENCH_SECONDS (measured seconds of
the throughput figures, default 10), BENCH_SERVER_WORKERS (gunicorn sync workers, default 4),
BENCH_SCAN_REPEAT (timed nightly scans, default 3; the median is recorded).
"""

import datetime
import http.client
import io
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from array import array
from collections import defaultdict
from pathlib import Path

from .common import p50, p95, progress, record, record_percentiles, timed

ROOT = Path(__file__).resolve().parent.parent

# The school days of roll calls generated (BENCH_ATTENDANCE_DAYS; BENCH_SIZE=province: a term).
BULK_DAYS = int(os.environ.get("BENCH_ATTENDANCE_DAYS", "40"))
SUBMIT_DAYS = 5
THROUGHPUT_DAYS = 10
ABSENT_RATE = 0.03
# Among the absent: how the day is marked.
ABSENT_MIX = (("sick", 0.35), ("personal", 0.25), ("late", 0.25), ("unexcused", 0.15))
# Chronic absentees: students whose id is CHRONIC_REST modulo CHRONIC_EVERY (0.3%), unexcused
# on CHRONIC_AWAY of the days. Chosen by id so that a reused database needs no record of them.
CHRONIC_EVERY, CHRONIC_REST, CHRONIC_AWAY = 333, 7, 0.85
FULL_CLASSES = 20
CLASS_SIZE = 50
THROUGHPUT_SCHOOLS = 60
SEED = 5

SCAN_TARGET_S = 20.0
SCAN_TARGET_RATIO = 2.0
SUBMIT_TARGET_MS = 50.0
THROUGHPUT_TARGET = 100.0


# -- the data ---------------------------------------------------------------------------------


def _school_days():
    """The bulk days, the days of the submission figure and those of the throughput figure:
    consecutive school days of the (shared) county default calendar."""
    from accounts.choices import RegionLevel
    from accounts.models import Region, current_school_year
    from attendance.models import RollCall
    from students import calendar

    wanted = BULK_DAYS + SUBMIT_DAYS + THROUGHPUT_DAYS
    counties = list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("id"))
    first = RollCall.objects.order_by("date").values_list("date", flat=True).first()
    if first is not None:
        years = [first.year if first.month >= 9 else first.year - 1]
    else:
        this = current_school_year()
        years = [this, this - 1]
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    for year in years:
        start = datetime.date(year, 9, 1)
        start += datetime.timedelta(days=(7 - start.weekday()) % 7)  # the first Monday
        if first is None:
            for county in counties:  # idempotent; the seed made this year's already
                calendar.default_terms(county, year)
        days = calendar.county_calendar(counties[0]).school_days(start, yesterday)[:wanted]
        if len(days) == wanted:
            break
    else:
        raise RuntimeError(f"no past autumn term with {wanted} school days before {yesterday}")
    bulk, rest = days[:BULK_DAYS], days[BULK_DAYS:]
    return bulk, rest[:SUBMIT_DAYS], rest[SUBMIT_DAYS:]


def _clear_after(day: datetime.date) -> None:
    """Delete the roll calls (and their marks) after ``day``: those the figures submitted."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM students_attendancemark WHERE roll_id IN"
            " (SELECT id FROM students_rollcall WHERE date > %s)",
            [day],
        )
        cursor.execute("DELETE FROM students_rollcall WHERE date > %s", [day])


def _full_classes() -> list:
    """FULL_CLASSES classes (grade 3 of primary schools spread over the province), each topped
    up to CLASS_SIZE enrolled students with children of the same grade of its county.
    Idempotent."""
    from django.db import connection, transaction

    from accounts.choices import SchoolKind
    from accounts.models import School, SchoolClass
    from students.choices import ENROLLED_STATUSES

    schools = list(
        School.objects.filter(kind=SchoolKind.PRIMARY)
        .order_by("id")
        .values_list("id", "township__parent_id")
    )
    step = max(1, len(schools) // FULL_CLASSES)
    chosen = schools[::step][:FULL_CLASSES]
    classes = []
    for school_id, _ in chosen:
        klass = SchoolClass.objects.filter(school_id=school_id, grade=3).order_by("id").first()
        classes.append(klass)
    targets = [klass.pk for klass in classes]
    enrolled = sorted(ENROLLED_STATUSES)
    with transaction.atomic(), connection.cursor() as cursor:
        for klass, (school_id, county_id) in zip(classes, chosen, strict=True):
            cursor.execute(
                "SELECT count(*) FROM students_student WHERE klass_id = %s AND status = ANY(%s)",
                [klass.pk, enrolled],
            )
            missing = CLASS_SIZE - cursor.fetchone()[0]
            if missing <= 0:
                continue
            # Same grade, same county first, then anywhere.
            cursor.execute(
                """
                SELECT s.id FROM students_student s
                JOIN accounts_school sc ON sc.id = s.school_id
                JOIN accounts_region t ON t.id = sc.township_id
                WHERE s.grade = %s AND s.status = ANY(%s) AND NOT s.klass_id = ANY(%s)
                ORDER BY t.parent_id <> %s, s.id
                LIMIT %s
                """,
                [klass.grade, enrolled, targets, county_id, missing],
            )
            moved = [pk for (pk,) in cursor.fetchall()]
            cursor.execute(
                "UPDATE students_student SET klass_id = %s, school_id = %s WHERE id = ANY(%s)",
                [klass.pk, school_id, moved],
            )
    return classes


def _is_chronic(student_id: int) -> bool:
    return student_id % CHRONIC_EVERY == CHRONIC_REST


def _marks_for(rng: random.Random, students) -> list[tuple[int, str]]:
    """The day's marks of ``students``: (student, status) for those not simply present."""
    marks = []
    for pk in students:
        if _is_chronic(pk):
            if rng.random() < CHRONIC_AWAY:
                marks.append((pk, "unexcused"))
        elif rng.random() < ABSENT_RATE:
            marks.append((pk, _status(rng)))
    return marks


def _status(rng: random.Random) -> str:
    x = rng.random()
    for status, share in ABSENT_MIX:
        if x < share:
            return status
        x -= share
    return ABSENT_MIX[-1][0]


class _Lines(io.TextIOBase):
    """COPY text from an iterator of lines, a few thousand lines per read."""

    def __init__(self, lines):
        self._lines = iter(lines)

    def readable(self):
        return True

    def read(self, size=-1):
        return "".join(itertools.islice(self._lines, 4000))


def _reserve(table: str, count: int) -> int:
    """The first of ``count`` consecutive new ids of ``table``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id')::regclass,"
            " nextval(pg_get_serial_sequence(%s, 'id')::regclass) + %s - 1)",
            [table, table, count],
        )
        return cursor.fetchone()[0] - count + 1


def generate(bulk_days: list[datetime.date]) -> None:
    """The roll calls and marks of the bulk days, by COPY."""
    from django.db import connection, transaction

    from students.choices import ENROLLED_STATUSES

    start = time.perf_counter()
    _full_classes()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.klass_id FROM students_student s"
            " WHERE s.status = ANY(%s) AND s.klass_id IS NOT NULL ORDER BY s.id",
            [sorted(ENROLLED_STATUSES)],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT c.id, c.school_id, u.id FROM accounts_schoolclass c"
            " LEFT JOIN accounts_user u ON u.school_id = c.school_id AND u.role = 'principal'"
            " WHERE c.id IN (SELECT DISTINCT klass_id FROM students_student"
            "  WHERE status = ANY(%s) AND klass_id IS NOT NULL)"
            " ORDER BY c.id",
            [sorted(ENROLLED_STATUSES)],
        )
        classes = {}
        for klass_id, school_id, principal in cursor.fetchall():
            classes.setdefault(klass_id, (school_id, principal))
        cursor.execute("SELECT id FROM accounts_user WHERE role = 'county_admin' ORDER BY id")
        fallback = cursor.fetchone()[0]
    order = {klass_id: index for index, klass_id in enumerate(classes)}
    student_ids = array("q", (pk for pk, _ in rows))
    class_index = array("l", (order[klass] for _, klass in rows))
    del rows
    rng = random.Random(SEED)  # noqa: S311 — deterministic benchmark data
    chronic = [i for i, pk in enumerate(student_ids) if _is_chronic(pk)]
    others = len(student_ids)
    roll_lines = [
        (klass_id, school_id, principal or fallback)
        for klass_id, (school_id, principal) in classes.items()
    ]
    total_rolls = total_marks = 0
    for number, day in enumerate(bulk_days, start=1):
        stamp = f"{day.isoformat()} 08:30:00+08"
        base = _reserve("students_rollcall", len(roll_lines))
        marks = {i: "unexcused" for i in chronic if rng.random() < CHRONIC_AWAY}
        for i in rng.sample(range(others), int(others * ABSENT_RATE)):
            marks.setdefault(i, _status(rng))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                "COPY students_rollcall (id, klass_id, school_id, date, submitted_by_id,"
                " submitted_at, changed_by_id, changed_at) FROM STDIN",
                _Lines(
                    f"{base + n}\t{klass}\t{school}\t{day}\t{user}\t{stamp}\t{user}\t{stamp}\n"
                    for n, (klass, school, user) in enumerate(roll_lines)
                ),
            )
            cursor.cursor.copy_expert(
                "COPY students_attendancemark (roll_id, student_id, date, status, note) FROM STDIN",
                _Lines(
                    f"{base + class_index[i]}\t{student_ids[i]}\t{day}\t{status}\t\n"
                    for i, status in sorted(marks.items())
                ),
            )
        total_rolls += len(roll_lines)
        total_marks += len(marks)
        if number % 5 == 0 or number == len(bulk_days):
            progress(
                f"attendance day {number:>2}/{len(bulk_days)}: {total_rolls:,} roll calls,"
                f" {total_marks:,} marks  {time.perf_counter() - start:6.1f} s"
            )
    with connection.cursor() as cursor:
        # The visibility map too: the window look-ups are index-only scans.
        cursor.execute("VACUUM ANALYZE students_rollcall")
        cursor.execute("VACUUM ANALYZE students_attendancemark")
        cursor.execute("ANALYZE students_student")
    print(
        f"generated {total_rolls:,} roll calls and {total_marks:,} marks over"
        f" {len(bulk_days)} school days ({bulk_days[0]}..{bulk_days[-1]})"
        f" in {time.perf_counter() - start:.1f} s",
        flush=True,
    )


def _first_night(as_of: datetime.date) -> None:
    """Run the rule once for real, so that the timed scans see the steady state."""
    from attendance import rule as absence
    from ledger.choices import Source
    from ledger.models import LedgerEntry

    if LedgerEntry.objects.filter(source=Source.ATTENDANCE).exists():
        return
    start = time.perf_counter()
    opened = absence.check_all(as_of=as_of)
    print(
        f"first night: check_all opened {opened:,} 疑似辍学 entries"
        f" in {time.perf_counter() - start:.1f} s (not a recorded figure)",
        flush=True,
    )


# -- 1. the nightly scan ----------------------------------------------------------------------

BASELINE_RUNS_SQL = """
WITH classes AS (
    SELECT c.id AS klass_id, COALESCE(ar.threshold, %(default)s) AS threshold
    FROM accounts_schoolclass c
    JOIN accounts_school sc ON sc.id = c.school_id
    JOIN accounts_region t ON t.id = sc.township_id
    LEFT JOIN students_attendancerules ar ON ar.county_id = t.parent_id
), since AS (    -- where each class's window starts: its last threshold + LOOKBACK roll calls;
                 -- a class with fewer reaches further back for its students' own marks
    SELECT classes.klass_id, classes.threshold,
           CASE WHEN w.n >= classes.threshold + %(lookback)s OR w.first < %(reach)s
                THEN w.first ELSE %(reach)s END AS since
    FROM classes CROSS JOIN LATERAL (
        SELECT count(*) AS n, min(last.date) AS first FROM (
            SELECT r.date FROM students_rollcall r
            WHERE r.klass_id = classes.klass_id AND r.date <= %(as_of)s AND r.date > %(horizon)s
            ORDER BY r.date DESC LIMIT classes.threshold + %(lookback)s
        ) last
    ) w
    WHERE w.n > 0
), candidates AS (  -- enrolled students with enough unexcused marks in the window
    SELECT m.student_id, since.klass_id, since.since, since.threshold
    FROM students_attendancemark m
    JOIN students_student s ON s.id = m.student_id
    JOIN since ON since.klass_id = s.klass_id
    WHERE m.status = %(unexcused)s AND m.date >= since.since AND m.date <= %(as_of)s
      AND s.status = ANY(%(enrolled)s)
    GROUP BY m.student_id, since.klass_id, since.since, since.threshold
    HAVING count(*) >= since.threshold
), placed AS (   -- each of their marked days' place among their recorded days: the class's
                 -- roll calls up to it, plus their own marks on days without one
    SELECT c.student_id, c.threshold, m.date, m.status,
           rc.n + count(*) FILTER (WHERE NOT rc.class_day)
                      OVER (PARTITION BY c.student_id ORDER BY m.date) AS place
    FROM candidates c
    JOIN students_attendancemark m
      ON m.student_id = c.student_id AND m.date >= c.since AND m.date <= %(as_of)s
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, COALESCE(bool_or(r.date = m.date), false) AS class_day
        FROM students_rollcall r
        WHERE r.klass_id = c.klass_id AND r.date >= c.since AND r.date <= m.date
    ) rc
), islands AS (  -- consecutive places of unexcused days make one run
    SELECT student_id, date, threshold,
           place - row_number() OVER (PARTITION BY student_id ORDER BY date) AS island
    FROM placed WHERE status = %(unexcused)s
)
SELECT student_id, min(date), max(date), count(*)
FROM islands
GROUP BY student_id, island, threshold
HAVING count(*) >= threshold
"""


def _baseline_runs(as_of: datetime.date) -> set[tuple]:
    from django.db import connection

    from attendance import rule as absence
    from attendance.choices import Mark
    from students.choices import ENROLLED_STATUSES

    with connection.cursor() as cursor:
        cursor.execute(
            BASELINE_RUNS_SQL,
            {
                "default": absence.DEFAULT_THRESHOLD,
                "as_of": as_of,
                "horizon": as_of - absence.HORIZON,
                "lookback": absence.LOOKBACK,
                "reach": as_of - absence.NEW_CLASS_REACH,
                "enrolled": sorted(ENROLLED_STATUSES),
                "unexcused": Mark.UNEXCUSED.value,
            },
        )
        return set(cursor.fetchall())


def _find_runs_everywhere(as_of: datetime.date) -> set[tuple]:
    """find_runs over every class, grouped by threshold as ``check`` groups them."""
    from accounts.models import SchoolClass
    from attendance import rule as absence

    found = set()
    for threshold, classes in absence._by_threshold(SchoolClass.objects.all()):
        for student, runs in absence.find_runs(classes, as_of, threshold).items():
            found.update((student, run.start, run.end, run.length) for run in runs)
    return found


def nightly_scan(as_of: datetime.date, repeat: int) -> None:
    from attendance import rule as absence

    opened = []
    scans = timed(lambda: opened.append(absence.check_all(as_of=as_of)), repeat)
    ours, baseline_runs, plain = set(), set(), []

    def find():
        ours.clear()
        ours.update(_find_runs_everywhere(as_of))

    def plain_sql():
        baseline_runs.clear()
        baseline_runs.update(_baseline_runs(as_of))

    finds = timed(find, 1)
    plain = timed(plain_sql, repeat)
    agree = ours == baseline_runs
    students = {run[0] for run in ours}
    print(
        f"  runs ≥ threshold as of {as_of}: find_runs {len(ours):,} runs of {len(students):,}"
        f" students, plain SQL {len(baseline_runs):,} runs of"
        f" {len({run[0] for run in baseline_runs}):,} students — "
        + ("they agree" if agree else "THEY DIFFER"),
        flush=True,
    )
    if not agree:
        print(f"    only find_runs: {sorted(ours - baseline_runs)[:5]}", flush=True)
        print(f"    only plain SQL: {sorted(baseline_runs - ours)[:5]}", flush=True)
    print(f"  check_all opened {sum(opened)} entries over {repeat} scans (steady state)")
    scan_s, plain_s = p50(scans) / 1000, p50(plain) / 1000
    record(
        "nightly check_all, all students (s)",
        scan_s,
        plain_s,
        "s",
        target=f"< {SCAN_TARGET_S:.0f} s, ≤ {SCAN_TARGET_RATIO:.0f}× SQL, agree",
        met=scan_s < SCAN_TARGET_S and scan_s <= SCAN_TARGET_RATIO * plain_s and agree,
    )
    record("find_runs alone, all students (s)", p50(finds) / 1000, plain_s, "s")


# -- 2. submitting one class of 50 -------------------------------------------------------------


def _principals(school_ids) -> dict:
    from accounts.models import User

    return {
        user.school_id: user
        for user in User.objects.filter(role="principal", school_id__in=list(school_ids))
        .select_related("region", "school")
        .order_by("id")
    }


def _rosters(class_ids) -> dict[int, list[int]]:
    from students.choices import ENROLLED_STATUSES
    from students.models import Student

    rosters = defaultdict(list)
    for pk, klass_id in (
        Student.objects.filter(klass_id__in=list(class_ids), status__in=ENROLLED_STATUSES)
        .order_by("id")
        .values_list("id", "klass_id")
    ):
        rosters[klass_id].append(pk)
    return rosters


def submit_class(days: list[datetime.date], warm_day: datetime.date) -> None:
    from django.db import connection, transaction

    from accounts.models import SchoolClass
    from attendance.services import MarkData, submit

    classes = list(
        SchoolClass.objects.filter(pk__in=[k.pk for k in _full_classes()])
        .select_related("school__township")
        .order_by("id")
    )
    rosters = _rosters(c.pk for c in classes)
    sizes = sorted({len(rosters[c.pk]) for c in classes})
    principals = _principals(c.school_id for c in classes)
    rng = random.Random(SEED + 1)  # noqa: S311
    tasks = [(klass, day, _marks_for(rng, rosters[klass.pk])) for day in days for klass in classes]
    turn = iter(tasks)

    def plain_insert():
        klass, day, marks = next(turn)
        user = principals[klass.school_id].pk
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO students_rollcall (klass_id, school_id, date, submitted_by_id,"
                " submitted_at, changed_by_id, changed_at)"
                " VALUES (%s, %s, %s, %s, now(), %s, now()) RETURNING id",
                [klass.pk, klass.school_id, day, user, user],
            )
            roll = cursor.fetchone()[0]
            if marks:
                values = ", ".join(["(%s, %s, %s, %s, '')"] * len(marks))  # placeholders only
                sql = f"INSERT INTO students_attendancemark (roll_id, student_id, date, status, note) VALUES {values}"  # noqa: S608
                cursor.execute(sql, [v for pk, status in marks for v in (roll, pk, day, status)])

    def service():
        klass, day, marks = next(turn)
        submit(
            by=principals[klass.school_id],
            klass=klass,
            day=day,
            marks=[MarkData(student=pk, status=status) for pk, status in marks],
        )

    # Warm-up on a day of the throughput figure (deleted again at the end).
    submit(by=principals[classes[0].school_id], klass=classes[0], day=warm_day, marks=[])
    baseline = timed(plain_insert, len(tasks))
    _clear_after(days[0] - datetime.timedelta(days=1))
    turn = iter(tasks)
    ours = timed(service, len(tasks))
    name = f"submit() one class of {'/'.join(map(str, sizes))}, {len(tasks)} class-days"
    record_percentiles(name, ours, baseline, SUBMIT_TARGET_MS)


# -- 3. concurrent throughput over HTTP --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(port: int, workers: int) -> subprocess.Popen:
    from django.db import connection

    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", ""),
        "PYTHONPATH": str(ROOT),
    }
    assert env["DATABASE_URL"], connection.settings_dict
    server = subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "kongchuo.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "512",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def _hammer(port: int, clients: int, seconds: float, next_request, warm: float = 1.0):
    """``clients`` threads sending ``next_request()`` (method, path, body, token) until it
    returns None or time is up; requests completed in the ``seconds`` after ``warm``,
    their latencies (ms) and any failures."""
    started = time.perf_counter()
    window = (started + warm, started + warm + seconds)
    done: list[tuple[float, float]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker():
        while time.perf_counter() < window[1]:
            with lock:
                request = next_request()
            if request is None:
                return
            method, path, body, token = request
            headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            begin = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
                conn.close()
            except OSError as exc:
                failures.append(f"{method} {path}: {exc}")
                continue
            end = time.perf_counter()
            if response.status >= 300:
                failures.append(f"{method} {path}: {response.status} {content[:200]!r}")
            elif window[0] <= end <= window[1]:
                done.append((end, (end - begin) * 1000))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    measured = min(seconds, max((end for end, _ in done), default=window[0]) - window[0])
    return len(done) / measured if measured > 0 else 0.0, [ms for _, ms in done], failures


def throughput(days: list[datetime.date], clients: int, seconds: float, workers: int) -> None:
    from accounts import tokens as api_tokens
    from accounts.choices import SchoolKind
    from accounts.models import School, SchoolClass

    full = {klass.school_id for klass in _full_classes()}
    schools = [
        pk
        for pk in School.objects.filter(kind=SchoolKind.PRIMARY)
        .order_by("id")
        .values_list("id", flat=True)
        if pk not in full
    ]
    step = max(1, len(schools) // THROUGHPUT_SCHOOLS)
    schools = schools[step // 2 :: step][:THROUGHPUT_SCHOOLS]
    principals = _principals(schools)
    tokens = {
        school: api_tokens.issue(user=user, name="基准测试").secret
        for school, user in principals.items()
    }
    county_of = dict(School.objects.filter(pk__in=schools).values_list("pk", "township__parent_id"))
    classes = list(
        SchoolClass.objects.filter(school_id__in=list(tokens))
        .order_by("school_id", "grade", "id")
        .values_list("id", "school_id")
    )
    rosters = _rosters(pk for pk, _ in classes)
    rng = random.Random(SEED + 2)  # noqa: S311
    posts = iter(
        [
            (
                "POST",
                "/api/v1/attendance/",
                json.dumps(
                    {
                        "klass": klass,
                        "date": day.isoformat(),
                        "marks": [
                            {"student": pk, "status": status, "note": ""}
                            for pk, status in _marks_for(rng, rosters[klass])
                        ],
                    }
                ),
                tokens[school],
            )
            for day in days
            for klass, school in classes
            if rosters[klass]
        ]
    )
    gets = itertools.cycle(
        [
            ("GET", f"/api/v1/regions/{county_of[school]}/", None, token)
            for school, token in tokens.items()
        ]
    )
    port = _free_port()
    server = _start_server(port, workers)
    try:
        base_rate, base_ms, base_failures = _hammer(port, clients, seconds, lambda: next(gets))
        rate, post_ms, failures = _hammer(port, clients, seconds, lambda: next(posts, None))
    finally:
        server.terminate()
        server.wait(timeout=30)
    for label, lost in (("GET", base_failures), ("POST", failures)):
        if lost:
            print(f"  {len(lost)} {label} requests failed, e.g. {lost[0]}", flush=True)
    print(
        f"  gunicorn, {workers} sync workers, {clients} clients: POST latency p50"
        f" {p50(post_ms):.0f} ms p95 {p95(post_ms):.0f} ms; GET p50 {p50(base_ms):.0f} ms"
        f" p95 {p95(base_ms):.0f} ms",
        flush=True,
    )
    record(
        f"POST /api/v1/attendance/ over HTTP, {clients} clients (/s)",
        rate,
        base_rate,
        "/s",
        target=f"≥ {THROUGHPUT_TARGET:.0f}/s, no errors",
        met=rate >= THROUGHPUT_TARGET and not failures,
    )


# -- entry point -------------------------------------------------------------------------------


def run() -> None:
    from django.db import connection

    from attendance.models import RollCall

    if connection.vendor != "postgresql":
        print("attendance: skipped, it needs PostgreSQL (COPY, the rule's SQL at scale)")
        return

    clients = int(os.environ.get("BENCH_CLIENTS", "8"))
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    workers = int(os.environ.get("BENCH_SERVER_WORKERS", "4"))
    repeat = int(os.environ.get("BENCH_SCAN_REPEAT", "3"))
    bulk, submit_days, throughput_days = _school_days()
    last = bulk[-1]
    if RollCall.objects.filter(date=last).exists():
        _clear_after(last)
    else:
        if RollCall.objects.exists():
            print("incomplete attendance data from an interrupted run: regenerating", flush=True)
            _clear_after(datetime.date.min)
        generate(bulk)
    _first_night(last)
    started = time.perf_counter()
    try:
        nightly_scan(last, repeat)
        submit_class(submit_days, throughput_days[-1])
        throughput(throughput_days, clients, seconds, workers)
    finally:
        _clear_after(last)
    print(f"attendance figures in {time.perf_counter() - started:.0f} s", flush=True)
