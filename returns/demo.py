"""Demo 劝返 cases: for each county a few confirmed dropouts taken along the 四步法 through
the services — an instruction waiting to be signed for, a case with a plan and two visits, one
at 责令改正 with its deadline, and a child who came back — so that ``make run`` shows a township
cadre's 我的劝返案件 and the county's list as they will look."""

import datetime
import random

from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from ledger.demo import confirmed_entry
from students.choices import Status
from students.models import Student

from . import services
from .choices import Department, Duty, Help, Method, Placement, Step

_STAGES = ("instructed", "working", "ordered", "returned")


def _official(case) -> User | None:
    return User.objects.filter(
        role=Role.TOWNSHIP_OFFICIAL, region=case.township, is_active=True
    ).first()


def _walk(stage: str, case, official: User, teacher: User | None) -> None:
    if stage == "instructed":
        return
    today = timezone.localdate()
    services.case_acknowledge(by=official, case=case, note="已签收，明日上门。")
    if teacher is not None:
        services.member_add(by=official, case=case, user=teacher, duty=Duty.TEACHER)
    services.plan_save(
        by=official,
        case=case,
        cause="家庭经济困难，孩子厌学，外出打工的意愿强。",
        measures="班主任每周家访；村委会协调监护人；落实资助。",
        help=[Help.SUBSIDY, Help.LEARNING],
    )
    services.action_record(
        by=official,
        case=case,
        date=today,
        method=Method.VISIT,
        result="监护人同意劝说孩子返校，孩子仍有顾虑。",
    )
    services.action_record(
        by=official,
        case=case,
        date=today,
        method=Method.JOINT,
        departments=[Department.VILLAGE_COMMITTEE, Department.WOMEN],
        result="村委会和妇联共同上门，讲解义务教育法，监护人承诺送学。",
    )
    if stage == "working":
        return
    services.step_advance(
        by=official, case=case, step=Step.ORDER, deadline=today + datetime.timedelta(days=10)
    )
    if stage == "ordered":
        return
    services.case_return(
        by=official, case=case, placement=Placement.REGULAR, note="已返校，班主任跟踪。"
    )


def build_cases(*, seed: int = 1) -> int:
    """Open a case for one more confirmed dropout per stage in every county."""
    rng = random.Random(seed)  # noqa: S311 — deterministic demo data, not secrets
    made = 0
    for county in User.objects.filter(role=Role.COUNTY_STAFF).select_related("region"):
        students = (
            Student.objects.filter(
                school__township__code__startswith=county.region.code,
                status=Status.ENROLLED,
                ledger_entries__isnull=True,
            )
            .select_related("school", "klass__head_teacher")
            .order_by("-id")
        )
        for stage, student in zip(_STAGES, students, strict=False):
            principal = User.objects.filter(school=student.school, role=Role.PRINCIPAL).first()
            if principal is None:
                continue
            entry = confirmed_entry(rng, student, principal)
            case = services.case_open(by=county, entry=entry)
            official = _official(case)
            if official is None:
                continue
            teacher = student.klass.head_teacher if student.klass_id else None
            _walk(stage, case, official, teacher)
            made += 1
    return made
