"""The jurisdiction matrix: every endpoint that shows or changes one record, with how to
find an in-area and an out-of-area record for it. Later issues add their records here with
one line each; tests/accounts/test_matrix.py runs every entry for every role.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from accounts.choices import Role
from accounts.models import Job, Notification, Region, School, SchoolClass, User
from ledger.choices import Action
from ledger.transitions import COUNTY, SCHOOL, TOWNSHIP, TRANSITIONS
from returns.choices import Action as CaseAction
from returns.transitions import TRANSITIONS as CASE_TRANSITIONS

COUNTY_A, COUNTY_B = "532926", "530102"


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str  # formatted with the record's pk
    pick: Callable[[str], object]  # county code prefix → a record in that county
    method: str = "get"
    # Roles that may use the endpoint on an in-area record (others: 403 or 404, never 200).
    allowed: frozenset[str] | None = None  # None: everyone who can see the record
    # The body a POST, PATCH or PUT sends for the record, one an allowed role gets a 200 or
    # 302 with.
    body: Callable[[object], dict] | None = None  # None: {"active": "0"}
    # A write's effect, read back from the database: true once an allowed role's request did
    # what it says, false after every refused one (a 302 back to the page is not "done").
    done: Callable[[object], bool] | None = None
    # What a request for another county's record answers: 404, except where the URL names a
    # natural key (a sync client's PUT of someone else's child is a refused create, 400).
    outside: int = 404
    # A 劝返 case's record: whether the team member of another township (an official of the
    # county's second township, on the case's team: team_member()) may use the endpoint
    # (True: as an allowed role; False: 403). None: not a record of such a case. ``pick``
    # then takes ``team=False`` for the same record of a case without that member (404).
    team_member: bool | None = None


def _school(prefix):
    return (
        School.objects.filter(township__code__startswith=prefix, parent__isnull=True)
        .order_by("code")
        .first()
    )


def _class(prefix):
    return (
        SchoolClass.objects.filter(school__township__code__startswith=prefix)
        .exclude(head_teacher=None)
        .order_by("pk")
        .first()
    )


def _township(prefix):
    return Region.objects.filter(code__startswith=prefix, level=4).order_by("code").first()


def _account(prefix):
    return (
        User.objects.filter(school__township__code__startswith=prefix, role="class_teacher")
        .order_by("pk")
        .first()
    )


def _finished_job(prefix):
    """A finished export requested by the county administrator (jobs are owner-only)."""
    from accounts import jobs

    admin = User.objects.get(role="county_admin", region__code=prefix)
    job = jobs.job_start(by=admin, kind="account_export")
    jobs.job_run(job.pk)
    return Job.objects.get(pk=job.pk)


def _staff(school):
    return User.objects.filter(school=school, role="school_staff").first()


def _student(prefix):
    """A student of the county's first 中心校, created by that school's staff."""
    from students.services import student_create
    from tests.students.factories import student_data

    school = _school(prefix)
    return student_create(by=_staff(school), data=student_data(school))


def _transfer(prefix):
    """A pending transfer into the county's first 中心校 from another school of the county."""
    from students.choices import EventKind
    from students.services import event_record, student_create
    from tests.students.factories import student_data

    target = _school(prefix)
    origin = (
        School.objects.filter(township__code__startswith=prefix, parent__isnull=True)
        .exclude(pk=target.pk)
        .order_by("code")
        .first()
    )
    staff = _staff(origin)
    student = student_create(by=staff, data=student_data(origin))
    return event_record(
        by=staff,
        student=student,
        kind=EventKind.TRANSFER_OUT,
        date=datetime.date.today(),
        reason="迁居",
        to_school=target,
    )


def _student_with_number(prefix):
    """A student with a 学籍号 (found by natural key), created like _student."""
    from students.services import student_create
    from tests.students.factories import student_data

    school = _school(prefix)
    data = student_data(school)
    data.student_number = f"G{data.id_number}"
    return student_create(by=_staff(school), data=data)


# Ledger entries: reported by the staff of the county's first 中心校 for a new student, and
# taken through the services to the state an action starts from.


def _pending_entry(prefix):
    from ledger.services import EntryData, entry_create

    data = EntryData(
        kind="suspected",
        source="school_report",
        reason="learning",
        whereabouts="at_home",
        student=_student(prefix),
    )
    return entry_create(by=_staff(_school(prefix)), data=data)


def _confirmed_entry(prefix):
    from ledger.services import entry_confirm

    return entry_confirm(by=_staff(_school(prefix)), entry=_pending_entry(prefix))


def _excluded_entry(prefix):
    from ledger.services import entry_exclude

    return entry_exclude(by=_staff(_school(prefix)), entry=_pending_entry(prefix), note="病假")


def _proposal(prefix, **evidence):
    from ledger.services import entry_propose_closure

    return entry_propose_closure(
        by=_staff(_school(prefix)), entry=_confirmed_entry(prefix), reason="error", **evidence
    )


def _proposed_entry(prefix):
    """Proposed by the school, so that every county account may decide on it (nobody
    approves their own proposal)."""
    return _proposal(prefix, evidence_text="重复登记")


def _evidence_event(prefix):
    """The timeline line of a closure proposal that came with an evidence file."""
    from django.core.files.base import ContentFile

    entry = _proposal(prefix, evidence_file=ContentFile(b"%PDF-1.4", name="evidence.pdf"))
    return entry.events.get(action="propose")


