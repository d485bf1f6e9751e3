"""The comparison engine (issue 13 rules 2 and 3; DOMAIN.md §6): one run compares one county's
list with 学籍 and the ledger and stores what disagrees.

Matching (rule 2): a list's row is the student with the same normalised ID number — anywhere
in the system, as 学籍 is national — by SQL joins and anti-joins over the whole list, so that
only the disagreeing rows (a few per cent) ever reach Python. What is left is looked up by
name (``students.matching.name_key``: width, spaces and middle dots ignored) and birth date
among the county's students that no row claimed by ID, preferring a candidate whose guardian
or 户籍 village agrees too: a WEAK match, never acted on. It only names a candidate on the
mismatch the row gives anyway, for a person to confirm (link it, or explain).

What each list is checked for (rule 3):

- 户籍 (household): a school-age child (DOMAIN.md §3: 6 by 31 August, nine cohorts) with no
  学籍 and no open ledger entry → NOT_ENROLLED, or ELSEWHERE_UNRECORDED when the row names a
  school that is not the county's; and, over the county's own records, 学籍 against the ledger
  (``ledger.consistency``) → LEDGER_STATUS and students on a roll here not at school for
  ``COMPARISON_ABSENT_SCHOOL_DAYS`` recorded school days (through ``ledger.hooks``) →
  NOT_ATTENDING. The household list is the monthly four-way check (户、册、籍、人), so the
  checks of the county's own records ride on it.
- poverty: the list's 户类型 (``extra["key_group"]``, read by comparisons.sources: 脱贫户 →
  poverty_registered, 监测对象 → relapse_monitored) against the students' flags, both ways →
  POVERTY_FLAG; a school-age
  child on it with no 学籍 in school and no open ledger entry → POVERTY_NOT_IN_LEDGER.
- disability (残联): listed ⇔ ``disabled``, and the type and grade when the list gives them
  (``extra["disability_type"]``, ``extra["disability_grade"]``) → DISABILITY_FLAG.
- 学籍 look-up (xueji): the national status (``extra["status"]``) against ours, or an open
  ledger entry for a child the nation has 在读 → LEDGER_STATUS; a student on a roll here whom
  the nation has at a school outside the county (``extra["school_code"]``) with no transfer
  → ELSEWHERE_UNRECORDED.

Each mismatch names the township (the 户籍 township, else the school's) and the school that
must act. ``key`` (kind + the person: ID number, else name key and birth date) finds the same
disagreement in other runs; ``fingerprint`` hashes the values compared, so that a disposition
made on the same county, key and fingerprint carries over (``handled``) and one made on other
data does not. ``change`` and ``Run.changes`` compare with the previous finished run of the
county and kind. ``compare`` writes everything in one transaction at the end: a cancelled or
failed run leaves nothing behind, and running a run again gives the same mismatches (kept by
key, never doubled).
"""

import datetime
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, Func, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import jurisdiction
from accounts.choices import RegionLevel
from accounts.models import Region, School, current_school_year
from kongchuo import crypto, sealed
from kongchuo.replicas import reading
from ledger import consistency, hooks
from ledger.choices import OPEN_STATES
from ledger.models import LedgerEntry
from students import matching
from students.choices import (
    ENROLLED_STATUSES,
    DisabilityGrade,
    DisabilityType,
    KeyGroup,
    Status,
    TransferStatus,
)
from students.imports import copy_rows
from students.models import Guardian, Student, Transfer

from .choices import Change, MismatchKind, RunStatus, SourceKind, Strength
from .models import Mismatch, MismatchDisposition, Run, SourceRow

Step = Callable[[int, int], None]


class Cancelled(Exception):  # noqa: N818 - what happened, not an error
    """The run was asked to stop: nothing of it is written."""


BATCH = 5000
# Lists of this many rows get fresh planner statistics before they are matched.
ANALYZE_ABOVE = 10_000

