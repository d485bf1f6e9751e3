"""Ledger entries and dynamic 销号 (DOMAIN.md §5, issue 4): what an entry holds, the 学籍
check, closure with evidence and county approval, rebounds, the timeline and the area."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.db.utils import DatabaseError
from django.utils import timezone

from accounts.models import AuditEvent
from kongchuo.errors import AppError
from ledger import consistency, permissions, selectors, services
from ledger.choices import (
    OPEN_STATES,
    Action,
    ClosureReason,
    EntryKind,
    Reason,
    RecordCheck,
    Source,
    State,
)
from ledger.models import EntryEvent, LedgerEntry
from students import services as student_services
from students.choices import EventKind, KeyGroup, Status
from students.models import EnrollmentEvent
from tests.ledger.conftest import (
    APPROVER,
    COUNTY_USER,
    SCHOOL_USER,
    add_term,
    create_entry,
    entry_data,
    entry_in,
    footprint,
    fresh,
    head_class,
    make_student,
    township,
    unenrolled_data,
)
from tests.students.factories import student_data

pytestmark = pytest.mark.django_db


def _refused(call, entry=None, *, field=None, match=None):
    """``call`` raises AppError (naming ``field``) and writes nothing."""
    before = footprint(entry) if entry is not None else None
    entries, events = LedgerEntry.objects.count(), EntryEvent.objects.count()
    with pytest.raises(AppError, match=match) as refused:
        call()
    if field:
        assert field in refused.value.errors, refused.value.errors
    if entry is not None:
        assert footprint(entry) == before
    assert (LedgerEntry.objects.count(), EntryEvent.objects.count()) == (entries, events)
    return refused.value


# -- entries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "state"),
    [(EntryKind.SUSPECTED, State.PENDING), (EntryKind.DROPOUT, State.CONFIRMED)],
)
def test_entry_kinds_for_a_student_start_pending_or_confirmed(world, child, kind, state):
    entry = create_entry(world, child, kind=kind, source=Source.ATTENDANCE)
    assert (entry.kind, entry.state, entry.source) == (kind, state, Source.ATTENDANCE)
    assert (entry.name, entry.school, entry.grade) == (child.name, child.school, 1)
    assert entry.record_check == RecordCheck.IN_PROVINCE
    assert entry.created_by == world.user(SCHOOL_USER)


def test_a_not_enrolled_child_needs_no_student_record(world):
    entry = services.entry_create(by=world.user("xz1_ganbu"), data=unenrolled_data(world))
    assert (entry.kind, entry.state, entry.student) == (
        EntryKind.NOT_ENROLLED,
        State.CONFIRMED,
        None,
    )
    assert entry.record_check == RecordCheck.NONE and entry.family_situation


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "truant"}, "kind"),
        ({"source": "rumour"}, "source"),
        ({"reason": "bored"}, "reason"),
        ({"other_reasons": [Reason.POVERTY, "bored"]}, "other_reasons"),
        ({"whereabouts": "moon"}, "whereabouts"),
        ({"key_groups": ["celebrity"]}, "key_groups"),
        ({"found_on": datetime.date(2099, 1, 1)}, "found_on"),
    ],
)
def test_values_not_in_the_lists_are_refused_naming_the_field(world, child, overrides, field):
    _refused(
        lambda: services.entry_create(
            by=world.user(SCHOOL_USER), data=entry_data(child, **overrides)
        ),
        field=field,
    )


def test_one_primary_reason_plus_others_without_repeating_it(world, child):
    entry = create_entry(
        world,
        child,
        reason=Reason.POVERTY,
        other_reasons=[Reason.WORK, Reason.POVERTY, Reason.WORK, Reason.DISTANCE],
    )
    assert fresh(entry).reason == Reason.POVERTY
    assert fresh(entry).other_reasons == [Reason.WORK, Reason.DISTANCE]


def test_record_check_outcome_is_required_for_a_child_without_student_record(world):
    _refused(
        lambda: services.entry_create(
            by=world.user("xz1_ganbu"), data=unenrolled_data(world, record_check="")
        ),
        field="record_check",
    )


@pytest.mark.parametrize(
    ("field", "label"),
    list(services.NO_RECORD_FIELDS.items()),
)
def test_no_xueji_requires_each_field_of_the_check_and_names_the_missing_one(world, field, label):
    """无学籍: 人员现状, 家庭情况, 父母联系方式 and 相关部门意见 are all required."""
    error = _refused(
        lambda: services.entry_create(
            by=world.user("xz1_ganbu"), data=unenrolled_data(world, **{field: "  "})
        ),
        field=field,
    )
    assert label in error.message


def test_no_xueji_reports_every_missing_field_at_once(world):
    """Issue 10: a 无学籍 check with all four fields missing names all four, not the first."""
    blank = dict.fromkeys(services.NO_RECORD_FIELDS, "")
    error = _refused(
        lambda: services.entry_create(
            by=world.user("xz1_ganbu"), data=unenrolled_data(world, **blank)
        ),
    )
    assert set(error.errors) == set(services.NO_RECORD_FIELDS)
    for field, label in services.NO_RECORD_FIELDS.items():
        assert label in error.errors[field][0] and label in error.message


@pytest.mark.parametrize("outcome", [RecordCheck.IN_PROVINCE, RecordCheck.OUT_OF_PROVINCE])
def test_a_record_found_elsewhere_needs_no_no_xueji_fields(world, outcome):
    entry = services.entry_create(
        by=world.user("xz1_ganbu"),
        data=unenrolled_data(world, record_check=outcome, family_situation="", person_status=""),
    )
    assert entry.record_check == outcome


def test_key_groups_are_a_snapshot_taken_when_the_entry_is_made(world):
    school = world.user(SCHOOL_USER).school
    student = make_student(world, key_groups={KeyGroup.LEFT_BEHIND, KeyGroup.POVERTY_REGISTERED})
    # The student's flags are the truth; what the form says is ignored.
    entry = create_entry(world, student, key_groups=[KeyGroup.ORPHAN])
    student_services.student_update(
        by=world.user(SCHOOL_USER),
        student=student,
        data=student_data(school, id_number=student.id_number, key_groups={KeyGroup.MIGRANT}),
    )
    student.refresh_from_db()
    assert student.migrant and not student.left_behind
    assert set(fresh(entry).key_groups) == {KeyGroup.POVERTY_REGISTERED, KeyGroup.LEFT_BEHIND}


def test_responsible_township_defaults_to_the_hukou_township(world):
    # Schooled in township 1, 户籍 in a village of township 2.
    village = world.user("xz2_cungan").region
    student = make_student(world, hukou_region=village)
    entry = create_entry(world, student)
    assert entry.township == township(world, "xz2_ganbu")


def test_responsible_township_is_the_schools_without_a_hukou(world):
    student = make_student(world, hukou_region=None)
    entry = create_entry(world, student)
    assert entry.township == world.user(SCHOOL_USER).school.township


def test_responsible_township_given_explicitly_wins(world, child):
    entry = create_entry(world, child, township=township(world, "xz2_ganbu"))
    assert entry.township == township(world, "xz2_ganbu")


def test_a_not_enrolled_entry_for_a_student_is_refused(world, child):
    _refused(lambda: create_entry(world, child, kind=EntryKind.NOT_ENROLLED), field="kind")


def test_suspected_or_dropout_without_a_student_is_refused(world):
    data = unenrolled_data(world, kind=EntryKind.SUSPECTED)
    _refused(lambda: services.entry_create(by=world.user("xz1_ganbu"), data=data), field="student")


def test_a_not_enrolled_child_whose_id_number_belongs_to_a_student_is_refused(world, child):
    data = unenrolled_data(
        world, id_number=child.id_number, birth_date=child.birth_date, gender=child.gender
    )
    error = _refused(
        lambda: services.entry_create(by=world.user("xz1_ganbu"), data=data), field="id_number"
    )
    assert "已有学籍" in error.message


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (Status.DECEASED, EntryKind.SUSPECTED),
        (Status.TRANSFERRED_OUT, EntryKind.DROPOUT),
        (Status.DROPPED_OUT, EntryKind.SUSPECTED),
    ],
)
def test_a_student_whose_xueji_does_not_allow_the_kind_is_refused(world, child, status, kind):
    type(child).objects.filter(pk=child.pk).update(status=status)
    child.refresh_from_db()
    _refused(lambda: create_entry(world, child, kind=kind), field="student")


@pytest.mark.parametrize("username", ["xz1_xx1_banzhuren", "shi_dudao", "sheng_dudao"])
def test_roles_that_do_not_keep_the_ledger_cannot_create_entries(world, child, username):
    _refused(lambda: create_entry(world, child, username=username), match="角色")


def test_a_student_outside_the_area_is_refused(world, child):
    for username in ("xz2_ganbu", "xz1_xx4_guanli", "c2_xian_admin"):
        _refused(lambda u=username: create_entry(world, child, username=u), match="管辖范围")


def test_a_not_enrolled_child_placed_outside_the_area_is_refused(world):
    data = unenrolled_data(world, hukou_region=township(world, "xz2_ganbu"))
    _refused(lambda: services.entry_create(by=world.user("xz1_ganbu"), data=data), field="township")


# -- one open entry per child ------------------------------------------------------------------


def test_a_second_open_entry_for_the_same_child_is_refused_by_the_service(world, child):
    first = create_entry(world, child)
    error = _refused(
        lambda: create_entry(world, child, kind=EntryKind.DROPOUT, username=COUNTY_USER),
        first,
        field="student",
    )
    assert "已有一条在册" in error.message


def test_a_second_open_entry_for_the_same_child_is_refused_by_the_database(world, child):
    first = create_entry(world, child)
    values = LedgerEntry.objects.values().get(pk=first.pk)
    values.pop("id")
    for state in sorted(OPEN_STATES):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(**{**values, "state": state})
    # Closed and excluded episodes do not count.
    for state in (State.EXCLUDED, State.CLOSED):
        LedgerEntry.objects.create(**{**values, "state": state})
    assert LedgerEntry.objects.filter(student=child).count() == 3


def test_a_second_open_not_enrolled_entry_with_the_same_id_number_is_refused(world):
    services.entry_create(by=world.user("xz1_ganbu"), data=unenrolled_data(world))
    data = unenrolled_data(world)
    data.id_number = LedgerEntry.objects.get().id_number
    _refused(lambda: services.entry_create(by=world.user("xian_staff"), data=data), field="name")


def test_a_student_entry_is_refused_while_their_not_enrolled_entry_is_open(world):
    """The 未入学 child is later enrolled: they are the same child, and the open 未入学 entry
    is to be returned (linking the student), not doubled."""
    unenrolled = services.entry_create(by=world.user("xz1_ganbu"), data=unenrolled_data(world))
    student = make_student(
        world,
        grade=1,
        name=unenrolled.name,
        gender=unenrolled.gender,
        birth_date=unenrolled.birth_date,
        id_number=unenrolled.id_number,
    )
    _refused(lambda: create_entry(world, student), unenrolled, field="student")


def test_returning_a_not_enrolled_child_links_the_student_record_they_now_have(world):
    entry = services.entry_create(by=world.user("xz1_ganbu"), data=unenrolled_data(world))
    _refused(
        lambda: services.entry_return(by=world.user("xz1_ganbu"), entry=entry, note="已入学"),
        entry,
        field="student",
    )
    student = make_student(
        world,
        grade=1,
        name=entry.name,
        gender=entry.gender,
        birth_date=entry.birth_date,
        id_number=entry.id_number,
    )
    entry = services.entry_return(
        by=world.user("xz1_ganbu"), entry=entry, note="已入学一年级", student=student
    )
    assert (fresh(entry).student, entry.state) == (student, State.RETURNED)
    assert (fresh(entry).school, fresh(entry).grade) == (student.school, 1)
    assert entry in selectors.entries(world.user(SCHOOL_USER))  # the school follows the child
    assert consistency.for_user(world.user(APPROVER)) == []


# -- 销号 -----------------------------------------------------------------------------------------


def _propose(world, entry, username=SCHOOL_USER, **kwargs):
    values = {"reason": ClosureReason.STUDYING_ELSEWHERE, "evidence_text": "外省学校在读证明"}
    values.update(kwargs)
    return services.entry_propose_closure(by=world.user(username), entry=entry, **values)


def test_closure_needs_a_reason_from_the_list_and_evidence(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _refused(lambda: _propose(world, entry, evidence_text="  "), entry, field="evidence_text")
    _refused(lambda: _propose(world, entry, reason="bored"), entry, field="closure_reason")
    bad_file = SimpleUploadedFile("proof.exe", b"MZ")
    _refused(
        lambda: _propose(world, entry, evidence_text="", evidence_file=bad_file),
        entry,
        field="evidence_file",
    )
    entry = _propose(world, entry)
    assert (entry.state, entry.proposed_from) == (State.PROPOSED, State.PERSUADING)
    assert entry.events.order_by("-id")[0].note == "在外地就读。外省学校在读证明。"


def test_closure_evidence_may_be_a_file_alone(world, child):
    entry = entry_in(world, State.CONFIRMED, child)
    proof = SimpleUploadedFile("死亡证明.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    entry = _propose(
        world, entry, reason=ClosureReason.DECEASED, evidence_text="", evidence_file=proof
    )
    event = entry.events.get(action=Action.PROPOSE)
    assert event.evidence.name.endswith(".pdf") and event.evidence.read() == b"%PDF-1.4 proof"


def test_returned_closure_only_after_the_return_is_recorded(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _refused(
        lambda: _propose(world, entry, reason=ClosureReason.RETURNED),
        entry,
        field="closure_reason",
        match="先登记复学",
    )
    entry = services.entry_return(by=world.user(SCHOOL_USER), entry=entry, note="回校")
    entry = _propose(world, entry, reason=ClosureReason.RETURNED, evidence_text="跟踪一学期")
    assert entry.state == State.PROPOSED


@pytest.mark.parametrize("username", ["xz1_ganbu", "xz1_xx1_xiaozhang", SCHOOL_USER])
def test_only_the_county_approves_closure(world, child, username):
    entry = _propose(world, entry_in(world, State.CONFIRMED, child), username=COUNTY_USER)
    _refused(
        lambda: services.entry_approve(by=world.user(username), entry=entry), entry, match="角色"
    )
    assert services.entry_approve(by=world.user(APPROVER), entry=entry).state == State.CLOSED


def test_approving_ones_own_proposal_is_refused(world, child):
    staff = world.user(COUNTY_USER)
    entry = _propose(world, entry_in(world, State.CONFIRMED, child), username=COUNTY_USER)
    _refused(lambda: services.entry_approve(by=staff, entry=entry), entry, match="自己提交")
    assert Action.APPROVE not in permissions.possible_actions(staff, entry)
    assert Action.APPROVE in permissions.possible_actions(world.user(APPROVER), entry)
    entry = services.entry_approve(by=world.user(APPROVER), entry=entry, comment="同意")
    # Proposer and approver are both on the timeline.
    actors = dict(entry.events.values_list("action", "actor__username"))
    assert (actors[Action.PROPOSE], actors[Action.APPROVE]) == (COUNTY_USER, APPROVER)


@pytest.mark.parametrize("state", [State.CONFIRMED, State.PERSUADING, State.RETURNED])
def test_rejection_needs_a_comment_and_returns_to_the_state_proposed_from(world, child, state):
    entry = _propose(world, entry_in(world, state, child))
    admin = world.user(APPROVER)
    _refused(
        lambda: services.entry_reject(by=admin, entry=entry, comment=" "), entry, field="comment"
    )
    entry = services.entry_reject(by=admin, entry=entry, comment="证明材料不清楚")
    entry = fresh(entry)
    assert (entry.state, entry.proposed_from, entry.closure_reason) == (state, "", "")
    assert entry.events.order_by("-id")[0].note == "证明材料不清楚"


@pytest.mark.parametrize(
    ("reason", "event", "status"),
    [
        (ClosureReason.DECEASED, EventKind.DEATH, Status.DECEASED),
        (ClosureReason.STUDYING_ELSEWHERE, EventKind.TRANSFER_OUT, Status.TRANSFERRED_OUT),
        (ClosureReason.ABROAD, EventKind.TRANSFER_OUT, Status.TRANSFERRED_OUT),
        (ClosureReason.SPECIAL_PLACEMENT, EventKind.HOME_TEACHING, Status.HOME_TAUGHT),
        (ClosureReason.DEFERRED, EventKind.SUSPEND, Status.SUSPENDED),
        (ClosureReason.COMPLETED, None, Status.DROPPED_OUT),
    ],
)
def test_approval_closes_the_entry_and_records_the_matching_xueji_event(
    world, child, reason, event, status
):
    entry = _propose(world, entry_in(world, State.PERSUADING, child), reason=reason)
    events = child.events.count()
    entry = services.entry_approve(by=world.user(APPROVER), entry=entry)
    entry = fresh(entry)
    assert entry.state == State.CLOSED and entry.closure_reason == reason and entry.closed_at
    child.refresh_from_db()
    assert child.status == status
    kinds = list(child.events.order_by("id").values_list("kind", flat=True)[events:])
    assert kinds == ([event] if event else [])
    if event == EventKind.TRANSFER_OUT:
        assert child.events.latest("id").destination
    # 人账相符 holds after every closure (a child aged out may keep a 辍学 学籍).
    assert consistency.for_user(world.user(APPROVER)) == []


def test_returned_closure_leaves_the_resumed_xueji_as_it_is(world, child):
    entry = _propose(world, entry_in(world, State.RETURNED, child), reason=ClosureReason.RETURNED)
    events = child.events.count()
    services.entry_approve(by=world.user(APPROVER), entry=entry)
    child.refresh_from_db()
    assert child.status == Status.ENROLLED and child.events.count() == events


def test_a_closed_entry_stays_closed_and_in_history(world, child):
    entry = entry_in(world, State.CLOSED, child)
    admin = world.user(APPROVER)
    for call in (
        lambda: services.entry_reopen(by=admin, entry=entry, note="重新打开"),
        lambda: services.entry_review(by=admin, entry=entry, note="复核"),
        lambda: services.entry_reject(by=admin, entry=entry, comment="退回"),
    ):
        _refused(call, entry, match="已销号")
    assert permissions.possible_actions(admin, entry) == []
    assert entry in selectors.entries(admin)
    with pytest.raises(ProtectedError), transaction.atomic():
        # Nor can it be deleted: its timeline holds it.
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert fresh(entry).state == State.CLOSED


def test_a_child_who_drops_out_again_gets_a_new_entry_linked_to_the_closed_one(world, child):
    """反弹: the old entry stays closed; the new one points to it, and the rebound filter
    finds it."""
    closed = _propose(world, entry_in(world, State.RETURNED, child), reason=ClosureReason.RETURNED)
    closed = services.entry_approve(by=world.user(APPROVER), entry=closed)
    again = create_entry(world, child, kind=EntryKind.DROPOUT)
    assert again.previous == closed and fresh(closed).state == State.CLOSED
    assert list(closed.rebounds.all()) == [again]
    assert list(selectors.entries(world.user(APPROVER), rebound=True)) == [again]
    assert set(selectors.entries(world.user(APPROVER))) == {closed, again}


def test_a_closed_not_enrolled_child_who_later_drops_out_as_a_student_is_a_rebound(world):
    """The same ID number is the same child, with or without a student record then."""
    closed = services.entry_create(by=world.user("xz1_ganbu"), data=unenrolled_data(world))
    closed = _propose(world, closed, username="xz1_ganbu")
    closed = services.entry_approve(by=world.user(APPROVER), entry=closed)
    student = make_student(
        world,
        grade=1,
        name=closed.name,
        gender=closed.gender,
        birth_date=closed.birth_date,
        id_number=closed.id_number,
    )
    again = create_entry(world, student)
    assert again.previous == closed
    assert list(selectors.entries(world.user(APPROVER), rebound=True)) == [again]


def test_a_first_entry_is_not_a_rebound(world, child):
    entry = create_entry(world, child)
    assert entry.previous is None
    assert not selectors.entries(world.user(APPROVER), rebound=True).exists()


# -- refusals, the timeline and the audit trail ------------------------------------------------


def test_every_action_writes_a_timeline_line_and_an_audit_event(world, child):
    staff, admin = world.user(COUNTY_USER), world.user(APPROVER)
    entry = create_entry(world, child, note="连续三天未到校")
    entry = services.entry_review(by=staff, entry=entry, note="已家访")
    entry = services.entry_confirm(by=staff, entry=entry, note="确认")
    entry = services.entry_assign(by=staff, entry=entry, township=township(world))
    entry = services.entry_return(by=staff, entry=entry, note="回校")
    entry = services.entry_reopen(by=staff, entry=entry, note="又不来了")
    entry = services.entry_update(
        by=staff, entry=entry, reason=Reason.WORK, whereabouts="working", note="外出"
    )
    entry = _propose(world, entry, username=COUNTY_USER, reason=ClosureReason.ABROAD)
    entry = services.entry_reject(by=admin, entry=entry, comment="补充出境记录")
    entry = _propose(world, entry, username=COUNTY_USER, reason=ClosureReason.ABROAD)
    entry = services.entry_approve(by=admin, entry=entry, comment="同意")
    timeline = list(selectors.timeline(entry))
    assert [(e.action, e.state_before, e.state_after) for e in timeline] == [
        (Action.CREATE, "", State.PENDING),
        (Action.REVIEW, State.PENDING, State.PENDING),
        (Action.CONFIRM, State.PENDING, State.CONFIRMED),
        (Action.ASSIGN, State.CONFIRMED, State.PERSUADING),
        (Action.RETURN, State.PERSUADING, State.RETURNED),
        (Action.REOPEN, State.RETURNED, State.CONFIRMED),
        (Action.UPDATE, State.CONFIRMED, State.CONFIRMED),
        (Action.PROPOSE, State.CONFIRMED, State.PROPOSED),
        (Action.REJECT, State.PROPOSED, State.CONFIRMED),
        (Action.PROPOSE, State.CONFIRMED, State.PROPOSED),
        (Action.APPROVE, State.PROPOSED, State.CLOSED),
    ]
    assert timeline[0].note == "连续三天未到校" and timeline[0].actor.username == SCHOOL_USER
    assert {e.actor.username for e in timeline[1:]} == {COUNTY_USER, APPROVER}
    audits = AuditEvent.objects.filter(object_type="ledger.LedgerEntry", object_id=str(entry.pk))
    assert audits.count() == len(timeline)
    assert audits.filter(action="create").count() == 1
    assert set(audits.values_list("region_code", flat=True)) == {entry.township.code}
    # No ID number reaches the audit trail.
    assert not any(child.id_number in str(a.changes) + a.detail + a.object_repr for a in audits)


def test_timeline_events_are_append_only(world, child):
    event = create_entry(world, child).events.get()
    event.note = "改过"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        EntryEvent.objects.filter(pk=event.pk).update(note="改过")
    with pytest.raises(PermissionError):
        EntryEvent.objects.all().delete()
    assert EntryEvent.objects.get(pk=event.pk).note == ""


@pytest.mark.postgres
def test_postgresql_itself_refuses_update_and_delete_of_the_timeline(world, child):
    event = create_entry(world, child).events.get()
    for sql in (
        "UPDATE ledger_entryevent SET note = 'forged' WHERE id = %s",
        "DELETE FROM ledger_entryevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert EntryEvent.objects.get(pk=event.pk).note == ""


def test_a_refused_action_changes_nothing(world, child):
    """State, timeline, 学籍 and audit trail all stay as they were."""
    entry = entry_in(world, State.PENDING, child)
    principal = world.user("xz1_xx1_xiaozhang")
    for call in (
        lambda: services.entry_return(by=principal, entry=entry, note="回校"),  # wrong state
        lambda: services.entry_assign(by=principal, entry=entry, township=township(world)),
        lambda: services.entry_exclude(by=principal, entry=entry, note=""),
        lambda: services.entry_review(by=world.user("shi_dudao"), entry=entry, note="x"),
    ):
        _refused(call, entry)
    child.refresh_from_db()
    assert child.status == Status.ENROLLED
    assert EnrollmentEvent.objects.filter(student=child).count() == 1


# -- the area ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["xz1_xx4_guanli", "xz2_ganbu", "xz2_cungan", "c2_xian_admin", "c2_xian_staff"]
)
def test_acting_on_an_entry_outside_the_area_is_refused(world, child, username):
    entry = entry_in(world, State.CONFIRMED, child)
    by = world.user(username)
    for call in (
        lambda: services.entry_review(by=by, entry=entry, note="复核"),
        lambda: services.entry_return(by=by, entry=entry, note="回校"),
        lambda: _propose(world, entry, username=username),
    ):
        _refused(call, entry, match="不在您的管辖范围内")


def test_only_the_responsible_township_acts_the_schools_township_reads(world):
    """A child schooled in township 1 with 户籍 in township 2 (issue 12, rule 2): township 2
    (the 劝返主体) acts on the entry; township 1, where the school is, reads it but does not
    act on it."""
    student = make_student(world, hukou_region=township(world, "xz2_ganbu"))
    entry = create_entry(world, student)
    for username in ("xz2_ganbu", "xz2_cungan"):
        entry = services.entry_review(by=world.user(username), entry=entry, note="复核")
    assert entry.events.filter(action=Action.REVIEW).count() == 2
    schools_township = world.user("xz1_ganbu")
    assert entry in selectors.entries(schools_township)
    assert permissions.possible_actions(schools_township, entry) == []
    with pytest.raises(AppError, match="劝返主体为其他乡镇"):
        services.entry_review(by=schools_township, entry=entry, note="复核")
    assert entry.events.filter(action=Action.REVIEW).count() == 2


def test_a_class_teacher_sees_their_class_but_keeps_no_ledger(world, child):
    teacher = world.user("xz1_xx1_banzhuren")
    entry = create_entry(world, child)
    other = create_entry(world, make_student(world, grade=2))
    assert list(selectors.entries(teacher)) == [entry]
    assert child.klass == head_class(world) and other.student.klass is None
    assert permissions.possible_actions(teacher, entry) == []


def test_review_records_the_day_and_names_the_term_of_the_entrys_calendar(world, child):
    entry = create_entry(world, child)
    LedgerEntry.objects.filter(pk=entry.pk).update(reviewed_on=datetime.date(2020, 9, 1))
    entry = services.entry_review(by=world.user(SCHOOL_USER), entry=entry, note="仍在家")
    assert fresh(entry).reviewed_on == timezone.localdate()
    # County A has no calendar yet: the note alone.
    assert entry.events.order_by("-id")[0].note == "仍在家"
    today = timezone.localdate()
    add_term(child.school.township.parent, today - datetime.timedelta(days=10), today, "秋季学期")
    entry = services.entry_review(by=world.user(SCHOOL_USER), entry=entry, note="已家访")
    assert entry.events.order_by("-id")[0].note == "秋季学期：已家访"


def test_a_student_with_a_record_here_cannot_be_checked_as_no_record(world, child):
    with pytest.raises(AppError, match="应为“本省有学籍”") as error:
        create_entry(world, child, record_check="none")
    assert "record_check" in error.value.errors
    assert not LedgerEntry.objects.exists()


def test_duplicate_refusal_does_not_tell_another_areas_entry_state(world):
    """A 未入学 child already on county B's ledger: county A hears only that the entry is
    outside its area, not its kind or state."""
    b_township = world.user("c2_xz1_ganbu").region
    data = unenrolled_data(world, hukou_region=b_township)
    services.entry_create(by=world.user("c2_xian_staff"), data=data)
    again = unenrolled_data(world, id_number=data.id_number)
    with pytest.raises(AppError, match="在您管辖范围以外") as error:
        services.entry_create(by=world.user("xian_staff"), data=again)
    assert "未入学" not in error.value.message
    with pytest.raises(AppError, match="（未入学，已确认辍学）"):
        services.entry_create(
            by=world.user("c2_xian_staff"), data=unenrolled_data(world, id_number=data.id_number)
        )


def test_update_keeps_the_measures_and_other_reasons_it_was_not_given(world, child):
    entry = create_entry(world, child, measures="结对帮扶", other_reasons=["poverty"])
    entry = services.entry_update(
        by=world.user("xian_staff"), entry=entry, reason="work", whereabouts="working"
    )
    entry.refresh_from_db()
    assert (entry.measures, entry.other_reasons, entry.reason) == ("结对帮扶", ["poverty"], "work")


def test_closing_a_returned_child_for_death_records_death_in_the_record(world, child):
    """人账相符 after 销号: a child back in class (在读) who then dies is 死亡 in 学籍 too."""
    entry = entry_in(world, State.RETURNED, child)
    services.entry_propose_closure(
        by=world.user(SCHOOL_USER), entry=entry, reason="deceased", evidence_text="死亡证明"
    )
    services.entry_approve(by=world.user(APPROVER), entry=entry)
    child.refresh_from_db()
    assert child.status == Status.DECEASED
    assert consistency.for_user(world.user(APPROVER)) == []