# The entry each action page is tried on: one in a state the action starts from.
_ACTION_ENTRIES = {
    Action.EXCLUDE: _pending_entry,
    Action.CONFIRM: _pending_entry,
    Action.ASSIGN: _confirmed_entry,
    Action.RETURN: _confirmed_entry,
    Action.PROPOSE: _confirmed_entry,
    Action.APPROVE: _proposed_entry,
    Action.REJECT: _proposed_entry,
    Action.REOPEN: _excluded_entry,
    Action.REVIEW: _pending_entry,
    Action.UPDATE: _pending_entry,
}


def _may(*actions) -> frozenset[str]:
    """The roles ledger.transitions lets take any of ``actions``, as role values."""
    return frozenset(role.value for action in actions for role in TRANSITIONS[action].roles)


def _note(entry):
    return {"note": "已核实"}


def _comment(entry):
    return {"comment": "证明不足"}


def _same_township(entry):
    return {"township": entry.township_id}


def _closure(entry):
    return {"closure_reason": "error", "evidence_text": "重复登记"}


def _confirm_outcome(entry):
    return {"outcome": "confirm"}


def _took(*actions: Action):
    """Whether the entry's timeline shows one of ``actions``: the action was taken."""
    return lambda entry: entry.events.filter(action__in=actions).exists()


def _ledger_api(path: str, pick, body, *actions: Action) -> Endpoint:
    """A POST action of the ledger API, for the roles that may take ``actions``."""
    return Endpoint(
        f"ledger {path} API",
        f"/api/v1/ledger-entries/{{pk}}/{path}/",
        pick,
        method="post",
        allowed=_may(*actions),
        body=body,
        done=_took(*actions),
    )


# The body each action page's form posts.
_PAGE_BODIES = {
    Action.EXCLUDE: _note,
    Action.CONFIRM: _note,
    Action.ASSIGN: lambda entry: {"township": entry.township.code},
    Action.RETURN: _note,
    Action.PROPOSE: _closure,
    Action.APPROVE: _comment,
    Action.REJECT: _comment,
    Action.REOPEN: _note,
    Action.REVIEW: _note,
    Action.UPDATE: lambda entry: {"reason": "poverty", "whereabouts": "working", "note": "已更新"},
}


def _county_term(prefix):
    """A term of the county's default calendar, set by the county administrator."""
    from students.calendar import term_save

    return term_save(
        by=User.objects.get(role="county_admin", region__code=prefix),
        owner=Region.objects.get(code=prefix),
        name="2026-2027学年第一学期",
        start=datetime.date(2026, 9, 1),
        end=datetime.date(2027, 1, 20),
    )


def _school_day(prefix):
    """A holiday in the own calendar of the county's first 中心校, set by its staff."""
    from students.calendar import day_set

    school = _school(prefix)
    return day_set(by=_staff(school), owner=school, date=datetime.date(2026, 9, 8), kind="holiday")


def _notification(prefix):
    """A notification for the county administrator (notifications are owner-only)."""
    from accounts.notifications import notify

    admin = User.objects.get(role="county_admin", region__code=prefix)
    notify([admin], kind="general", title="核查提醒", link="/students/")
    return Notification.objects.filter(recipient=admin).latest("pk")


def _roll_call(prefix):
    """The roll of _class's class for a Monday of the county's default term, taken by the
    principal of its school (the day is past the class teacher's cut-off)."""
    from attendance.services import submit

    _county_term(prefix)
    klass = _class(prefix)
    principal = User.objects.get(role="principal", school=klass.school)
    return submit(by=principal, klass=klass, day=datetime.date(2026, 10, 12), marks=[]).roll


class NaturalKeyURL(str):
    """A URL that addresses a record by a natural key (身份证号, 学籍号) instead of its pk.

    test_matrix formats every URL with ``pk=record.pk``; this one puts ``field`` of the
    record with that pk in its place. A pk with no record stays as it is, so the routed-URL
    coverage check (which formats with pk=1 on an empty database) still matches the pattern.
    """

    def __new__(cls, template: str, *, model: str, field: str):
        url = super().__new__(cls, template)
        url.model, url.field = model, field
        return url

    def format(self, *args, **kwargs):
        from django.apps import apps

        pk = kwargs["pk"]
        manager = apps.get_model(self.model)._default_manager
        key = manager.filter(pk=pk).values_list(self.field, flat=True).first()
        return str.format(self, pk=key or pk)


class DatedURL(str):
    """A URL that addresses a record's day: ``{pk}`` then ``{day}``, today's date.

    test_matrix formats every URL with ``pk=record.pk`` only. The routed-URL coverage check
    samples every URL argument as 1 (on an empty database): with no record of that pk the
    day is 1 too, as NaturalKeyURL leaves such a pk as it is.
    """

    def __new__(cls, template: str, *, model: str):
        url = super().__new__(cls, template)
        url.model = model
        return url

    def format(self, *args, **kwargs):
        from django.apps import apps
        from django.utils import timezone

        pk = kwargs["pk"]
        found = apps.get_model(self.model)._default_manager.filter(pk=pk).exists()
        day = timezone.localdate().isoformat() if found else pk
        return str.format(self, pk=pk, day=day)


class TwoPartURL(str):
    """A URL that names a second part beside the record's pk: ``{pk}`` and ``{other}``, the
    value ``other(record)`` of the record with that pk (a stored document's case, the kind of
    document a case prints). With no record of that pk (the routed-URL coverage check formats
    pk=1 on an empty database) ``{other}`` is the pk too, as NaturalKeyURL leaves it."""

    def __new__(cls, template: str, *, model: str, other: Callable[[object], object]):
        url = super().__new__(cls, template)
        url.model, url.other = model, other
        return url

    def format(self, *args, **kwargs):
        from django.apps import apps

        pk = kwargs["pk"]
        record = apps.get_model(self.model)._default_manager.filter(pk=pk).first()
        return str.format(self, pk=pk, other=self.other(record) if record else pk)


