"""Who persuades (劝返主体, DOMAIN.md §7, issue 12 rule 1): each rule proposes the township,
the county confirms or overrides it with a reason, the instruction goes out and the ledger
entry moves to 劝返中 through the ledger's service."""

import pytest

from accounts.choices import NotificationKind, RegionLevel
from accounts.models import Notification, Region
from kongchuo.errors import AppError
from ledger.choices import Action as EntryAction
from ledger.choices import State
from returns import services
from returns.choices import Action, CaseState, ResponsibleRule
from returns.models import ReturnCase
from tests.ledger.conftest import head_class, make_student, township
from tests.returns.conftest import COUNTY_USER, confirmed, footprint, open_case, visit

pytestmark = pytest.mark.django_db


def _village(world, username):
    return Region.objects.filter(parent=township(world, username), level=RegionLevel.VILLAGE)[0]


def test_default_is_the_township_of_the_hukou_a_villages_township_being_its_parent(world):
    student = make_student(world, grade=1, hukou_region=_village(world, "xz2_ganbu"))
    proposal = services.propose_responsible(confirmed(world, student))
    assert proposal.township == township(world, "xz2_ganbu")
    assert proposal.rule == ResponsibleRule.HUKOU
    assert proposal.co_township is None and proposal.notice_to is None
    assert "户籍地" in proposal.explanation


def test_migrant_child_who_dropped_out_where_they_study_is_persuaded_by_that_township(world):
    student = make_student(
        world, grade=1, hukou_region=township(world, "xz2_ganbu"), key_groups={"migrant"}
    )
    proposal = services.propose_responsible(confirmed(world, student))
    assert proposal.township == township(world, "xz1_ganbu")
    assert proposal.rule == ResponsibleRule.STUDY_PLACE


def test_child_who_moved_after_dropping_out_old_township_tells_the_hukou_township_both_work(
    world,
):
    student = make_student(world, grade=1, hukou_region=township(world, "xz2_ganbu"))
    case = open_case(world, student, moved_after_dropout=True)
    assert case.responsible_rule == ResponsibleRule.MOVED
    assert case.township == township(world, "xz1_ganbu")
    assert case.co_township == township(world, "xz2_ganbu")
    notice = case.events.get(action=Action.NOTICE)
    assert notice.region == township(world, "xz2_ganbu")
    for username in ("xz1_ganbu", "xz2_ganbu"):
        user = world.user(username)
        assert Notification.objects.filter(recipient=user, kind=NotificationKind.RETURN_CASE)
        assert ReturnCase.objects.for_user(user).filter(pk=case.pk).exists()
    # Both townships work it: the 户籍 township signs and records a visit.
    case = services.case_acknowledge(by=world.user("xz2_ganbu"), case=case)
    visit(world, case, "xz2_ganbu")


def test_hukou_outside_the_county_the_county_holds_the_case_and_tells_the_other_county(world):
    other = township(world, "c2_xz1_ganbu")
    student = make_student(world, grade=1, hukou_region=other)
    case = open_case(world, student)
    assert case.township is None and case.responsible_rule == ResponsibleRule.OUTSIDE_COUNTY
    assert case.state == CaseState.WORKING  # nobody is asked to sign
    assert case.events.get(action=Action.NOTICE).region == other.parent
    entry = case.entry
    entry.refresh_from_db()
    # The ledger keeps the entry with the township of the child's school.
    assert entry.state == State.PERSUADING and entry.township == student.school.township
    visit(world, case, COUNTY_USER)  # the county works the case it holds
    assert not ReturnCase.objects.for_user(world.user("c2_xian_staff")).filter(pk=case.pk)


def test_instruction_goes_to_the_township_and_the_entry_moves_to_persuading(world):
    student = make_student(world, grade=1, klass=head_class(world))
    case = open_case(world, student)
    assert case.state == CaseState.INSTRUCTED and case.step == 1 and case.version == 1
    assert case.township == township(world, "xz1_ganbu")
    entry = case.entry
    entry.refresh_from_db()
    assert entry.state == State.PERSUADING
    assert entry.events.filter(action=EntryAction.ASSIGN).exists()
    assert Notification.objects.filter(
        recipient=world.user("xz1_ganbu"), kind=NotificationKind.RETURN_CASE, title__contains="签收"
    ).exists()
    assert case.events.get(action=Action.OPEN).actor == world.user(COUNTY_USER)


def test_county_overrides_the_proposal_only_with_a_reason(world):
    student = make_student(world, grade=1)
    entry = confirmed(world, student)
    other = township(world, "xz2_ganbu")
    with pytest.raises(AppError) as refused:
        services.case_open(by=world.user(COUNTY_USER), entry=entry, township=other)
    assert "reason" in refused.value.errors and not ReturnCase.objects.exists()
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED
    case = services.case_open(
        by=world.user(COUNTY_USER), entry=entry, township=other, reason="监护人长期在该乡镇务工"
    )
    assert case.township == other and case.responsible_rule == ResponsibleRule.COUNTY_CHOICE
    assert case.override_reason == "监护人长期在该乡镇务工"


def test_county_reassigns_with_a_reason_and_the_new_township_signs_again(world):
    student = make_student(world, grade=1)
    case = open_case(world, student)
    services.case_acknowledge(by=world.user("xz1_ganbu"), case=case)
    before = footprint(case)
    with pytest.raises(AppError) as refused:
        services.case_reassign(
            by=world.user(COUNTY_USER), case=case, township=township(world, "xz2_ganbu"), reason=""
        )
    assert "reason" in refused.value.errors and footprint(case) == before
    case = services.case_reassign(
        by=world.user(COUNTY_USER),
        case=case,
        township=township(world, "xz2_ganbu"),
        reason="家庭已迁居",
    )
    assert case.state == CaseState.INSTRUCTED and case.acknowledged_by is None
    case.entry.refresh_from_db()
    assert case.entry.township == township(world, "xz2_ganbu")
    services.case_acknowledge(by=world.user("xz2_ganbu"), case=case)