# The flags a poverty list's 户类型 stands for (comparisons.sources stores the KeyGroup value).
POVERTY_FLAGS = (KeyGroup.POVERTY_REGISTERED.value, KeyGroup.RELAPSE_MONITORED.value)
_STUDENT_FIELDS = (
    "pk",
    "name",
    "id_number",
    "id_hash",
    "birth_date",
    "status",
    "school_id",
    "hukou_region_id",
    "poverty_registered",
    "relapse_monitored",
    "disabled",
    "disability_type",
    "disability_grade",
)
_ROW_FIELDS = (
    "pk",
    "id_number",
    "id_hash",
    "name",
    "name_key",
    "birth_date",
    "region_id",
    "guardian",
    "school_name",
    "extra",
)


def school_age_births(school_year: int) -> tuple[datetime.date, datetime.date]:
    """The birth dates of compulsory school age in ``school_year`` (DOMAIN.md §3): 6 by 31
    August of its first year, and not past the nine years — the cohorts of grades 1 to 9."""
    return datetime.date(school_year - 15, 9, 1), datetime.date(school_year - 6, 8, 31)


def absent_school_days() -> int:
    return settings.COMPARISON_ABSENT_SCHOOL_DAYS


def _hash(*parts) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Found:
    """One disagreement before it is stored."""

    kind: str
    name: str
    id_number: str
    birth_date: datetime.date | None
    compared: dict  # the values the fingerprint is made of
    details: dict
    strength: str = Strength.ID
    row_id: int | None = None
    student_id: int | None = None
    entry_id: int | None = None
    township_id: int | None = None
    school_id: int | None = None
    name_key: str = ""

    @property
    def key(self) -> str:
        # By the ID's keyed hash: a plain hash of an ID number can be reversed by trying them.
        who = crypto.lookup_hash(self.id_number) or (
            f"{self.name_key or matching.name_key(self.name)}|{self.birth_date}"
        )
        return _hash(self.kind, who)

    @property
    def fingerprint(self) -> str:
        return _hash(self.kind, self.compared)


class NameKey(Func):
    """``students.matching.name_key`` in SQL (PostgreSQL), to narrow the weak pass to the
    students whose name may match; the Python key decides."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        # The separators of matching.name_key, which owns them.
        separators = "".join(map(chr, matching._SEPARATORS))
        return f"upper(translate(normalize({sql}, NFKC), %s, ''))", [*params, separators]


class County:
    """What a run needs to know about its county: where each region and school sits."""

    def __init__(self, county: Region):
        self.region = county
        self.township_of: dict[int, int] = {}
        for pk, level, parent_id in Region.objects.filter(
            code__startswith=county.prefix, level__gte=RegionLevel.TOWNSHIP
        ).values_list("pk", "level", "parent_id"):
            self.township_of[pk] = pk if level == RegionLevel.TOWNSHIP else parent_id
        schools = School.objects.filter(township__code__startswith=county.prefix)
        self.school_township = dict(schools.values_list("pk", "township_id"))
        self.school_codes = set(schools.values_list("code", flat=True))
        self.school_names = {matching.name_key(n) for n in schools.values_list("name", flat=True)}

    def students(self) -> QuerySet[Student]:
        """The county's students, as ``jurisdiction.within`` places them (a school or a 户籍
        here), by the ids of its schools and regions: index look-ups, not a scan of the
        province's students joined to their schools and regions."""
        return Student.objects.filter(
            Q(school_id__in=list(self.school_township))
            | Q(hukou_region_id__in=[self.region.pk, *self.township_of])
        ).exclude(status=Status.MERGED)

    def entries(self) -> QuerySet[LedgerEntry]:
        return jurisdiction.within(self.region, LedgerEntry.objects.all())

    def place(self, *, region_id=None, school_id=None) -> dict:
        """The township and school that must act: the 户籍 township, else the school's."""
        school_id = school_id if school_id in self.school_township else None
        township = self.township_of.get(region_id) or self.school_township.get(school_id)
        return {"township_id": township, "school_id": school_id}

    def same_place(self, a: int | None, b: int | None) -> bool | None:
        """Whether two 户籍 regions agree: the same, or a village and its township (None: one
        is blank). Two villages, or two townships, that differ do not."""
        if a is None or b is None:
            return None
        if a == b:
            return True
        township = self.township_of.get(a)
        return township is not None and township == self.township_of.get(b) and township in (a, b)

    def place_student(self, student: dict) -> dict:
        return self.place(region_id=student["hukou_region_id"], school_id=student["school_id"])