# 劝返 cases (issue 12): opened by the county's staff for a confirmed dropout of its first 中心校
# (户籍 and school in the county's first township), signed for by that township's official,
# with the official of the county's second township on the team — "a team member of another
# township" — unless ``team=False``.


def _townships(prefix) -> list[Region]:
    return list(Region.objects.filter(code__startswith=prefix, level=4).order_by("code"))


def _official(township) -> User:
    return User.objects.filter(role="township_official", region=township).order_by("pk").first()


def team_member(prefix) -> User:
    """The official of the county's second township, on the team of the county's cases."""
    return _official(_townships(prefix)[1])


def _instructed_case(prefix, *, team=True):
    """Just instructed: nobody but the township can be on a team yet (``team`` unused)."""
    from returns.services import case_open

    county_staff = User.objects.get(role="county_staff", region__code=prefix)
    return case_open(by=county_staff, entry=_confirmed_entry(prefix))


def _working_case(prefix, *, team=True):
    from returns.services import case_acknowledge, member_add

    case = _instructed_case(prefix)
    official = _official(case.township)
    case = case_acknowledge(by=official, case=case)
    if team:
        member_add(by=official, case=case, user=team_member(prefix), duty="cadre")
    return _fresh(case)


def _visit(case, **values):
    from returns.services import action_record

    return action_record(
        by=_official(case.township),
        case=case,
        date=datetime.date.today(),
        result="监护人同意送孩子返校",
        **{"method": "visit", **values},
    )


def _deferrable_case(prefix, *, team=True):
    """Working, with the three 联合劝返 that allow 延缓入学 (RETURNS_DEFER_JOINT_ACTIONS)."""
    case = _working_case(prefix, team=team)
    for _ in range(3):
        _visit(case, method="joint", departments=["police"])
    return _fresh(case)


def _returned_case(prefix, *, team=True):
    from returns.services import case_return

    case = _working_case(prefix, team=team)
    return case_return(by=_official(case.township), case=case, placement="regular")


def _case_attachment(prefix, *, team=True):
    """The PDF of a home visit on a working case."""
    from django.core.files.base import ContentFile

    case = _working_case(prefix, team=team)
    action = _visit(case, attachments=[ContentFile(b"%PDF-1.4 visit", name="visit.pdf")])
    return action.attachments.get()


def _case_document(prefix, *, team=True):
    """A 辍学学生基本情况调查表 printed by the township official."""
    from returns.documents import generate

    case = _working_case(prefix, team=team)
    return generate(by=_official(case.township), case=case, kind="survey")


# The case each action is tried on: one in a state the action starts from.
_CASE_PICKS = {
    CaseAction.ACKNOWLEDGE: _instructed_case,
    CaseAction.REASSIGN: _working_case,
    CaseAction.NOTICE: _working_case,
    CaseAction.TEAM: _working_case,
    CaseAction.PLAN: _working_case,
    CaseAction.ACTION: _working_case,
    CaseAction.STEP: _working_case,
    CaseAction.RETURN: _working_case,
    CaseAction.DEFER: _deferrable_case,
    CaseAction.CLOSE: _returned_case,
}


def _case_may(action: CaseAction) -> frozenset[str]:
    """The roles returns.transitions lets take ``action`` on a township's case among those
    who work it (the township's accounts; the county only where it need not work the case)."""
    transition = CASE_TRANSITIONS[action]
    roles = transition.roles & TOWNSHIP if transition.workers else transition.roles
    return frozenset(role.value for role in roles)


def _member_may(action: CaseAction) -> bool:
    """Whether the team member (a township official) takes ``action``: what those who work
    the case do, except signing for the instruction and registering the return (it moves the
    ledger entry, which the ledger's 劝返主体 does), both the responsible township's."""
    transition = CASE_TRANSITIONS[action]
    return (
        transition.workers
        and Role.TOWNSHIP_OFFICIAL in transition.roles
        and action not in (CaseAction.ACKNOWLEDGE, CaseAction.RETURN)
    )


# Printing a case's documents (returns.permissions.DOCUMENT): the county, and those who work it.
CASE_PRINTERS = frozenset(role.value for role in COUNTY | TOWNSHIP)
FUTURE = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()


def _other_township(case):
    return next(t for t in _townships(case.county.prefix) if t.pk != case.township_id)


def _other_county_township(case):
    return Region.objects.filter(level=4).exclude(code__startswith=case.county.prefix).first()


def _team_with_cadre(case) -> list:
    """The team as it is, plus the township's village cadre."""
    cadre = User.objects.filter(role="village_cadre", region__code__startswith=case.township.code)
    return [*case.members.values_list("user_id", flat=True), cadre.order_by("pk").first().pk]


def _cadre_joined(case) -> bool:
    return case.members.filter(user__role="village_cadre").exists()


