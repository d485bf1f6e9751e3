"""Likely duplicate students inside the system (issue 13 rule 4): the same child entered
twice, often once without an ID number. The same matching as the comparisons
(students.matching): the ID number after normalisation first; then the name (spelling
normalised, or sounding alike) with the same birth date, when at least one of the two has no
ID number or they share a guardian (phone, or name). Pairs are for a person to confirm: they
merge them (students.merge) or say 不是同一人 (``pair_dismiss``), and the pair is not proposed
again.

Only records of the user's own schools are compared (a county: the schools of the county; a
school: itself and, for a 中心校, its attached schools), both in the same county. The work is
done in Python over the area's few columns — one query for the students, one for the
guardians of the candidates, one for the dismissed pairs. Measured by hand on PostgreSQL, a
county of 10,000 children: 0.16 s the first time in a process (pypinyin's look-ups), 0.06 s
after; no stored column or SQL grouping is needed at that size.
"""

import itertools
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts import audit, jurisdiction
from accounts.choices import AuditAction
from accounts.models import School, User
from accounts.permissions import require
from kongchuo.errors import AppError

from .choices import Status
from .identity import normalise_id_number
from .matching import name_key, sound_keys
from .models import DuplicateDismissal, Guardian, Student
from .permissions import MERGE

ID_EQUAL = "身份证号相同"
NAME_EQUAL = "姓名相同"
NAME_SOUNDS = "姓名同音"
BIRTH_EQUAL = "出生日期相同"
ID_MISSING = "其中一条没有身份证号"
BOTH_IDS_DIFFER = "两条记录的身份证号不同，合并前请核对"
GUARDIAN_PHONE = "监护人电话相同"
GUARDIAN_NAME = "监护人姓名相同"


@dataclass
class Pair:
    """Two records that may be one child, and why they were found (``reasons``, in the
    order a person reads them). ``first`` has the lower id."""

    first: Student
    second: Student
    reasons: list[str]

    @property
    def by_id_number(self) -> bool:
        return ID_EQUAL in self.reasons


def candidates(user: User):
    """The students the finder compares for ``user``: those of the user's own schools, not
    merged already."""
    schools = School.objects.for_user(user)
    return Student.objects.for_user(user).filter(school__in=schools).exclude(status=Status.MERGED)


def _shared_guardians(first: int, second: int, guardians: dict) -> list[str]:
    mine, theirs = guardians.get(first, ()), guardians.get(second, ())
    reasons = []
    if {phone for _, phone in mine if phone} & {phone for _, phone in theirs if phone}:
        reasons.append(GUARDIAN_PHONE)
    if {name for name, _ in mine if name} & {name for name, _ in theirs if name}:
        reasons.append(GUARDIAN_NAME)
    return reasons


def find(user: User) -> list[Pair]:
    """The likely duplicate pairs in ``user``'s area, by ID number first, then by name."""
    rows = list(
        candidates(user).values_list(
            "pk", "name", "birth_date", "id_number", "school__township__code"
        )
    )
    by_number, by_birth = defaultdict(list), defaultdict(list)
    numbers = {}
    for pk, name, birth_date, id_number, township in rows:
        county = township[:6]
        numbers[pk] = normalise_id_number(id_number)
        if numbers[pk]:
            by_number[(county, numbers[pk])].append(pk)
        by_birth[(county, birth_date)].append((pk, name))
    found: dict[tuple[int, int], list[str]] = {}
    for group in by_number.values():
        for pair in itertools.combinations(sorted(group), 2):
            found[pair] = [ID_EQUAL]
    by_name: dict[tuple[int, int], list[str]] = {}
    for group in by_birth.values():
        if len(group) < 2:
            continue
        keys = {pk: (name_key(name), sound_keys(name)) for pk, name in group}
        for (a, _), (b, _) in itertools.combinations(sorted(group), 2):
            if keys[a][0] == keys[b][0]:
                by_name[(a, b)] = [NAME_EQUAL, BIRTH_EQUAL]
            elif not keys[a][1].isdisjoint(keys[b][1]):
                by_name[(a, b)] = [NAME_SOUNDS, BIRTH_EQUAL]
    guardians = defaultdict(list)
    wanted = {pk for pair in by_name for pk in pair}
    for student_id, name, phone in Guardian.objects.filter(student_id__in=wanted).values_list(
        "student_id", "name", "phone"
    ):
        guardians[student_id].append((name_key(name), phone))
    for (a, b), reasons in by_name.items():
        shared = _shared_guardians(a, b, guardians)
        missing = not (numbers[a] and numbers[b])
        if (a, b) in found:
            found[(a, b)].extend([*reasons, *shared])
        elif missing or shared:
            differ = [] if missing else [BOTH_IDS_DIFFER]
            found[(a, b)] = [*reasons, *([ID_MISSING] if missing else []), *shared, *differ]
    return _pairs(found)


def _pairs(found: dict[tuple[int, int], list[str]]) -> list[Pair]:
    if not found:
        return []
    dismissed = set(
        DuplicateDismissal.objects.filter(first_id__in={a for a, _ in found}).values_list(
            "first_id", "second_id"
        )
    )
    found = {pair: reasons for pair, reasons in found.items() if pair not in dismissed}
    students = (
        Student.objects.filter(pk__in={pk for pair in found for pk in pair})
        .select_related("school", "klass")
        .prefetch_related("guardians")
        .in_bulk()
    )
    pairs = [Pair(students[a], students[b], reasons) for (a, b), reasons in found.items()]
    pairs.sort(key=lambda p: (not p.by_id_number, p.first.school_id, p.first.name, p.first.pk))
    return pairs


def pair_for(user: User, first: Student, second: Student) -> Pair | None:
    """The pair of these two records if the finder proposes it for ``user`` (else None)."""
    a, b = sorted((first.pk, second.pk))
    return next((p for p in find(user) if (p.first.pk, p.second.pk) == (a, b)), None)


@transaction.atomic
def pair_dismiss(
    *, by: User, first: Student, second: Student, note: str = ""
) -> DuplicateDismissal:
    """“不是同一人”: remember that the two records are two children (audited)."""
    require(by, MERGE)
    if first.pk == second.pk:
        raise AppError("请选择两条不同的学生记录。")
    for student in (first, second):
        if not jurisdiction.contains(by, student):
            raise AppError("该学生不在您的管辖范围内。")
        require(by, MERGE, student)
    first, second = sorted((first, second), key=lambda s: s.pk)
    try:
        with transaction.atomic():
            dismissal = DuplicateDismissal.objects.create(
                first=first, second=second, by=by, note=(note or "").strip()[:200]
            )
    except IntegrityError:
        raise AppError("这两条记录已确认不是同一人。") from None
    audit.record(
        actor=by,
        action=AuditAction.CREATE,
        obj=dismissal,
        detail=f"确认不是同一人：{first.name}（编号{first.pk}）与{second.name}（编号{second.pk}）",
    )
    return dismissal
