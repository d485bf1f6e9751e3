"""Ledger fixtures: a child of county A's first school, the people who handle them, and the
way to bring an entry into any state of the machine through the services."""

import datetime

import pytest

from accounts.choices import AuditAction, Role
from accounts.models import AuditEvent, Region, School, SchoolClass
from ledger import services
from ledger.choices import ClosureReason, EntryKind, Reason, Source, State, Whereabouts
from ledger.models import LedgerEntry
from ledger.services import EntryData
from students import services as student_services
from students.choices import Gender
from students.models import EnrollmentEvent, Student, Term
from tests.students.factories import id_number, student_data

# One account of every role, all inside county A and able to see the child of ``child``.
ROLE_USERS = {
    Role.CLASS_TEACHER: "xz1_xx1_banzhuren",
    Role.SCHOOL_STAFF: "xz1_xx1_guanli",
    Role.PRINCIPAL: "xz1_xx1_xiaozhang",
    Role.TOWNSHIP_OFFICIAL: "xz1_ganbu",
    Role.VILLAGE_CADRE: "xz1_cungan",
    Role.COUNTY_STAFF: "xian_staff",
    Role.COUNTY_ADMIN: "xian_admin",
    Role.CITY_SUPERVISOR: "shi_dudao",
    Role.PROVINCE_SUPERVISOR: "sheng_dudao",
    Role.API_CLIENT: "api_xian",
}
SCHOOL_USER = "xz1_xx1_guanli"
COUNTY_USER = "xian_staff"
APPROVER = "xian_admin"


def school_of(world, username: str) -> School:
    return world.user(username).school


def township(world, username: str = "xz1_ganbu") -> Region:
    """The township of a township official's account."""
    return world.user(username).region


def head_class(world) -> SchoolClass:
    return SchoolClass.objects.get(head_teacher=world.user("xz1_xx1_banzhuren"))


def make_student(world, username=SCHOOL_USER, **overrides) -> Student:
    user = world.user(username)
    return student_services.student_create(by=user, data=student_data(user.school, **overrides))


def entry_data(student=None, **overrides) -> EntryData:
    values = {
        "kind": EntryKind.SUSPECTED,
        "source": Source.SCHOOL_REPORT,
        "reason": Reason.LEARNING,
        "whereabouts": Whereabouts.AT_HOME,
        "student": student,
    }
    values.update(overrides)
    return EntryData(**values)


def unenrolled_data(world, **overrides) -> EntryData:
    """A 未入学 child with no student record, 户籍 in county A's first township."""
    birth = datetime.date(2019, 5, 2)
    values = {
        "kind": EntryKind.NOT_ENROLLED,
        "name": "王小芳",
        "gender": Gender.FEMALE,
        "birth_date": birth,
        "id_number": id_number(birth, "F", "532926"),
        "hukou_region": township(world),
        "record_check": "none",
        "person_status": "在家帮忙务农",
        "family_situation": "父母外出务工，随祖父母生活",
        "parent_contact": "13812345678",
        "department_opinion": "村委会建议尽快入学",
    }
    values.update(overrides)
    return entry_data(**values)


def create_entry(world, student=None, username=SCHOOL_USER, **overrides) -> LedgerEntry:
    return services.entry_create(by=world.user(username), data=entry_data(student, **overrides))


def add_term(owner: Region | School, start: datetime.date, end: datetime.date, name="") -> Term:
    """A term of a county's default calendar (a county Region) or of a school's own, written
    directly: the calendar's services are tested in tests/students."""
    owner_field = "school" if isinstance(owner, School) else "county"
    return Term.objects.create(
        **{owner_field: owner}, start=start, end=end, name=name or f"{start:%Y-%m-%d}起学期"
    )


def fresh(entry: LedgerEntry) -> LedgerEntry:
    return LedgerEntry.objects.select_related("student").get(pk=entry.pk)


# -- driving an entry through the machine ------------------------------------------------------


def _confirm(world, entry):
    return services.entry_confirm(by=world.user(SCHOOL_USER), entry=entry, note="家访核实")


def _exclude(world, entry):
    return services.entry_exclude(by=world.user(SCHOOL_USER), entry=entry, note="病假，已返校")


def _assign(world, entry):
    return services.entry_assign(
        by=world.user(COUNTY_USER), entry=entry, township=township(world), note="包保责任人"
    )


def _return(world, entry):
    return services.entry_return(by=world.user(SCHOOL_USER), entry=entry, note="已回原班就读")


def _propose(world, entry):
    return services.entry_propose_closure(
        by=world.user(SCHOOL_USER),
        entry=entry,
        reason=ClosureReason.STUDYING_ELSEWHERE,
        evidence_text="外省学校出具的在读证明",
    )


def _approve(world, entry):
    return services.entry_approve(by=world.user(APPROVER), entry=entry, comment="同意")


# From 待核实, the services each state is reached by.
ROUTES = {
    State.PENDING: (),
    State.EXCLUDED: (_exclude,),
    State.CONFIRMED: (_confirm,),
    State.PERSUADING: (_confirm, _assign),
    State.RETURNED: (_confirm, _assign, _return),
    State.PROPOSED: (_confirm, _assign, _propose),
    State.CLOSED: (_confirm, _assign, _propose, _approve),
}


def entry_in(world, state: State, student: Student) -> LedgerEntry:
    """An entry for ``student`` brought to ``state`` through the services."""
    entry = create_entry(world, student)
    for step in ROUTES[state]:
        entry = step(world, entry)
    assert entry.state == state
    return fresh(entry)


def footprint(entry: LedgerEntry) -> tuple:
    """Everything an action could change: the entry, its timeline, the child's 学籍, the
    audit trail. A refused action leaves it as it was."""
    row = LedgerEntry.objects.values().get(pk=entry.pk)
    row.pop("updated_at")
    student = (
        Student.objects.values_list("status", flat=True).get(pk=row["student_id"])
        if row["student_id"]
        else None
    )
    return (
        row,
        list(entry.events.values_list("pk", flat=True)),
        student,
        EnrollmentEvent.objects.filter(student_id=row["student_id"]).count(),
        # Views are logged (who viewed a child): a refused write changes nothing else.
        AuditEvent.objects.exclude(action=AuditAction.VIEW).count(),
    )


@pytest.fixture
def child(world) -> Student:
    """A first-grader of county A's first 中心校, in the class teacher's class."""
    return make_student(world, grade=1, klass=head_class(world))