# The body each case action's API endpoint (multipart, as the matrix posts) and page form take.
_CASE_API_BODIES = {
    CaseAction.ACKNOWLEDGE: lambda case: {"note": "已签收"},
    CaseAction.REASSIGN: lambda case: {"township": _other_township(case).pk, "reason": "已迁居"},
    CaseAction.NOTICE: lambda case: {
        "region": _other_county_township(case).pk,
        "text": "请协助核实该生在贵地的就学情况",
    },
    CaseAction.TEAM: lambda case: {
        f"members[{n}]user": pk for n, pk in enumerate(_team_with_cadre(case))
    },
    CaseAction.PLAN: lambda case: {"cause": "厌学", "measures": "每周家访", "help": "learning"},
    CaseAction.ACTION: lambda case: {
        "date": datetime.date.today().isoformat(),
        "method": "visit",
        "result": "监护人同意送孩子返校",
    },
    CaseAction.STEP: lambda case: {"step": 2, "step_deadline": FUTURE},
    CaseAction.RETURN: lambda case: {"placement": "regular"},
    CaseAction.DEFER: lambda case: {"reason": "监护人仍拒绝送学"},
    CaseAction.CLOSE: lambda case: {"note": "跟踪期内正常上学"},
}
_CASE_PAGE_BODIES = {
    **_CASE_API_BODIES,
    CaseAction.REASSIGN: lambda case: {"township": _other_township(case).code, "reason": "已迁居"},
    CaseAction.NOTICE: lambda case: {
        "region": _other_county_township(case).code,
        "text": "请协助核实该生在贵地的就学情况",
    },
    CaseAction.TEAM: lambda case: {"members": _team_with_cadre(case), "usernames": ""},
    CaseAction.STEP: lambda case: {"step": "2", "step_deadline": FUTURE, "reason": ""},
    CaseAction.RETURN: lambda case: {
        "placement": "regular",
        "school": case.school.code,
        "returned_on": datetime.date.today().isoformat(),
    },
}
_CASE_DONE = {CaseAction.TEAM: _cadre_joined}


def _case_took(action: CaseAction):
    if action in _CASE_DONE:
        return _CASE_DONE[action]
    return lambda case: case.events.filter(action=action).exists()


def _case_endpoints() -> list[Endpoint]:
    reads = [
        ("return case page", "/returns/{pk}/", _working_case),
        ("return case API", "/api/v1/return-cases/{pk}/", _working_case),
        ("return case actions API", "/api/v1/return-cases/{pk}/actions/", _working_case),
        ("return case documents API", "/api/v1/return-cases/{pk}/documents/", _working_case),
        ("return case attachment", "/returns/attachments/{pk}/", _case_attachment),
        ("return case document download", "/returns/documents/{pk}/", _case_document),
        (
            "return case document API download",
            TwoPartURL(
                "/api/v1/return-cases/{other}/documents/{pk}/",
                model="returns.CaseDocument",
                other=lambda document: document.case_id,
            ),
            _case_document,
        ),
    ]
    endpoints = [Endpoint(name, path, pick, team_member=True) for name, path, pick in reads]
    for action, pick in _CASE_PICKS.items():
        api_path = "actions" if action == CaseAction.ACTION else action.value
        common = {"allowed": _case_may(action), "team_member": _member_may(action)}
        if action == CaseAction.ACKNOWLEDGE:
            common["team_member"] = None  # no team before the township signs
        endpoints += [
            Endpoint(
                f"return case {action.value} page",
                f"/returns/{{pk}}/{action.value}/",
                pick,
                **common,
            ),
            Endpoint(
                f"return case {action.value} page POST",
                f"/returns/{{pk}}/{action.value}/",
                pick,
                method="post",
                body=_CASE_PAGE_BODIES[action],
                done=_case_took(action),
                **common,
            ),
            Endpoint(
                f"return case {api_path} API POST",
                f"/api/v1/return-cases/{{pk}}/{api_path}/",
                pick,
                method="post",
                body=_CASE_API_BODIES[action],
                done=_case_took(action),
                **common,
            ),
        ]
    printed = {
        "allowed": CASE_PRINTERS,
        "team_member": True,
        "done": _case_took(CaseAction.DOCUMENT),
        "method": "post",
    }
    return [
        *endpoints,
        Endpoint(
            "return case documents API POST",
            "/api/v1/return-cases/{pk}/documents/",
            _working_case,
            body=lambda case: {"kind": "survey"},
            **printed,
        ),
        Endpoint(
            "return case document page POST",
            TwoPartURL(
                "/returns/{pk}/documents/{other}/",
                model="returns.ReturnCase",
                other=lambda case: "survey",
            ),
            _working_case,
            body=lambda case: {},
            **printed,
        ),
        Endpoint(
            "return case open page",
            "/ledger/{pk}/return-case/",
            _confirmed_entry,
            allowed=frozenset(role.value for role in COUNTY),
        ),
        Endpoint(
            "return case open page POST",
            "/ledger/{pk}/return-case/",
            _confirmed_entry,
            method="post",
            allowed=frozenset(role.value for role in COUNTY),
            body=lambda entry: {"township": "", "reason": "", "note": ""},
            done=lambda entry: entry.cases.exists(),
        ),
    ]


CASE_ENDPOINTS = _case_endpoints()

MOVED = "南涧镇新政村12号"
MEASURES = "班主任和驻村干部两次家访"


def _fresh(record):
    return type(record)._default_manager.get(pk=record.pk)


def _revealed(student) -> bool:
    from accounts.models import AuditEvent

    return AuditEvent.objects.filter(
        action="reveal", object_type="students.Student", object_id=str(student.pk)
    ).exists()


def _contacts_revealed(record) -> bool:
    """Whether the guardians' numbers of ``record`` (a student or a ledger entry) were
    revealed: the audited reveal of students.services.reveal_contacts."""
    from accounts.models import AuditEvent

    return AuditEvent.objects.filter(
        action="reveal", object_id=str(record.pk), detail="查看监护人联系电话"
    ).exists()


