"""人账相符 (DOMAIN.md §5): every child whose 学籍 says 辍学 has an open entry, and every open
entry is a real out-of-school child. Each problem kind comes from a real inconsistent set-up
made through the services; the nightly task and the command report them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Region
from ledger import consistency, services
from ledger.choices import ClosureReason, ConsistencyProblem, State
from ledger.models import ConsistencyRun
from ledger.tasks import consistency_check, consistency_check_county
from students import services as student_services
from students.choices import EventKind
from tests.ledger.conftest import (
    APPROVER,
    SCHOOL_USER,
    entry_in,
    make_student,
    unenrolled_data,
)

pytestmark = pytest.mark.django_db


def _xueji(world, student, kind, **extra):
    """A 学籍 change recorded by the school, outside the ledger."""
    return student_services.event_record(
        by=world.user(SCHOOL_USER),
        student=student,
        kind=kind,
        date=timezone.localdate(),
        reason="学校登记",
        **extra,
    )


def _problems(world, username=APPROVER):
    return [(m.problem, m.name) for m in consistency.for_user(world.user(username))]


@pytest.fixture
def consistent(world):
    """A ledger that agrees with 学籍: one of every state, plus a child aged out of the
    ledger who keeps a 辍学 学籍."""
    for state in State:
        entry_in(world, state, make_student(world, name=f"学生{state.value}"))
    aged = entry_in(world, State.PERSUADING, make_student(world, name="满十六"))
    aged = services.entry_propose_closure(
        by=world.user(SCHOOL_USER),
        entry=aged,
        reason=ClosureReason.COMPLETED,
        evidence_text="已满16周岁",
    )
    services.entry_approve(by=world.user(APPROVER), entry=aged)
    services.entry_create(by=world.user("xz1_ganbu"), data=unenrolled_data(world))


def test_consistent_data_has_no_problems(world, consistent):
    assert _problems(world) == []
    run = consistency.check_county(Region.objects.get(code="532926"))
    assert (run.problem_count, run.problems) == (0, [])


def test_dropout_xueji_without_an_open_entry(world, consistent):
    student = make_student(world, name="未入账")
    _xueji(world, student, EventKind.DROP_OUT)
    assert _problems(world) == [(ConsistencyProblem.DROPOUT_WITHOUT_ENTRY, "未入账")]


def test_confirmed_entry_whose_student_resumed_outside_the_ledger(world, consistent):
    student = make_student(world, name="已回校")
    entry_in(world, State.PERSUADING, student)
    _xueji(world, student, EventKind.RESUME)
    assert _problems(world) == [(ConsistencyProblem.ENTRY_BUT_ENROLLED, "已回校")]


def test_returned_entry_whose_student_is_no_longer_enrolled(world, consistent):
    student = make_student(world, name="又休学")
    entry_in(world, State.RETURNED, student)
    _xueji(world, student, EventKind.SUSPEND)
    assert _problems(world) == [(ConsistencyProblem.RETURNED_NOT_ENROLLED, "又休学")]


@pytest.mark.parametrize(
    ("state", "kind", "extra"),
    [
        (State.CONFIRMED, EventKind.DEATH, {}),
        (State.PENDING, EventKind.TRANSFER_OUT, {"destination": "外省某校"}),
    ],
)
def test_open_entry_of_a_child_who_is_gone(world, consistent, state, kind, extra):
    student = make_student(world, name="已离校")
    entry_in(world, state, student)
    _xueji(world, student, kind, **extra)
    assert _problems(world) == [(ConsistencyProblem.NO_REAL_CHILD, "已离校")]


def test_not_enrolled_entry_whose_id_number_now_belongs_to_an_enrolled_student(world, consistent):
    entry = services.entry_create(
        by=world.user("xz1_ganbu"), data=unenrolled_data(world, name="新入学")
    )
    make_student(
        world,
        grade=1,
        name="新入学",
        gender=entry.gender,
        birth_date=entry.birth_date,
        id_number=entry.id_number,
    )
    assert _problems(world) == [(ConsistencyProblem.NOT_ENROLLED_BUT_ENROLLED, "新入学")]


def test_problems_are_seen_within_the_users_area_only(world, consistent):
    _xueji(world, make_student(world, name="未入账"), EventKind.DROP_OUT)
    assert _problems(world, "xz1_ganbu") == [(ConsistencyProblem.DROPOUT_WITHOUT_ENTRY, "未入账")]
    assert _problems(world, "xz2_ganbu") == []
    assert _problems(world, "c2_xian_admin") == []


def _make_problem_in_each_county(world):
    _xueji(world, make_student(world, name="甲县学生"), EventKind.DROP_OUT)
    student = make_student(world, "c2_xz1_xx1_guanli", name="乙县学生")
    student_services.event_record(
        by=world.user("c2_xz1_xx1_guanli"),
        student=student,
        kind=EventKind.DROP_OUT,
        date=timezone.localdate(),
        reason="学校登记",
    )


def test_check_county_stores_a_run_with_its_problems(world):
    _make_problem_in_each_county(world)
    run = consistency.check_county(Region.objects.get(code="532926"))
    assert ConsistencyRun.objects.get() == run
    assert run.problem_count == 1
    (problem,) = run.problems
    assert problem["problem"] == ConsistencyProblem.DROPOUT_WITHOUT_ENTRY
    assert problem["name"] == "甲县学生" and problem["entry_id"] is None
    # County A sees its own run; county B does not.
    assert list(ConsistencyRun.objects.for_user(world.user("xian_staff"))) == [run]
    assert not ConsistencyRun.objects.for_user(world.user("c2_xian_staff")).exists()


def test_the_nightly_task_checks_every_county_a_task_each(world, settings):
    """Issue 19 §4: the nightly check queues one task per county (none runs over a whole
    province), each writing its county's run."""
    _make_problem_in_each_county(world)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert consistency_check() == 2, "one task for each of the two counties"
    result = consistency_check.apply()
    assert result.successful() and result.get() == 2
    runs = ConsistencyRun.objects.order_by("id")
    assert [(r.county.code, r.problem_count) for r in runs] == [
        ("530102", 1),
        ("532926", 1),
    ] * 2
    county = Region.objects.get(code="532926")
    assert consistency_check_county(county.pk) == 1
    assert consistency_check_county(0) == 0, "a county deleted since it was queued"


def test_check_ledger_command_prints_the_problems(world):
    _make_problem_in_each_county(world)
    out = StringIO()
    call_command("check_ledger", "--county", "532926", stdout=out)
    text = out.getvalue()
    assert "532926" in text and "1个问题" in text
    assert f"{ConsistencyProblem.DROPOUT_WITHOUT_ENTRY.label}：甲县学生" in text
    assert "乙县学生" not in text
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "甲县学生" in out.getvalue() and "乙县学生" in out.getvalue()
    assert ConsistencyRun.objects.count() == 3


def test_check_ledger_command_refuses_an_unknown_county(world):
    for code in ("999999", "532926101"):  # no such county; a township
        with pytest.raises(CommandError, match=code):
            call_command("check_ledger", "--county", code, stdout=StringIO())
    assert not ConsistencyRun.objects.exists()
