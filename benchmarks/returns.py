"""Issue 12: 劝返 cases at province scale, and their printed documents.

The data (once; kept with BENCH_REUSE=1, detected by its cases): BENCH_RETURN_CASES open cases
(default 30,000) of children spread evenly over the generated students, and
BENCH_RETURN_ACTIONS actions (default 300,000) spread over them, by COPY: for each case its
ledger entry (劝返中, or 已复学（跟踪） for a returned case), the case (85% 劝返中 — of which
20% at 责令改正 with a deadline, some passed, and 10% at the later steps — 8% 待签收, 5% 已复学
（跟踪）, 2% 延缓入学), its team (the township's official and, for a child in a class, the
class teacher) and its actions (上门, 电话, 约谈, 联合劝返; one participant each). The first
township of the first county gets BATCH_SIZE + 40 cases, BATCH_SIZE of them 劝返中, so that
the batch figure prints exactly BATCH_SIZE documents.

Figures, each beside a baseline measured in the same run:

1. "My cases" of that township's official (xz1_ganbu): ``selectors.my_cases`` as the list page
   reads it — the first page of 50 and the paginator's count — and the whole page
   GET /returns/?mine=1; the county list of the county's staff (xian_staff):
   ``selectors.cases`` and GET /returns/. Baseline: one hand-written SQL query giving the same
   page of rows (the same urgency order) and the total, whose ids must agree with the
   selector's. Target p95 < 100 ms (the selector figures; the pages are printed beside them).
2. One document: ``documents.generate`` of a 劝返情况记录表 (the case's actions listed) after
   the fonts are loaded, beside WeasyPrint rendering the same HTML alone. Target < 1 s.
3. A county batch: ``returns.jobs.batch_generate`` of BATCH_SIZE 辍学学生基本情况调查表 and the
   job run in this process, with the resident set sampled every 0.1 s: RSS before, and the
   highest by each quarter of the run. Flat: by the end within FLAT_MB of the first
   quarter's. Baseline of the time: BATCH_SIZE times WeasyPrint rendering one survey alone.
   Then the same batch again under tracemalloc: the Python heap before, after and at peak.

Environment: BENCH_RETURN_CASES, BENCH_RETURN_ACTIONS, BENCH_EXPLAIN=1 (EXPLAIN ANALYZE of
the two list queries).
"""

import datetime
import os
import random
import threading
import time
import tracemalloc

from .common import progress, record, record_percentiles, timed

LIST_TARGET_MS = 100
DOCUMENT_TARGET_MS = 1000
PAGE_SIZE = 50
BATCH_SIZE = 200
FLAT_MB = 20
SEED = 12
OFFICIAL, COUNTY_STAFF = "xz1_ganbu", "xian_staff"


# -- the data ---------------------------------------------------------------------------------


def _columns(model, **values) -> dict:
    """A row of ``model`` by attname: ``values``, every other column its default."""
    row = {}
    for field in model._meta.concrete_fields:
        if field.attname in values:
            row[field.attname] = values[field.attname]
        elif field.primary_key:
            continue
        else:
            row[field.attname] = field.get_default()
    return row


def _states(rng: random.Random) -> tuple[str, int]:
    """(state, step) of a generated open case."""
    x = rng.random()
    if x < 0.08:
        return "instructed", 1
    if x < 0.13:
        return "returned", rng.choice((1, 1, 2))
    if x < 0.15:
        return "deferred", 4
    y = rng.random()
    return "working", 1 if y < 0.7 else 2 if y < 0.9 else rng.choice((3, 4))


_NOT_WORKING = (("instructed", 1), ("returned", 1), ("deferred", 4))