def _student_body(student) -> dict:
    """The whole student as a PUT sends it, with a new address."""
    from students.api.serializers import current_values

    values = current_values(student)
    guardians = [vars(g) for g in values.pop("guardians")]
    body = {
        name: value
        for name, value in values.items()
        if name not in ("school", "klass", "hukou_region", "key_groups")
    }
    return {
        **body,
        "birth_date": student.birth_date.isoformat(),
        "entry_date": student.entry_date.isoformat() if student.entry_date else None,
        "school": student.school_id,
        "klass": student.klass_id,
        "hukou_region": student.hukou_region_id,
        "key_groups": sorted(values["key_groups"]),
        "guardians": guardians,
        "address": MOVED,
    }


# Comparisons (issue 13): runs are the county's; a mismatch is assigned to the county's first
# township and its first 中心校, so that the county, that township and that school all see it.


def _comparison_run(prefix, status="done"):
    from tests.comparisons.results import make_run, make_source

    return make_run(make_source(prefix), status=status)


def _source(prefix):
    """An uploaded list of the county with one refused row (its error list downloads)."""
    from comparisons.models import Source

    return Source.objects.create(
        county=Region.objects.get(code=prefix),
        kind="household",
        name="户籍名单.xlsx",
        sha256=prefix.ljust(64, "0"),
        size=1000,
        row_count=3,
        error_count=1,
        errors=[{"row": 2, "field": "身份证号", "message": "校验位错误", "level": "error"}],
        uploaded_by=User.objects.get(role="county_staff", region__code=prefix),
    )


def _queued_run(prefix):
    return _comparison_run(prefix, status="queued")


def _mismatch(prefix, **fields):
    from tests.comparisons.results import first_township, make_mismatch

    fields.setdefault("township", first_township(prefix))
    return make_mismatch(_comparison_run(prefix), school=_school(prefix), **fields)


def _weak_mismatch(prefix):
    """A 未入学 candidate with a student of the same name and birth date, to confirm."""
    return _mismatch(prefix, student=_student(prefix), strength="weak")


def _flag_mismatch(prefix):
    return _mismatch(prefix, kind="poverty_flag", student=_student(prefix), strength="id")


# What the user completes on a 未入学 entry from a mismatch: the 学籍 check and its fields.
_ENTRY_COMPLETION = {
    "record_check": "none",
    "reason": "poverty",
    "whereabouts": "at_home",
    "person_status": "在家帮忙务农",
    "family_situation": "随祖父母生活",
    "parent_contact": "13812345678",
    "department_opinion": "村委会建议尽快入学",
}


def _entry_body(mismatch) -> dict:
    """The 未入学 entry's page form: the list's data as the form shows it, completed (the
    API takes the list's data from the mismatch itself: only the completion is sent)."""
    row = mismatch.source_row
    return {
        "name": row.name,
        "gender": row.gender,
        "birth_date": row.birth_date.isoformat(),
        "id_number": row.id_number,
        "hukou_region": row.region.code,
        **_ENTRY_COMPLETION,
    }


def _handled(mismatch) -> bool:
    return _fresh(mismatch).handled_id is not None


def _cancelled(run) -> bool:
    return _fresh(run).status == "cancelled"


def _comparison_endpoints() -> list[Endpoint]:
    from accounts.choices import ROLE_CAPABILITIES, Capability
    from comparisons.services import FollowUp

    disposers = frozenset(role.value for role in COUNTY | TOWNSHIP | SCHOOL)
    keepers = frozenset(
        role.value
        for role in COUNTY | SCHOOL
        if Capability.MANAGE_STUDENTS in ROLE_CAPABILITIES[role]
    )
    # The lists and their runs: the county's staff and its API account (comparisons.permissions).
    county = frozenset(role.value for role in COUNTY | {Role.API_CLIENT})
    follow_ups = {
        FollowUp.OPEN_ENTRY: (_mismatch, disposers, _entry_body),
        FollowUp.CORRECT_FLAG: (_flag_mismatch, keepers, lambda m: {"back": ""}),
        FollowUp.LINK_STUDENT: (_weak_mismatch, disposers, lambda m: {"student": m.student_id}),
        FollowUp.EXPLAIN: (_mismatch, disposers, lambda m: {"note": "已核实：随父母在外省就读"}),
    }
    pages = [
        Endpoint("comparison run page", "/comparisons/runs/{pk}/", _comparison_run),
        Endpoint("comparison run progress", "/comparisons/runs/{pk}/progress/", _queued_run),
        Endpoint(
            "comparison run cancel",
            "/comparisons/runs/{pk}/cancel/",
            _queued_run,
            method="post",
            allowed=county,
            done=_cancelled,
        ),
    ]
    for follow_up, (pick, allowed, body) in follow_ups.items():
        url = f"/comparisons/mismatches/{{pk}}/{follow_up.value}/"
        pages.append(Endpoint(f"mismatch {follow_up.value} page", url, pick, allowed=allowed))
        pages.append(
            Endpoint(
                f"mismatch {follow_up.value} page POST",
                url,
                pick,
                method="post",
                allowed=allowed,
                body=body,
                done=_handled,
            )
        )
    api = "/api/v1/comparisons"
    return [
        *pages,
        Endpoint("comparison source page", "/comparisons/sources/{pk}/", _source),
        Endpoint("comparison source errors", "/comparisons/sources/{pk}/errors.xlsx", _source),
        Endpoint("comparison source API", f"{api}/sources/{{pk}}/", _source),
        Endpoint("comparison run API", f"{api}/runs/{{pk}}/", _comparison_run),
        Endpoint(
            "comparison run cancel API",
            f"{api}/runs/{{pk}}/cancel/",
            _queued_run,
            method="post",
            allowed=county,
            done=_cancelled,
        ),
        Endpoint("mismatch API", f"{api}/mismatches/{{pk}}/", _mismatch),
        Endpoint(
            "mismatch dispose API",
            f"{api}/mismatches/{{pk}}/dispose/",
            _mismatch,
            method="post",
            allowed=disposers,
            body=lambda m: {"disposition": "explained", "note": "已核实"},
            done=_handled,
        ),
        Endpoint(
            "mismatch open-entry API",
            f"{api}/mismatches/{{pk}}/open-entry/",
            _mismatch,
            method="post",
            allowed=disposers,
            body=lambda m: _ENTRY_COMPLETION,
            done=_handled,
        ),
        Endpoint(
            "mismatch correct-flag API",
            f"{api}/mismatches/{{pk}}/correct-flag/",
            _flag_mismatch,
            method="post",
            allowed=keepers,
            body=lambda m: {"note": "按名单更正"},
            done=_handled,
        ),
    ]


