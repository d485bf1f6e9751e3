"""Demo ledger entries: a few children in every state, made through the services, so the
demo county shows the ledger as staff will see it."""

import random

from accounts.choices import Role
from accounts.models import User
from students.choices import Status
from students.models import Student

from . import services
from .choices import ClosureReason, EntryKind, Reason, Source, Whereabouts

# How far along the state machine each demo child goes, in order.
_STAGES = ["pending", "confirmed", "persuading", "returned", "proposed", "closed", "rebound"]


def _create(rng, kind: str, student: Student, school_user: User):
    return services.entry_create(
        by=school_user,
        data=services.EntryData(
            kind=kind,
            source=Source.SCHOOL_REPORT,
            reason=rng.choice(Reason.values),
            whereabouts=rng.choice(Whereabouts.values),
            student=student,
            note="班主任连续家访未见学生到校。",
        ),
    )


def confirmed_entry(rng, student: Student, school_user: User):
    """A child reported by the school and confirmed as a dropout (已确认辍学)."""
    entry = _create(rng, EntryKind.SUSPECTED, student, school_user)
    return services.entry_confirm(by=school_user, entry=entry, note="核实为辍学。")


def _walk(rng, stage: str, student: Student, school_user: User, county: User, approver: User):
    if stage == "pending":
        _create(rng, EntryKind.SUSPECTED, student, school_user)
        return
    entry = confirmed_entry(rng, student, school_user)
    if stage == "confirmed":
        return
    entry = services.entry_assign(by=county, entry=entry, township=entry.township)
    if stage == "persuading":
        return
    entry = services.entry_return(by=school_user, entry=entry, note="已返校随班就读。")
    if stage == "returned":
        return
    entry = services.entry_propose_closure(
        by=school_user,
        entry=entry,
        reason=ClosureReason.RETURNED,
        evidence_text="复学后连续跟踪一个月，出勤正常。",
    )
    if stage == "proposed":
        return
    services.entry_approve(by=approver, entry=entry, comment="材料齐全，同意销号。")
    if stage == "rebound":
        _create(rng, EntryKind.DROPOUT, student, school_user)


def build_entries(count: int = len(_STAGES), *, seed: int = 1) -> int:
    """Walk ``count`` students of each county's first schools through the stages."""
    rng = random.Random(seed)  # noqa: S311 — deterministic demo data, not secrets
    made = 0
    for county in User.objects.filter(role=Role.COUNTY_STAFF).select_related("region"):
        approver = User.objects.filter(role=Role.COUNTY_ADMIN, region=county.region).first()
        students = Student.objects.filter(
            school__township__code__startswith=county.region.code, status=Status.ENROLLED
        ).order_by("id")
        for index, student in enumerate(students[:count]):
            school_user = User.objects.filter(school=student.school, role=Role.PRINCIPAL).first()
            if school_user is None or approver is None:
                continue
            _walk(rng, _STAGES[index % len(_STAGES)], student, school_user, county, approver)
            made += 1
    return made