# -- the queries --------------------------------------------------------------------------------


def _with_student(**filters) -> Exists:
    return Exists(Student.objects.filter(id_hash=OuterRef("id_hash"), **filters))


def _open_entry() -> Exists:
    return Exists(LedgerEntry.objects.filter(id_hash=OuterRef("id_hash"), state__in=OPEN_STATES))


def _school_age(rows: QuerySet[SourceRow]) -> QuerySet[SourceRow]:
    return rows.filter(birth_date__range=school_age_births(current_school_year()))


def _students_by_hash(hashes: Iterable[str | None]) -> dict[str, dict]:
    """The students of these ID look-up hashes, by hash."""
    hashes = [h for h in set(hashes) if h]
    found = {}
    for start in range(0, len(hashes), BATCH):
        for student in Student.objects.filter(id_hash__in=hashes[start : start + BATCH]).values(
            *_STUDENT_FIELDS
        ):
            found[student["id_hash"]] = student
    return found


def _row_details(row: dict) -> dict:
    details = {"名单姓名": row["name"]}
    if row["school_name"]:
        details["名单就读学校"] = row["school_name"]
    if row["guardian"]:
        details["名单监护人"] = row["guardian"]
    return details


def _from_row(kind: str, row: dict, place: dict, details: dict, **extra) -> Found:
    compared = {
        "id": row["id_hash"],
        "name": row["name_key"],
        "birth": row["birth_date"],
        "region": row["region_id"],
        "guardian": matching.name_key(row["guardian"]),
        "school": row["school_name"],
        **extra.pop("compared", {}),
    }
    return Found(
        kind=kind,
        name=row["name"],
        id_number=row["id_number"],
        birth_date=row["birth_date"],
        name_key=row["name_key"],
        compared=compared,
        details={**_row_details(row), **details},
        row_id=row["pk"],
        **place,
        **extra,
    )


def _from_student(kind: str, student: dict, county: County, details: dict, compared: dict):
    return Found(
        kind=kind,
        name=student["name"],
        id_number=student["id_number"] or "",
        birth_date=student["birth_date"],
        compared={"student": student["pk"], **compared},
        details=details,
        student_id=student["pk"],
        **county.place_student(student),
    )


# -- the weak pass ------------------------------------------------------------------------------


def weak_candidates(county: County, rows: QuerySet[SourceRow]) -> QuerySet[Student]:
    """The county's students no row of the list claims by ID number."""
    claimed = Exists(rows.filter(id_hash=OuterRef("id_hash")))
    return county.students().filter(Q(id_number__isnull=True) | ~claimed)