COMPARISON_ENDPOINTS = _comparison_endpoints()


def _watched(prefix):
    """A left-behind child of the county's first class teacher's class: on the watch list."""
    from attendance import watch
    from students.services import student_create
    from tests.students.factories import student_data

    klass = _class(prefix)
    data = student_data(klass.school, grade=klass.grade, klass=klass, key_groups={"left_behind"})
    student = student_create(by=_staff(klass.school), data=data)
    watch.compute(as_of=datetime.date.today())
    return student


def _watch_endpoints() -> list[Endpoint]:
    from attendance.models import WatchMeasure

    recorders = frozenset(
        {"principal", "school_staff", "class_teacher", "township_official", "village_cadre"}
    )
    body = {"kind": "home_visit", "date": datetime.date.today().isoformat(), "note": "家访谈心"}

    def measured(student):
        return WatchMeasure.objects.filter(student=student).exists()

    return [
        Endpoint("watch child page", "/attendance/watch/{pk}/", _watched),
        Endpoint(
            "watch child page POST",
            "/attendance/watch/{pk}/",
            _watched,
            method="post",
            allowed=recorders,
            body=lambda student: body,
            done=measured,
        ),
        Endpoint("watch list API", "/api/v1/watch-list/{pk}/", _watched),
        Endpoint(
            "watch measure API",
            "/api/v1/watch-list/{pk}/measures/",
            _watched,
            method="post",
            allowed=recorders,
            body=lambda student: body,
            done=measured,
        ),
    ]


WATCH_ENDPOINTS = _watch_endpoints()

COUNTY_ADMIN_ONLY = frozenset({"county_admin"})
STUDENT_RECORDERS = frozenset(
    {"principal", "school_staff", "county_staff", "county_admin", "api_client"}
)
REVEALERS = frozenset({"principal", "school_staff", "county_staff", "county_admin"})
# students.permissions.GUARDIAN_PHONES: from the roster, and from a case (a ledger entry).
ROSTER_CALLERS = REVEALERS | {"class_teacher"}
CASE_CALLERS = ROSTER_CALLERS | {"township_official", "village_cadre"}


def _duplicated(prefix):
    """A student of the county's first 中心校 registered twice, the second time without an ID
    number: a pair the duplicate finder proposes (issue 13 rule 4)."""
    from students.services import student_create
    from tests.students.factories import student_data

    school = _school(prefix)
    first = student_create(by=_staff(school), data=student_data(school, name="段重复"))
    student_create(by=_staff(school), data=student_data(school, name="段重复", with_id=False))
    return first


def _twin(student):
    """The other record of a pair made by _duplicated."""
    from students.models import Student

    return (
        Student.objects.filter(name=student.name, birth_date=student.birth_date)
        .exclude(pk=student.pk)
        .values_list("pk", flat=True)
        .first()
    )


def _merged(student) -> bool:
    from students.choices import Status

    return student.__class__.objects.filter(merged_into=student, status=Status.MERGED).exists()


def _dismissed(student) -> bool:
    from students.models import DuplicateDismissal

    return DuplicateDismissal.objects.filter(first=student).exists()


MERGERS = frozenset({"principal", "school_staff", "county_staff", "county_admin"})


def _duplicate_endpoints() -> list[Endpoint]:
    merge_url = TwoPartURL(
        "/students/duplicates/{pk}/{other}/merge/", model="students.Student", other=_twin
    )
    dismiss_url = TwoPartURL(
        "/students/duplicates/{pk}/{other}/dismiss/", model="students.Student", other=_twin
    )
    return [
        Endpoint("duplicate merge page", merge_url, _duplicated, allowed=MERGERS),
        Endpoint(
            "duplicate merge page POST",
            merge_url,
            _duplicated,
            method="post",
            allowed=MERGERS,
            body=lambda student: {"keep": student.pk, "reason": "同一孩子重复建档，已核实"},
            done=_merged,
        ),
        Endpoint(
            "duplicate dismiss POST",
            dismiss_url,
            _duplicated,
            method="post",
            allowed=MERGERS,
            body=lambda student: {"note": "双胞胎，不是同一人"},
            done=_dismissed,
        ),
    ]


