"""Comparison results written directly (the upload and the engine are tested in their own
files): a list, its rows, a finished run and the mismatches it found, in county A or B of
the test world, for the tests of what users do with the results."""

import datetime
import hashlib
import itertools

from django.utils import timezone

from accounts.models import Region, School, User
from comparisons.choices import MismatchKind, RunStatus, SourceKind, Strength
from comparisons.models import Mismatch, Run, Source, SourceRow
from students.matching import name_key
from tests.students.factories import id_number

COUNTY_A, COUNTY_B = "532926", "530102"
_serial = itertools.count(1)


def county(code: str = COUNTY_A) -> Region:
    return Region.objects.get(code=code)


def first_township(code: str = COUNTY_A) -> Region:
    return Region.objects.filter(code__startswith=code, level=4).order_by("code").first()


def first_school(code: str = COUNTY_A) -> School:
    return (
        School.objects.filter(township__code__startswith=code, parent__isnull=True)
        .order_by("code")
        .first()
    )


def make_source(code: str = COUNTY_A, kind: str = SourceKind.HOUSEHOLD) -> Source:
    n = next(_serial)
    return Source.objects.create(
        county=county(code),
        kind=kind,
        name=f"名单{n}.xlsx",
        sha256=hashlib.sha256(f"source-{n}".encode()).hexdigest(),
        size=1000 + n,
        uploaded_by=User.objects.get(role="county_staff", region__code=code),
    )


def make_row(source: Source, *, name="王小芳", birth=datetime.date(2019, 5, 2), **fields):
    township = first_township(source.county.code)
    values = {
        "row": next(_serial),
        "id_number": id_number(birth, "F", source.county.code),
        "id_valid": True,
        "name": name,
        "name_key": name_key(name),
        "birth_date": birth,
        "gender": "F",
        "region": township,
        "guardian": "王大山",
    }
    values.update(fields)
    return SourceRow.objects.create(source=source, **values)


def make_run(source: Source, *, status: str = RunStatus.DONE, previous: Run | None = None) -> Run:
    finished = status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
    return Run.objects.create(
        county=source.county,
        kind=source.kind,
        source=source,
        previous=previous,
        status=status,
        done=10 if finished else 4,
        total=10,
        started_at=timezone.now(),
        finished_at=timezone.now() if finished else None,
    )


def make_mismatch(
    run: Run,
    *,
    kind: str = MismatchKind.NOT_ENROLLED,
    row: SourceRow | None = None,
    student=None,
    strength: str = Strength.NONE,
    township: Region | None = None,
    school: School | None = None,
    key: str = "",
    fingerprint: str = "f1",
    details: dict | None = None,
    **fields,
) -> Mismatch:
    """A mismatch of ``run``; by default a 未入学 candidate from a new row of the run's list,
    assigned to the county's first township."""
    if row is None and student is None:
        row = make_row(run.source)
    person = student or row
    if township is None and school is None:
        township = first_township(run.county.code)
    values = {
        "run": run,
        "county": run.county,
        "kind": kind,
        "key": key or f"{kind}:{person.id_number or person.pk}",
        "fingerprint": fingerprint,
        "strength": strength,
        "source_row": row,
        "student": student,
        "township": township,
        "school": school,
        "name": person.name,
        "id_number": person.id_number or "",
        "birth_date": person.birth_date,
        "details": details if details is not None else {"名单": "户籍在本乡镇", "系统": "无学籍"},
    }
    values.update(fields)
    return Mismatch.objects.create(**values)


def not_enrolled(code: str = COUNTY_A, **fields) -> Mismatch:
    """A 未入学 candidate of a finished household run of the county."""
    return make_mismatch(make_run(make_source(code)), **fields)