def weak_matches(
    rows: list[dict], candidates: QuerySet[Student], county: County
) -> dict[int, dict]:
    """{row pk: the student} for ``rows`` (not matched by ID) whose name key and birth date a
    student of ``candidates`` shares; among several, the one whose guardian or 户籍 village
    agrees with the row. A candidate whose guardian and village both disagree is none."""
    rows = [row for row in rows if row["birth_date"] and row["name_key"]]
    if not rows:
        return {}
    candidates = candidates.filter(birth_date__in={row["birth_date"] for row in rows})
    if connection.vendor == "postgresql":
        keys = {row["name_key"] for row in rows}
        candidates = candidates.annotate(key=NameKey(F("name"))).filter(key__in=keys)
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for student in candidates.values(*_STUDENT_FIELDS):
        by_key[(matching.name_key(student["name"]), student["birth_date"])].append(student)
    if not by_key:
        return {}
    guardians: dict[int, set[str]] = defaultdict(set)
    ids = [s["pk"] for group in by_key.values() for s in group]
    for student_id, name in Guardian.objects.filter(student_id__in=ids).values_list(
        "student_id", "name"
    ):
        guardians[student_id].add(matching.name_key(name))
    matched = {}
    for row in rows:
        scored = []
        for student in by_key.get((row["name_key"], row["birth_date"]), []):
            guardian = _agrees(matching.name_key(row["guardian"]), guardians[student["pk"]])
            village = county.same_place(row["region_id"], student["hukou_region_id"])
            if guardian is False and village is False:
                continue
            scored.append((-(guardian is True) - (village is True), student["pk"], student))
        if scored:
            matched[row["pk"]] = {**min(scored, key=lambda s: s[:2])[2], "_alike": len(scored)}
    return matched


def _agrees(value, known: set) -> bool | None:
    """Whether a row's value is among what the system knows (None: one side is blank)."""
    if not value or not known:
        return None
    return value in known


def _weak(found_rows: list[tuple[dict, str, dict]], county: County, rows: QuerySet[SourceRow]):
    """Mismatches from rows no student matched by ID: (row, kind, details) each, with a
    weak candidate named where there is one."""
    weak = weak_matches([row for row, _, _ in found_rows], weak_candidates(county, rows), county)
    found = []
    for row, kind, details in found_rows:
        student = weak.get(row["pk"])
        if student is None:
            place = county.place(region_id=row["region_id"])
            found.append(_from_row(kind, row, place, details, strength=Strength.NONE))
            continue
        details = {
            **details,
            "疑似同一人": f"{student['name']}（出生日期{student['birth_date']:%Y-%m-%d}，待确认）",
        }
        if student["_alike"] > 1:
            details["同名同生日学生"] = student["_alike"]
        found.append(
            _from_row(
                kind,
                row,
                county.place(region_id=row["region_id"], school_id=student["school_id"]),
                details,
                compared={"candidate": student["pk"]},
                strength=Strength.WEAK,
                student_id=student["pk"],
            )
        )
    return found


# -- the checks of each kind of list --------------------------------------------------------------


def _values(rows: QuerySet[SourceRow]) -> list[dict]:
    return list(rows.order_by("row").values(*_ROW_FIELDS))


def household_unenrolled(county: County, rows: QuerySet[SourceRow]) -> list[Found]:
    """School-age children in 户籍 here with no 学籍 anywhere in the system and no open
    ledger entry: NOT_ENROLLED, or ELSEWHERE_UNRECORDED when the row names a school that is
    not one of the county's (studying elsewhere, with no record of it here)."""
    unknown = _school_age(rows).filter(~_with_student(), ~_open_entry())
    found_rows = []
    for row in _values(unknown):
        school = row["school_name"]
        if school and matching.name_key(school) not in county.school_names:
            found_rows.append((row, MismatchKind.ELSEWHERE_UNRECORDED, {"系统": "无学籍记录"}))
        else:
            found_rows.append((row, MismatchKind.NOT_ENROLLED, {"系统": "无学籍记录"}))
    return _weak(found_rows, county, rows)