ENDPOINTS = [
    Endpoint("school page", "/org/schools/{pk}/", _school),
    Endpoint("school edit page", "/org/schools/{pk}/edit/", _school, allowed=COUNTY_ADMIN_ONLY),
    Endpoint(
        "new class page", "/org/schools/{pk}/classes/new/", _school, allowed=COUNTY_ADMIN_ONLY
    ),
    Endpoint("class page", "/org/classes/{pk}/", _class),
    Endpoint("class edit page", "/org/classes/{pk}/edit/", _class, allowed=COUNTY_ADMIN_ONLY),
    Endpoint("region edit page", "/org/regions/{pk}/edit/", _township, allowed=COUNTY_ADMIN_ONLY),
    Endpoint("account edit page", "/accounts/{pk}/edit/", _account, allowed=COUNTY_ADMIN_ONLY),
    Endpoint(
        "account disable",
        "/accounts/{pk}/active/",
        _account,
        method="post",
        allowed=COUNTY_ADMIN_ONLY,
        done=lambda account: not _fresh(account).is_active,
    ),
    Endpoint("job page", "/jobs/{pk}/", _finished_job),
    Endpoint("job download", "/jobs/{pk}/download/", _finished_job),
    Endpoint("student page", "/students/{pk}/", _student),
    Endpoint("student edit page", "/students/{pk}/edit/", _student, allowed=STUDENT_RECORDERS),
    Endpoint(
        "student event page", "/students/{pk}/events/new/", _student, allowed=STUDENT_RECORDERS
    ),
    Endpoint(
        "student reveal",
        "/students/{pk}/reveal/",
        _student,
        method="post",
        allowed=REVEALERS,
        done=_revealed,
    ),
    Endpoint(
        "student contacts reveal",
        "/students/{pk}/contacts/",
        _student,
        method="post",
        allowed=ROSTER_CALLERS,
        done=_contacts_revealed,
    ),
    Endpoint(
        "transfer decision",
        "/students/transfers/{pk}/decide/",
        _transfer,
        method="post",
        allowed=STUDENT_RECORDERS,
        body=lambda transfer: {"decision": "reject", "note": "不符合转入条件"},
        done=lambda transfer: _fresh(transfer).status == "rejected",
    ),
    Endpoint(
        "student API PATCH",
        "/api/v1/students/{pk}/",
        _student,
        method="patch",
        allowed=STUDENT_RECORDERS,
        body=lambda student: {"address": MOVED},
        done=lambda student: _fresh(student).address == MOVED,
    ),
    Endpoint(
        "student API PUT",
        "/api/v1/students/{pk}/",
        _student,
        method="put",
        allowed=STUDENT_RECORDERS,
        body=_student_body,
        done=lambda student: _fresh(student).address == MOVED,
    ),
    Endpoint(
        "student by ID number API PUT",
        NaturalKeyURL(
            "/api/v1/students/by-id-number/{pk}/", model="students.Student", field="id_number"
        ),
        _student,
        method="put",
        allowed=STUDENT_RECORDERS,
        body=_student_body,
        done=lambda student: _fresh(student).address == MOVED,
        outside=400,
    ),
    Endpoint(
        "student by student number API PUT",
        NaturalKeyURL(
            "/api/v1/students/by-student-number/{pk}/",
            model="students.Student",
            field="student_number",
        ),
        _student_with_number,
        method="put",
        allowed=STUDENT_RECORDERS,
        body=_student_body,
        done=lambda student: _fresh(student).address == MOVED,
        outside=400,
    ),
    Endpoint("region API", "/api/v1/regions/{pk}/", _township),
    Endpoint("school API", "/api/v1/schools/{pk}/", _school),
    Endpoint("class API", "/api/v1/classes/{pk}/", _class),
    Endpoint("student API", "/api/v1/students/{pk}/", _student),
    Endpoint("student events API", "/api/v1/students/{pk}/events/", _student),
    Endpoint(
        "student by ID number API",
        NaturalKeyURL(
            "/api/v1/students/by-id-number/{pk}/", model="students.Student", field="id_number"
        ),
        _student,
    ),
    Endpoint(
        "student by student number API",
        NaturalKeyURL(
            "/api/v1/students/by-student-number/{pk}/",
            model="students.Student",
            field="student_number",
        ),
        _student_with_number,
    ),
    Endpoint("ledger page", "/ledger/{pk}/", _pending_entry),
    Endpoint(
        "ledger contacts reveal",
        "/ledger/{pk}/contacts/",
        _pending_entry,
        method="post",
        allowed=CASE_CALLERS,
        done=_contacts_revealed,
    ),
    *(
        Endpoint(
            f"ledger {action.value} page",
            f"/ledger/{{pk}}/{action.value}/",
            pick,
            allowed=_may(action),
        )
        for action, pick in _ACTION_ENTRIES.items()
    ),
    Endpoint("ledger evidence download", "/ledger/evidence/{pk}/", _evidence_event),
    Endpoint("ledger API", "/api/v1/ledger-entries/{pk}/", _pending_entry),
    Endpoint(
        "ledger API PATCH",
        "/api/v1/ledger-entries/{pk}/",
        _pending_entry,
        method="patch",
        allowed=_may(Action.UPDATE),
        body=lambda entry: {"measures": MEASURES},
        done=lambda entry: _fresh(entry).measures == MEASURES,
    ),
    *(
        Endpoint(
            f"ledger {action.value} page POST",
            f"/ledger/{{pk}}/{action.value}/",
            pick,
            method="post",
            allowed=_may(action),
            body=_PAGE_BODIES[action],
            done=_took(action),
        )
        for action, pick in _ACTION_ENTRIES.items()
    ),
    Endpoint("attendance API", "/api/v1/attendance/{pk}/", _roll_call),
    Endpoint("attendance today", "/attendance/{pk}/", _class),
    Endpoint(
        "attendance roll page",
        DatedURL("/attendance/{pk}/{day}/", model="accounts.SchoolClass"),
        _class,
    ),
    _ledger_api("verify", _pending_entry, _confirm_outcome, Action.EXCLUDE, Action.CONFIRM),
    _ledger_api("confirm", _pending_entry, _note, Action.CONFIRM),
    _ledger_api("assign", _confirmed_entry, _same_township, Action.ASSIGN),
    _ledger_api("return", _confirmed_entry, _note, Action.RETURN),
    _ledger_api("propose-closure", _confirmed_entry, _closure, Action.PROPOSE),
    _ledger_api("approve", _proposed_entry, _comment, Action.APPROVE),
    _ledger_api("reject", _proposed_entry, _comment, Action.REJECT),
    _ledger_api("reopen", _excluded_entry, _note, Action.REOPEN),
    _ledger_api("review", _pending_entry, _note, Action.REVIEW),
    Endpoint(
        "calendar term delete",
        "/calendar/terms/{pk}/delete/",
        _county_term,
        method="post",
        allowed=frozenset({"county_admin", "county_staff"}),
        done=lambda term: not type(term).objects.filter(pk=term.pk).exists(),
    ),
    Endpoint(
        "calendar day delete",
        "/calendar/days/{pk}/delete/",
        _school_day,
        method="post",
        allowed=frozenset({"principal", "school_staff"}),
        done=lambda day: not type(day).objects.filter(pk=day.pk).exists(),
    ),
    Endpoint(
        "notification read",
        "/notifications/{pk}/read/",
        _notification,
        method="post",
        done=lambda notice: _fresh(notice).read_at is not None,
    ),
    Endpoint("notification API", "/api/v1/notifications/{pk}/", _notification),
    Endpoint("job API", "/api/v1/jobs/{pk}/", _finished_job),
    Endpoint("job download API", "/api/v1/jobs/{pk}/download/", _finished_job),
    Endpoint(
        "notification read API",
        "/api/v1/notifications/{pk}/read/",
        _notification,
        method="post",
        done=lambda notice: _fresh(notice).read_at is not None,
    ),
    *CASE_ENDPOINTS,
    *COMPARISON_ENDPOINTS,
    *WATCH_ENDPOINTS,
    *_duplicate_endpoints(),
]