def generate(cases: int, actions: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from kongchuo import crypto
    from ledger.models import LedgerEntry
    from returns.models import CaseAction, CaseMember, ReturnCase
    from students.imports import copy_rows, reserve_ids

    start = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 — deterministic benchmark data
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id, s.name, s.gender, s.birth_date, s.id_number, s.school_id, s.grade,
                   s.hukou_region_id, sc.township_id, t.parent_id, c.head_teacher_id
            FROM students_student s
            JOIN accounts_school sc ON sc.id = s.school_id
            JOIN accounts_region t ON t.id = sc.township_id
            LEFT JOIN accounts_schoolclass c ON c.id = s.klass_id
            WHERE s.status = 'enrolled'
              -- Not the attendance run's 疑似辍学 children: one open entry per student.
              AND NOT EXISTS (SELECT 1 FROM ledger_ledgerentry e WHERE e.student_id = s.id)
            ORDER BY s.id
            """
        )
        students = cursor.fetchall()
        cursor.execute("SELECT region_id, id FROM accounts_user WHERE role = 'township_official'")
        officials = dict(cursor.fetchall())
        cursor.execute("SELECT region_id, id FROM accounts_user WHERE role = 'county_staff'")
        county_staff = dict(cursor.fetchall())
    first = User.objects.get(username=OFFICIAL).region_id
    # The first township's BATCH_SIZE + 40, then every k-th of the rest.
    mine = [s for s in students if s[8] == first][: BATCH_SIZE + 40]
    rest = [s for s in students if s[8] != first]
    step = max(1, len(rest) // max(1, cases - len(mine)))
    chosen = mine + rest[::step][: cases - len(mine)]
    if len(mine) < BATCH_SIZE or len(chosen) < cases:
        raise RuntimeError(f"too few students for {cases:,} cases: raise BENCH_STUDENTS")
    today = timezone.localdate()
    now = timezone.now()
    entry_ids = reserve_ids(LedgerEntry, len(chosen))
    case_ids = reserve_ids(ReturnCase, len(chosen))
    entries, rows, members, plans = [], [], [], []
    for n, (student, entry_id, case_id) in enumerate(zip(chosen, entry_ids, case_ids, strict=True)):
        pk, name, gender, birth, id_number, school, grade, hukou, township, county, teacher = (
            student
        )
        if n < BATCH_SIZE:
            state, case_step = "working", 1
        elif n < len(mine):  # the first township's others: none 劝返中
            state, case_step = _NOT_WORKING[n % len(_NOT_WORKING)]
        else:
            state, case_step = _states(rng)
        found = today - datetime.timedelta(days=rng.randint(30, 400))
        instructed = now - datetime.timedelta(days=(today - found).days - rng.randint(1, 20))
        staff, official = county_staff[county], officials.get(township)
        entries.append(
            _columns(
                LedgerEntry,
                id=entry_id,
                student_id=pk,
                kind="dropout",
                source="school_report",
                state="returned" if state == "returned" else "persuading",
                name=name,
                gender=gender,
                birth_date=birth,
                id_number=crypto.unseal(id_number) if id_number else "",
                school_id=school,
                grade=grade,
                hukou_region_id=hukou,
                township_id=township,
                reason="learning",
                whereabouts="at_home",
                found_on=found,
                reviewed_on=found,
                created_by_id=staff,
                created_at=now,
                updated_at=now,
            )
        )
        deadline = None
        if case_step >= 2 and rng.random() < 0.9:
            deadline = today + datetime.timedelta(days=rng.randint(-20, 20))
        acknowledged = state != "instructed"
        rows.append(
            _columns(
                ReturnCase,
                id=case_id,
                entry_id=entry_id,
                county_id=county,
                township_id=township,
                school_id=school,
                responsible_rule="hukou",
                state=state,
                step=case_step,
                step_deadline=deadline,
                instructed_by_id=staff,
                instructed_at=instructed,
                acknowledged_by_id=official if acknowledged else None,
                acknowledged_at=instructed + datetime.timedelta(days=1) if acknowledged else None,
                placement="regular" if state == "returned" else "",
                returned_on=today - datetime.timedelta(days=5) if state == "returned" else None,
                follow_up_until=today + datetime.timedelta(days=55)
                if state == "returned"
                else None,
                deferral_reason="监护人仍拒绝送学" if state == "deferred" else "",
                deferred_on=today - datetime.timedelta(days=9) if state == "deferred" else None,
                created_at=instructed,
                updated_at=now,
            )
        )
        team = [(official, "cadre")] if acknowledged and official else []
        team += [(teacher, "teacher")] if teacher else []
        members += [
            _columns(
                CaseMember,
                case_id=case_id,
                user_id=user,
                duty=duty,
                added_by_id=official or staff,
                added_at=now,
            )
            for user, duty in team
        ]
        plans.append((case_id, found, case_step, official or staff, acknowledged))
    # Actions: every worked case gets some, BENCH_RETURN_ACTIONS in all.
    worked = [plan for plan in plans if plan[4]]
    counts = [0] * len(worked)
    for _ in range(actions):
        counts[rng.randrange(len(worked))] += 1
    action_ids = reserve_ids(CaseAction, actions)
    methods = ("visit", "visit", "phone", "interview", "joint")
    action_rows, participants, last = [], [], {}
    ids = iter(action_ids)
    for (case_id, found, case_step, recorder, _), count in zip(worked, counts, strict=True):
        span = max(1, (today - found).days)
        for _ in range(count):
            action_id = next(ids)
            method = rng.choice(methods)
            date = found + datetime.timedelta(days=rng.randrange(span))
            last[case_id] = max(date, last.get(case_id, date))
            action_rows.append(
                _columns(
                    CaseAction,
                    id=action_id,
                    case_id=case_id,
                    date=date,
                    step=rng.randint(1, case_step),
                    method=method,
                    departments=["police", "village_committee"] if method == "joint" else [],
                    result="与监护人沟通，说明义务教育法规定，监护人表示考虑送孩子返校。",
                    recorded_by_id=recorder,
                    recorded_at=now,
                )
            )
            participants.append({"caseaction_id": action_id, "user_id": recorder})
    for row in rows:
        row["last_action_on"] = last.get(row["id"])
    through = CaseAction.participants.through
    with transaction.atomic():
        copy_rows(LedgerEntry, entries, with_pk=True)
        copy_rows(ReturnCase, rows, with_pk=True)
        copy_rows(CaseMember, members)
        copy_rows(CaseAction, action_rows, with_pk=True)
        copy_rows(through, participants)
    with connection.cursor() as cursor:
        for table in ("ledger_ledgerentry", "returns_returncase", "returns_casemember"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("VACUUM ANALYZE returns_caseaction")
    print(
        f"generated {len(rows):,} open cases ({len(mine)} in the first township),"
        f" {len(members):,} team members and {len(action_rows):,} actions"
        f" in {time.perf_counter() - start:.1f} s",
        flush=True,
    )


# -- 1. the lists -----------------------------------------------------------------------------

# The same page as selectors.cases, written by hand: the urgency of returns.selectors
# (overdue 责令改正, idle, new instruction, the rest, closed), then the deadline, the newest
# instruction. ``scope`` is the plain condition of the rows.
_LIST_SQL = """
SELECT c.id, e.name, c.state, c.step, c.step_deadline, t.name, count(*) OVER () AS total
FROM returns_returncase c
JOIN ledger_ledgerentry e ON e.id = c.entry_id
LEFT JOIN accounts_region t ON t.id = c.township_id
WHERE c.state <> 'closed' AND ({scope})
ORDER BY CASE
    WHEN c.state IN ('working', 'deferred') AND c.step = 2 AND c.step_deadline < %(today)s
        THEN 0
    WHEN c.state IN ('working', 'deferred') AND (
        c.last_action_on <= %(cutoff)s
        OR (c.last_action_on IS NULL AND (c.acknowledged_at AT TIME ZONE %(tz)s)::date
            <= %(cutoff)s)
        OR (c.last_action_on IS NULL AND c.acknowledged_at IS NULL
            AND (c.instructed_at AT TIME ZONE %(tz)s)::date <= %(cutoff)s))
        THEN 1
    WHEN c.state = 'instructed' THEN 2
    ELSE 3 END,
    c.step_deadline ASC NULLS LAST, c.instructed_at DESC, c.id DESC
LIMIT %(limit)s
"""
_MINE = (
    "c.township_id = %(township)s OR c.co_township_id = %(township)s"
    " OR c.id IN (SELECT case_id FROM returns_casemember WHERE user_id = %(user)s)"
)
_COUNTY = "c.county_id = %(county)s"


def _baseline(scope: str, params: dict) -> list[int]:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    values = {
        **params,
        "today": today,
        "cutoff": today - datetime.timedelta(days=settings.RETURNS_IDLE_DAYS),
        "tz": settings.TIME_ZONE,
        "limit": PAGE_SIZE,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LIST_SQL.format(scope=scope), values)
        return [row[0] for row in cursor.fetchall()]


def _first_page(queryset) -> list[int]:
    """What the list page reads: the paginator's count and the first page's rows."""
    queryset.count()
    return [case.pk for case in queryset[:PAGE_SIZE]]


def _page(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.status_code


def _lists(requests: int) -> None:
    from django.test import Client

    from accounts.models import User
    from returns import selectors

    official = User.objects.select_related("region").get(username=OFFICIAL)
    staff = User.objects.select_related("region").get(username=COUNTY_STAFF)
    figures = (
        (
            f"my cases of {OFFICIAL}",
            lambda: _first_page(selectors.my_cases(official)),
            _MINE,
            {"township": official.region_id, "user": official.pk},
            official,
            "/returns/?mine=1",
        ),
        (
            f"county list of {COUNTY_STAFF}",
            lambda: _first_page(selectors.cases(staff, open_only=True)),
            _COUNTY,
            {"county": staff.region_id},
            staff,
            "/returns/?mine=0",
        ),
    )
    for name, ours, scope, params, user, url in figures:
        agree = ours() == _baseline(scope, params)
        print(f"{name}: the selector's first page and the SQL query agree: {agree}", flush=True)
        samples = timed(ours, requests)
        baseline = timed(lambda scope=scope, params=params: _baseline(scope, params), requests)
        record_percentiles(f"{name} (first page + count)", samples, baseline, LIST_TARGET_MS)
        client = Client()
        client.force_login(user)
        try:
            _page(client, url)
        except Exception as exc:  # the page is another part's; its figure is extra
            print(f"GET {url} as {user.username} not measured: {exc!r}", flush=True)
            continue
        pages = timed(lambda client=client, url=url: _page(client, url), min(requests, 60))
        record_percentiles(f"GET {url} as {user.username}", pages, baseline, LIST_TARGET_MS)


def explain() -> str:
    from django.db import connection

    from accounts.models import User
    from returns import selectors

    out = []
    official = User.objects.get(username=OFFICIAL)
    staff = User.objects.get(username=COUNTY_STAFF)
    for queryset in (selectors.my_cases(official), selectors.cases(staff, open_only=True)):
        sql, params = queryset[:PAGE_SIZE].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            out.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(out)


# -- 2. one document, 3. the batch --------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _document(repeat: int) -> None:
    """The median milliseconds of one generated document beside WeasyPrint alone."""
    from django.db.models import Count
    from pypdf import PdfReader

    from accounts.models import User
    from kongchuo import pdf
    from returns import documents
    from returns.models import ReturnCase

    official = User.objects.get(username=OFFICIAL)
    case = (
        ReturnCase.objects.filter(township_id=official.region_id, state="working")
        .annotate(n=Count("actions"))
        .order_by("-n", "id")
        .first()
    )
    start = time.perf_counter()
    pdf.warm_up()
    print(f"fonts loaded in {(time.perf_counter() - start) * 1000:.0f} ms (once per process)")
    kind = documents.Kind.ACTION_RECORD
    ours = timed(lambda: documents.generate(by=official, case=case, kind=kind), repeat)
    document_kind = documents.KINDS[kind]
    context = documents.BUILDERS[kind](case)
    html = pdf.render_html(document_kind.template, context)
    floor = timed(lambda: pdf.html_to_pdf(html), repeat)
    pages = len(PdfReader(case.documents.first().file.path).pages)
    name = f"generate 劝返情况记录表 ({case.n} actions, {pages} pages)"
    ours.sort()
    floor.sort()
    median, floor_median = ours[len(ours) // 2], floor[len(floor) // 2]
    record(
        name,
        median,
        floor_median,
        "ms",
        target=f"< {DOCUMENT_TARGET_MS} ms",
        met=max(ours) < DOCUMENT_TARGET_MS,
    )


def _sampled(fn) -> tuple[float, list[float]]:
    """Seconds ``fn`` took, and the resident set (MB) sampled every 0.1 s while it ran."""
    samples: list[tuple[float, float]] = []
    running = threading.Event()
    running.set()

    def sample():
        while running.is_set():
            samples.append((time.perf_counter(), _rss_mb()))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    fn()
    elapsed = time.perf_counter() - start
    running.clear()
    sampler.join()
    quarters = [
        max(rss for at, rss in samples if at <= start + elapsed * q / 4) for q in (1, 2, 3, 4)
    ]
    return elapsed, quarters


def _batch() -> None:
    from accounts import jobs
    from accounts.models import Job, User
    from kongchuo import pdf
    from returns import documents
    from returns.jobs import batch_generate
    from returns.models import ReturnCase

    staff = User.objects.get(username=COUNTY_STAFF)
    township = User.objects.get(username=OFFICIAL).region_id
    kind = documents.Kind.SURVEY
    example = ReturnCase.objects.filter(township_id=township, state="working").first()
    html = pdf.render_html(documents.KINDS[kind].template, documents.BUILDERS[kind](example))
    floor = sorted(timed(lambda: pdf.html_to_pdf(html), 10))[5]

    def batch() -> Job:
        job = batch_generate(by=staff, kind=kind, township=township, state="working")
        jobs.job_run(job.pk)
        job = Job.objects.get(pk=job.pk)
        assert job.status == "done", job.message
        return job

    rss_before = _rss_mb()
    elapsed, quarters = _sampled(batch)
    job = Job.objects.filter(kind="return_documents").first()
    print(
        f"batch of {job.done} documents: {job.message} ZIP {job.result.size / 1e6:.1f} MB in"
        f" {elapsed:.1f} s; RSS before {rss_before:.0f} MB, highest by each quarter of the run"
        f" {' / '.join(f'{q:.0f}' for q in quarters)} MB",
        flush=True,
    )
    record(f"batch {job.done} 调查表 into a ZIP", elapsed, job.done * floor / 1000, "s")
    record(
        f"batch {job.done}: RSS by the end vs first quarter",
        quarters[3],
        quarters[0],
        "MB",
        target=f"flat (< +{FLAT_MB} MB)",
        met=quarters[3] - quarters[0] < FLAT_MB,
    )
    # Again with tracemalloc (which slows Python down several times): the Python heap.
    tracemalloc.start()
    heap_before = tracemalloc.get_traced_memory()[0]
    batch()
    heap_after, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"the same batch under tracemalloc: Python heap {heap_before / 1e6:.1f} MB before,"
        f" {heap_after / 1e6:.1f} MB after, peak {heap_peak / 1e6:.1f} MB",
        flush=True,
    )
    record(
        f"batch {job.done}: traced Python heap peak vs after",
        heap_peak / 1e6,
        heap_after / 1e6,
        "MB",
    )


def run(requests: int) -> None:
    from returns.models import ReturnCase

    cases = int(os.environ.get("BENCH_RETURN_CASES", "30000"))
    actions = int(os.environ.get("BENCH_RETURN_ACTIONS", "300000"))
    if not ReturnCase.objects.exists():
        progress(f"generating {cases:,} cases and {actions:,} actions")
        generate(cases, actions)
    _lists(requests)
    if os.environ.get("BENCH_EXPLAIN") == "1":
        print(explain())
    _document(10)
    _batch()