def ledger_status(county: County) -> list[Found]:
    """学籍 against the ledger over the county's records (人账相符, ledger.consistency)."""
    problems = consistency.find(county.students(), county.entries())
    students = {
        s["pk"]: s
        for s in Student.objects.filter(
            pk__in={p.student_id for p in problems if p.student_id}
        ).values(*_STUDENT_FIELDS)
    }
    entries = LedgerEntry.objects.in_bulk({p.entry_id for p in problems if p.entry_id})
    found = []
    for problem in problems:
        entry = entries.get(problem.entry_id)
        details = {"问题": problem.label}
        if entry is not None:
            details["台账状态"] = entry.get_state_display()
        compared = {"problem": problem.problem, "entry": problem.entry_id}
        student = students.get(problem.student_id)
        if student is not None:
            details["学籍状态"] = Status(student["status"]).label
            item = _from_student(
                MismatchKind.LEDGER_STATUS,
                student,
                county,
                details,
                compared | {"status": student["status"]},
            )
        else:
            item = Found(
                kind=MismatchKind.LEDGER_STATUS,
                name=entry.name,
                id_number=entry.id_number,
                birth_date=entry.birth_date,
                compared=compared,
                details=details,
                **county.place(region_id=entry.township_id, school_id=entry.school_id),
            )
        item.entry_id = problem.entry_id
        found.append(item)
    return found


def not_attending(county: County) -> list[Found]:
    """在籍不在校: on a roll here, not at school for N recorded school days, and not on the
    ledger already."""
    days = absent_school_days()
    on_roll = Student.objects.filter(
        school_id__in=list(county.school_township),
        status__in=ENROLLED_STATUSES,
        klass__isnull=False,
    )
    on_roll = on_roll.exclude(
        Exists(LedgerEntry.objects.filter(student=OuterRef("pk"), state__in=OPEN_STATES))
    )
    absent = hooks.not_attending(on_roll, days=days, as_of=timezone.localdate())
    found = []
    for student in Student.objects.filter(pk__in=list(absent)).values(*_STUDENT_FIELDS):
        since = absent[student["pk"]]
        details = {
            "学籍状态": Status(student["status"]).label,
            "考勤": f"自{since:%Y-%m-%d}起连续{days}个上学日未到校",
        }
        found.append(
            _from_student(MismatchKind.NOT_ATTENDING, student, county, details, {"since": since})
        )
    return found


def _groups(values: Iterable[str]) -> str:
    return "、".join(KeyGroup(value).label for value in values)


def poverty_flags(county: County, rows: QuerySet[SourceRow]) -> list[Found]:
    """The poverty list's 户类型 against the students' flags, both ways: a listed child not
    flagged, a flagged child (with an ID number) not listed as such."""
    listed = {
        flag: Exists(rows.filter(id_hash=OuterRef("id_hash"), extra__key_group=flag))
        for flag in POVERTY_FLAGS
    }
    disagree = Q()
    for flag in POVERTY_FLAGS:
        disagree |= Q(**{f"list_{flag}": True, flag: False})
        disagree |= Q(**{f"list_{flag}": False, flag: True})
    students = list(
        county.students()
        .filter(id_number__isnull=False)
        .annotate(**{f"list_{flag}": exists for flag, exists in listed.items()})
        .filter(disagree)
        .values(*_STUDENT_FIELDS, *(f"list_{flag}" for flag in POVERTY_FLAGS))
    )
    row_of = {}
    for row in _values(rows.filter(id_hash__in=[s["id_hash"] for s in students])):
        row_of.setdefault(row["id_hash"], row)
    found = []
    for student in students:
        says = [flag for flag in POVERTY_FLAGS if student[f"list_{flag}"]]
        flags = {
            flag: student[f"list_{flag}"]
            for flag in POVERTY_FLAGS
            if student[f"list_{flag}"] != student[flag]
        }
        row = row_of.get(student["id_hash"])
        details = {
            "名单": _groups(says) if says else "不在名单中",
            "系统": _groups(f for f in POVERTY_FLAGS if student[f]) or "未标记",
            "flags": flags,
        }
        item = _from_student(MismatchKind.POVERTY_FLAG, student, county, details, {"flags": flags})
        item.row_id = row["pk"] if row else None
        found.append(item)
    return found


