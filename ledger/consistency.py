"""人账相符 (DOMAIN.md §5): the ledger and 学籍 must tell the same story. The check lists
every child whose 学籍 status and ledger state disagree, and every open entry that is not a
real out-of-school child. The county page lists them live for a user's area; a kept run of a
county (``check_county``) is made by the nightly task and the management command, and by the
background job a county's staff start with “立即核查” — the same function for all three."""

from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts import jobs, jurisdiction
from accounts.choices import JobKind, JobStatus, RegionLevel
from accounts.models import Job, Region, User
from accounts.permissions import can, require
from kongchuo.errors import AppError
from students.choices import ENROLLED_STATUSES, Status
from students.models import Student

from . import permissions
from .choices import OPEN_STATES, ClosureReason, ConsistencyProblem, EntryKind, State
from .models import ConsistencyRun, LedgerEntry

_DROPOUT_STATES = (State.CONFIRMED, State.PERSUADING)
_GONE = (Status.DECEASED, Status.GRADUATED, Status.TRANSFERRED_OUT)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Mismatch:
    problem: str
    name: str
    school: str
    student_id: int | None
    entry_id: int | None

    @property
    def label(self) -> str:
        return ConsistencyProblem(self.problem).label


def _checks(
    students: QuerySet[Student], entries: QuerySet[LedgerEntry]
) -> list[tuple[ConsistencyProblem, QuerySet]]:
    """Each kind of mismatch and the (lazy) rows that have it: students for a 学籍 the
    ledger does not follow, entries for the rest."""
    open_entry = LedgerEntry.objects.filter(student=OuterRef("pk"), state__in=OPEN_STATES)
    # A child closed as having completed compulsory education or turned 16 may keep a
    # 辍学 学籍; the ledger no longer follows them.
    aged_out = LedgerEntry.objects.filter(
        student=OuterRef("pk"), state=State.CLOSED, closure_reason=ClosureReason.COMPLETED
    )
    with_student = entries.filter(student__isnull=False)
    enrolled = Student.objects.filter(id_hash=OuterRef("id_hash"), status__in=ENROLLED_STATUSES)
    return [
        (
            ConsistencyProblem.DROPOUT_WITHOUT_ENTRY,
            students.filter(status=Status.DROPPED_OUT).filter(
                ~Exists(open_entry), ~Exists(aged_out)
            ),
        ),
        (
            ConsistencyProblem.ENTRY_BUT_ENROLLED,
            with_student.filter(state__in=_DROPOUT_STATES).exclude(
                student__status__in=(Status.DROPPED_OUT, *_GONE)
            ),
        ),
        (
            ConsistencyProblem.RETURNED_NOT_ENROLLED,
            with_student.filter(state=State.RETURNED).exclude(
                student__status__in=(*ENROLLED_STATUSES, *_GONE)
            ),
        ),
        (
            ConsistencyProblem.NO_REAL_CHILD,
            with_student.filter(state__in=OPEN_STATES, student__status__in=_GONE),
        ),
        (
            ConsistencyProblem.NOT_ENROLLED_BUT_ENROLLED,
            entries.filter(
                Q(kind=EntryKind.NOT_ENROLLED, student=None, state__in=OPEN_STATES)
                & Q(id_hash__isnull=False)
                & Exists(enrolled)
            ),
        ),
    ]


def _rows(problem: ConsistencyProblem, rows: QuerySet) -> list[Mismatch]:
    if rows.model is Student:
        return [
            Mismatch(problem, name, school, pk, None)
            for pk, name, school in rows.values_list("pk", "name", "school__name")
        ]
    return [
        Mismatch(problem, name, school or "", student_id, pk)
        for pk, student_id, name, school in rows.values_list(
            "pk", "student_id", "name", "school__name"
        )
    ]


def find(
    students: QuerySet[Student],
    entries: QuerySet[LedgerEntry],
    *,
    progress: Progress | None = None,
) -> list[Mismatch]:
    """The mismatches among ``students`` and ``entries`` (both already scoped); ``progress``
    hears (checks done, checks in all) after each kind of mismatch."""
    checks = _checks(students, entries)
    found: list[Mismatch] = []
    for done, (problem, rows) in enumerate(checks, start=1):
        found += _rows(problem, rows)
        if progress is not None:
            progress(done, len(checks))
    return found


def for_user(user) -> list[Mismatch]:
    return find(Student.objects.for_user(user), LedgerEntry.objects.for_user(user))


def check_county(
    county: Region, *, by: User | None = None, progress: Progress | None = None
) -> ConsistencyRun:
    """Run the check for one county and keep the result for its staff to see. ``by``: the
    county account that asked for it (None: the nightly run), as whom everything is read."""
    students = jurisdiction.within(county, Student.objects.all())
    entries = jurisdiction.within(county, LedgerEntry.objects.all())
    if by is not None:
        students, entries = students.for_user(by), entries.for_user(by)
    found = find(students, entries, progress=progress)
    return ConsistencyRun.objects.create(
        county=county, ran_by=by, problem_count=len(found), problems=[asdict(m) for m in found]
    )


def check_all() -> list[ConsistencyRun]:
    return [
        check_county(county)
        for county in Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")
    ]


# -- 立即核查: a county's check now, as a background job ------------------------------------------


def county_of(user: User) -> Region | None:
    """The county a county account works for (None: any other account)."""
    region = user.region if user.region_id else None
    return region if region is not None and region.level == RegionLevel.COUNTY else None


def _no_county() -> AppError:
    return AppError("立即核查由县教体局的账号发起，核查本县的台账。")


def check_now(*, by: User) -> tuple[Job, bool]:
    """Queue the check of ``by``'s county, or — while one of theirs is still under way —
    hand that one back instead of a second. Returns the job and whether it is new."""
    require(by, permissions.CONSISTENCY)
    if county_of(by) is None:
        raise _no_county()
    under_way = (
        Job.objects.for_user(by)
        .filter(kind=JobKind.CONSISTENCY_CHECK, status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
        .first()
    )
    if under_way is not None:
        return under_way, False
    return jobs.job_start(by=by, kind=JobKind.CONSISTENCY_CHECK), True


@jobs.runner(JobKind.CONSISTENCY_CHECK, permissions.CONSISTENCY)
def run_check(job: Job, user: User) -> None:
    county = county_of(user)
    if county is None:
        raise _no_county()
    run = check_county(
        county, by=user, progress=lambda done, total: jobs.report_progress(job, done, total)
    )
    jobs.finish(
        job,
        message=f"核查完成：发现{run.problem_count}个问题。"
        if run.problem_count
        else "核查完成：人账相符，没有发现不一致。",
    )


def latest(user: User) -> tuple[ConsistencyRun | None, Job | None]:
    """What the page tells about the kept checks: the latest run of the user's area, and the
    user's own 立即核查 job when it is still under way or failed after that run."""
    run = ConsistencyRun.objects.for_user(user).select_related("ran_by").first()
    job = Job.objects.for_user(user).filter(kind=JobKind.CONSISTENCY_CHECK).first()
    if job is None or job.status == JobStatus.DONE:
        return run, None
    superseded = run is not None and run.ran_at > job.created_at
    return run, None if job.status == JobStatus.FAILED and superseded else job


def may_check_now(user: User) -> bool:
    """Whether the page offers 立即核查: the check's permission, and a county to check."""
    return can(user, permissions.CONSISTENCY) and county_of(user) is not None