# ---------------------------------------------------------------------------------------------
# Lists: every list page and API list holds the in-area record for whoever may see it, and
# never the other county's.


@dataclass(frozen=True)
class ListEndpoint:
    name: str
    url: str
    pick: Callable[[str], object]
    ids: Callable[[object], set[int]]  # the response → the ids it lists
    # Roles that may open the list (others: 403). None: everyone.
    allowed: frozenset[str] | None = None


def _api_ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def _page_ids(name: str = "object_list"):
    return lambda response: {record.pk for record in response.context[name]}


def _audit_event(prefix):
    """The audit line of a student the county's first 中心校 registered."""
    from accounts.models import AuditEvent

    student = _student(prefix)
    return AuditEvent.objects.filter(object_id=str(student.pk)).latest("pk")


def _api_list(name: str, path: str, pick) -> ListEndpoint:
    return ListEndpoint(f"{name} API list", f"/api/v1/{path}/?page_size=500", pick, _api_ids)


LIST_ENDPOINTS = [
    _api_list("region", "regions", _township),
    _api_list("school", "schools", _school),
    _api_list("class", "classes", _class),
    _api_list("student", "students", _student),
    _api_list("ledger", "ledger-entries", _pending_entry),
    _api_list("attendance", "attendance", _roll_call),
    _api_list("notification", "notifications", _notification),
    _api_list("job", "jobs", _finished_job),
    _api_list("return case", "return-cases", _working_case),
    ListEndpoint("return case list page", "/returns/", _working_case, _page_ids()),
    ListEndpoint("region list page", "/org/regions/", _township, _page_ids()),
    ListEndpoint("school list page", "/org/schools/", _school, _page_ids()),
    ListEndpoint("student list page", "/students/", _student, _page_ids()),
    ListEndpoint("ledger list page", "/ledger/", _pending_entry, _page_ids()),
    ListEndpoint(
        "transfer list page",
        "/students/transfers/",
        _transfer,
        lambda response: {transfer.pk for transfer, _ in response.context["rows"]},
    ),
    ListEndpoint(
        "account list page", "/accounts/", _account, _page_ids(), allowed=COUNTY_ADMIN_ONLY
    ),
    ListEndpoint(
        "audit list page", "/audit/", _audit_event, _page_ids("page_obj"), allowed=COUNTY_ADMIN_ONLY
    ),
    ListEndpoint("notification list page", "/notifications/", _notification, _page_ids("page_obj")),
    _api_list("comparison run", "comparisons/runs", _comparison_run),
    _api_list("mismatch", "comparisons/mismatches", _mismatch),
    ListEndpoint("comparison run list page", "/comparisons/", _comparison_run, _page_ids()),
    ListEndpoint(
        "mismatch list page",
        "/comparisons/mismatches/",
        _mismatch,
        lambda response: {mismatch.pk for mismatch, _, _ in response.context["rows"]},
    ),
    _api_list("watch", "watch-list", _watched),
    ListEndpoint(
        "watch list page",
        "/attendance/watch/",
        _watched,
        lambda response: {card.student.pk for card, _ in response.context["cards"]},
    ),
]


# The reports app's records (issue 14), one module per part. Imported last: those modules use
# this one's Endpoint and ListEndpoint.
from tests.accounts import matrix_tokens  # noqa: E402
from tests.reports import matrix_cadence, matrix_indicators, matrix_monthly  # noqa: E402
from tests.returns import matrix_offline  # noqa: E402

for _part in (matrix_monthly, matrix_indicators, matrix_cadence, matrix_tokens, matrix_offline):
    ENDPOINTS += _part.ENDPOINTS
    LIST_ENDPOINTS += _part.LIST_ENDPOINTS