def poverty_out_of_school(county: County, rows: QuerySet[SourceRow]) -> list[Found]:
    """School-age children of the poverty list with no 学籍 in school and no open ledger
    entry (三统一): POVERTY_NOT_IN_LEDGER."""
    out = _school_age(rows).filter(~_with_student(status__in=ENROLLED_STATUSES), ~_open_entry())
    out = _values(out)
    known = _students_by_hash(row["id_hash"] for row in out)
    found, unknown = [], []
    for row in out:
        group = row["extra"].get("key_group")
        details = {"名单": _groups([group]) if group in POVERTY_FLAGS else "脱贫家庭"}
        student = known.get(row["id_hash"])
        if student is None:
            unknown.append(
                (row, MismatchKind.POVERTY_NOT_IN_LEDGER, details | {"系统": "无学籍记录"})
            )
            continue
        details["学籍状态"] = Status(student["status"]).label
        found.append(
            _from_row(
                MismatchKind.POVERTY_NOT_IN_LEDGER,
                row,
                county.place_student(student),
                details,
                compared={"status": student["status"]},
                student_id=student["pk"],
            )
        )
    return found + _weak(unknown, county, rows)


def _disability(kind: str, grade: int | None) -> str:
    type_label = DisabilityType(kind).label if kind else "残疾"
    return f"{type_label} {DisabilityGrade(grade).label}" if grade else type_label


def disability_flags(county: County, rows: QuerySet[SourceRow]) -> list[Found]:
    """The 残联 list against the students' disability: listed but not disabled, disabled
    (with an ID number) but not listed, or another type or grade than the list gives
    (comparisons.sources stores the DisabilityType and DisabilityGrade values)."""
    listed = Exists(rows.filter(id_hash=OuterRef("id_hash")))
    students = list(
        county.students()
        .filter(id_number__isnull=False)
        .annotate(listed=listed)
        .filter(Q(listed=True) | Q(disabled=True))
        .values(*_STUDENT_FIELDS, "listed")
    )
    on_list = [s["id_hash"] for s in students if s["listed"]]
    row_of = {}
    for row in _values(rows.filter(id_hash__in=on_list)):
        row_of.setdefault(row["id_hash"], row)
    found = []
    for student in students:
        row = row_of.get(student["id_hash"])
        compared = {"flags": {}}
        if bool(row) != student["disabled"]:
            compared["flags"] = {KeyGroup.DISABLED.value: bool(row)}
        kind = row["extra"].get("disability_type", "") if row else ""
        grade = row["extra"].get("disability_grade") if row else None
        if kind and kind != student["disability_type"]:
            compared["disability_type"] = kind
        if grade and grade != student["disability_grade"]:
            compared["disability_grade"] = grade
        if compared == {"flags": {}}:
            continue
        details = {
            "名单": _disability(kind, grade) if row else "不在残联名单中",
            "系统": _disability(student["disability_type"], student["disability_grade"])
            if student["disabled"]
            else "未标记残疾",
            **compared,
        }
        item = _from_student(MismatchKind.DISABILITY_FLAG, student, county, details, compared)
        item.row_id = row["pk"] if row else None
        found.append(item)
    return found


def _national(row: dict) -> str:
    """The 学籍 status the national look-up gives (a students.choices.Status value)."""
    status = row["extra"].get("status", "")
    return status if status in Status.values else ""


def xueji_status(county: County, rows: QuerySet[SourceRow]) -> list[Found]:
    """The national 学籍 look-up against ours: another status, a school outside the county
    for a student on a roll here (no transfer recorded), or an open ledger entry for a child
    the nation has 在读."""
    ours = county.students()
    matched = _values(rows.filter(Exists(ours.filter(id_hash=OuterRef("id_hash")))))
    students = _students_by_hash(row["id_hash"] for row in matched)
    transferring = set(
        Transfer.objects.filter(student_id__in=[s["pk"] for s in students.values()])
        .exclude(status=TransferStatus.REJECTED)
        .values_list("student_id", flat=True)
    )
    found = []
    for row in matched:
        student = students[row["id_hash"]]
        national = _national(row)
        code = str(row["extra"].get("school_code", "")).strip()
        details = {
            "全国学籍状态": Status(national).label if national else "",
            "本系统学籍状态": Status(student["status"]).label,
        }
        compared = {"national": national, "code": code, "status": student["status"]}
        place = county.place_student(student)
        if (
            student["status"] in ENROLLED_STATUSES
            and code
            and code not in county.school_codes
            and student["pk"] not in transferring
        ):
            details["全国学籍学校"] = row["school_name"] or code
            kind = MismatchKind.ELSEWHERE_UNRECORDED
        elif national and national != student["status"]:
            kind = MismatchKind.LEDGER_STATUS
        else:
            continue
        found.append(
            _from_row(kind, row, place, details, compared=compared, student_id=student["pk"])
        )
    entries = {
        e.id_hash: e
        for e in county.entries().filter(
            state__in=OPEN_STATES,
            id_hash__in=rows.filter(~Exists(ours.filter(id_hash=OuterRef("id_hash")))).values(
                "id_hash"
            ),
        )
    }
    for row in _values(rows.filter(id_hash__in=list(entries))):
        national = _national(row)
        if national not in ENROLLED_STATUSES:
            continue
        entry = entries[row["id_hash"]]
        details = {"全国学籍状态": Status(national).label, "台账状态": entry.get_state_display()}
        found.append(
            _from_row(
                MismatchKind.LEDGER_STATUS,
                row,
                county.place(region_id=entry.township_id, school_id=entry.school_id),
                details,
                compared={"national": national, "entry": entry.pk, "state": entry.state},
                entry_id=entry.pk,
            )
        )
    return found


def steps(kind: str) -> list[Callable[[County, QuerySet[SourceRow]], list[Found]]]:
    """The checks a list of ``kind`` runs, in order (progress counts them)."""
    return {
        SourceKind.HOUSEHOLD: [
            household_unenrolled,
            lambda county, rows: ledger_status(county),
            lambda county, rows: not_attending(county),
        ],
        SourceKind.POVERTY: [poverty_flags, poverty_out_of_school],
        SourceKind.DISABILITY: [disability_flags],
        SourceKind.XUEJI: [xueji_status],
    }[kind]


# -- the run ------------------------------------------------------------------------------------


def previous_run(run: Run) -> Run | None:
    return (
        Run.objects.filter(
            county_id=run.county_id,
            kind=run.kind,
            status=RunStatus.DONE,
            created_at__lte=run.created_at,
        )
        .exclude(pk=run.pk)
        .order_by("-created_at", "-id")
        .first()
    )


def refresh_statistics(row_count: int) -> None:
    """Fresh planner statistics after a big list was staged (PostgreSQL): without them the
    planner takes the new list's rows for a handful and probes row by row instead of one
    hash join (17 s instead of 0.9 s for the ID anti-join of a million rows). Sampling costs
    a fraction of a second; autovacuum would come too late for the queries right after."""
    if connection.vendor == "postgresql" and row_count >= ANALYZE_ABOVE:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(SourceRow._meta.db_table)}")


@reading()
def find(run: Run, *, step: Step | None = None) -> list[Found]:
    """Every disagreement of ``run``'s list, one per key (the first found wins)."""
    refresh_statistics(run.source.row_count)
    county = County(run.county)
    rows = SourceRow.objects.filter(source_id=run.source_id)
    checks = steps(run.kind)
    found: dict[str, Found] = {}
    for done, check in enumerate(checks, start=1):
        for item in check(county, rows):
            found.setdefault(item.key, item)
        if step is not None:
            step(done, len(checks) + 1)
    return list(found.values())


def compare(run: Run, *, step: Step | None = None) -> Run:
    """Do ``run``: find the mismatches and store them, with what changed since the previous
    run and the dispositions that still hold, in one transaction. ``step(done, total)`` is
    called after each check; it may raise ``Cancelled`` to stop the run, and then nothing is
    written."""
    found = find(run, step=step)
    with transaction.atomic():
        # Under the run's lock: a cancellation committed before the write stops it, one
        # asked for during the write finds the run finished.
        if Run.objects.select_for_update().filter(pk=run.pk, cancel_requested=True).exists():
            raise Cancelled
        previous = previous_run(run)
        _store(run, found, previous)
    return run


def _store(run: Run, found: list[Found], previous: Run | None) -> None:
    before = (
        dict(previous.mismatches.values_list("key", "fingerprint")) if previous is not None else {}
    )
    # A county's dispositions are few beside its mismatches: read them all.
    handled = {}
    for key, fingerprint, pk in (
        MismatchDisposition.objects.filter(county_id=run.county_id)
        .order_by("at", "id")
        .values_list("key", "fingerprint", "pk")
    ):
        handled[(key, fingerprint)] = pk  # the latest one wins
    existing = dict(run.mismatches.values_list("key", "pk"))
    changes = Counter()
    rows = []  # each mismatch's columns (attnames), written without model instances
    for item in found:
        key, fingerprint = item.key, item.fingerprint
        if key not in before:
            change = Change.NEW
        elif before[key] == fingerprint:
            change = Change.SAME
        else:
            change = Change.CHANGED
        changes[change] += 1
        rows.append(
            {
                "id": existing.get(key),
                "run_id": run.pk,
                "county_id": run.county_id,
                "kind": item.kind,
                "key": key,
                "fingerprint": fingerprint,
                "strength": item.strength,
                "change": change,
                "source_row_id": item.row_id,
                "student_id": item.student_id,
                "entry_id": item.entry_id,
                "township_id": item.township_id,
                "school_id": item.school_id,
                "name": item.name[:50],
                "id_number": item.id_number,
                "birth_date": item.birth_date,
                "details": item.details,
                "handled_id": handled.get((key, fingerprint)),
            }
        )
    keys = {row["key"] for row in rows}
    if existing:  # the run is run again: the same mismatches keep their rows
        gone = [pk for key, pk in existing.items() if key not in keys]
        Mismatch.objects.filter(pk__in=gone).delete()
        kept = [Mismatch(**row) for row in rows if row["id"]]
        for mismatch in kept:
            sealed.refresh_derived(mismatch)
        Mismatch.objects.bulk_update(kept, _UPDATED_FIELDS, batch_size=BATCH)
    _insert([row for row in rows if not row["id"]])
    run.previous = previous
    run.counts = dict(sorted(Counter(row["kind"] for row in rows).items()))
    run.changes = {
        "new": changes[Change.NEW],
        "same": changes[Change.SAME],
        "changed": changes[Change.CHANGED],
        "gone": len(set(before) - keys),
    }
    run.status = RunStatus.DONE
    run.done = run.total = len(steps(run.kind)) + 1
    run.finished_at = timezone.now()
    run.message = f"比对完成：发现{len(rows)}条不一致。" if rows else "比对完成：没有发现不一致。"
    run.save(
        update_fields=[
            "previous",
            "counts",
            "changes",
            "status",
            "done",
            "total",
            "finished_at",
            "message",
        ]
    )


def _insert(rows: list[dict]) -> None:
    """New mismatches in one COPY on PostgreSQL (a province's list finds tens of thousands),
    by INSERTs elsewhere."""
    if connection.vendor != "postgresql":
        Mismatch.objects.bulk_create((Mismatch(**row) for row in rows), batch_size=BATCH)
        return
    copy_rows(Mismatch, rows)


_UPDATED_FIELDS = [
    f.name
    for f in Mismatch._meta.concrete_fields
    if f.name not in ("id", "run", "county", "key", "kind")
]
