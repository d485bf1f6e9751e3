"""What users do with a comparison's results (issue 13, "what users get" 2): a disposition
with who and when, and the one-click follow-ups made by the owning apps' services — a 未入学
ledger entry (ledger.services.entry_create), a corrected key-group flag
(students.services.student_update), a link to an existing student, an explanation."""

import pytest

from accounts.models import AuditEvent
from comparisons import selectors, services
from comparisons.choices import Disposition, MismatchKind, Strength
from comparisons.models import Mismatch, MismatchDisposition
from kongchuo.errors import AppError
from ledger.choices import EntryKind, RecordCheck, Source, State
from ledger.models import LedgerEntry
from students.models import Student
from tests.comparisons.results import (
    COUNTY_B,
    first_school,
    make_mismatch,
    make_run,
    make_source,
    not_enrolled,
)
from tests.ledger.conftest import make_student

pytestmark = pytest.mark.django_db

COUNTY, SCHOOL, TOWNSHIP = "xian_staff", "xz1_xx1_guanli", "xz1_ganbu"
COMPLETION = {
    "record_check": RecordCheck.NONE,
    "reason": "poverty",
    "whereabouts": "at_home",
    "person_status": "在家帮忙务农",
    "family_situation": "父母外出务工，随祖父母生活",
    "parent_contact": "13812345678",
    "department_opinion": "村委会建议尽快入学",
}


def fresh(mismatch) -> Mismatch:
    return Mismatch.objects.select_related("handled").get(pk=mismatch.pk)


def test_an_explanation_is_a_disposition_with_who_and_when_and_needs_a_note(world):
    mismatch = not_enrolled()
    user = world.user(COUNTY)
    with pytest.raises(AppError) as refused:
        services.explain(by=user, mismatch=mismatch, note="  ")
    assert refused.value.errors == {"note": ["请填写情况说明：为什么这条不一致不需要处理。"]}
    assert fresh(mismatch).handled is None

    made = services.explain(by=user, mismatch=mismatch, note="已随父母迁往外省，户籍未迁")
    assert (made.by, made.disposition, made.county, made.key) == (
        user,
        Disposition.EXPLAINED,
        mismatch.county,
        mismatch.key,
    )
    assert made.at is not None and made.fingerprint == mismatch.fingerprint
    assert fresh(mismatch).handled == made
    audit = AuditEvent.objects.filter(object_type="comparisons.Mismatch").get()
    assert audit.actor == user and "已说明情况" in audit.detail


def test_a_handled_mismatch_is_not_handled_twice_and_dispositions_are_append_only(world):
    mismatch = not_enrolled()
    made = services.explain(by=world.user(COUNTY), mismatch=mismatch, note="信息错误")
    with pytest.raises(AppError, match="已处理"):
        services.explain(by=world.user(COUNTY), mismatch=mismatch, note="再说明一次")
    with pytest.raises(PermissionError):
        made.save()
    assert MismatchDisposition.objects.count() == 1


def test_a_disposition_needs_the_permission_and_the_users_area(world):
    """Rule 6: a mismatch outside the user's area is refused by the service too; a role
    without comparisons.dispose is refused before anything."""
    elsewhere = not_enrolled(COUNTY_B)
    with pytest.raises(AppError, match="不在您的管辖范围内"):
        services.explain(by=world.user(COUNTY), mismatch=elsewhere, note="说明")
    with pytest.raises(AppError, match="不能处理比对结果"):
        services.explain(by=world.user("xz1_xx1_banzhuren"), mismatch=not_enrolled(), note="说明")
    with pytest.raises(AppError, match="不是有效的处理方式"):
        services.dispose(by=world.user(COUNTY), mismatch=not_enrolled(), disposition="ignored")
    assert MismatchDisposition.objects.count() == 0


def test_open_entry_puts_the_child_on_the_ledger_as_not_enrolled_from_the_list(world):
    mismatch = not_enrolled()
    row = mismatch.source_row
    entry = services.open_entry(by=world.user(TOWNSHIP), mismatch=mismatch, **COMPLETION)
    assert (entry.kind, entry.source, entry.state) == (
        EntryKind.NOT_ENROLLED,
        Source.COMPARISON,
        State.CONFIRMED,
    )
    assert (entry.name, entry.birth_date, entry.id_number, entry.gender) == (
        row.name,
        row.birth_date,
        row.id_number,
        row.gender,
    )
    assert entry.hukou_region == row.region and entry.township == mismatch.township
    assert entry.record_check == RecordCheck.NONE and entry.student is None
    handled = fresh(mismatch).handled
    assert handled.disposition == Disposition.ENTRY_OPENED and handled.entry == entry


def test_open_entry_asks_for_what_the_ledgers_record_check_requires(world):
    """The 学籍 check fields are the ledger's rule (ledger.services.NO_RECORD_FIELDS): the
    same error, and nothing written."""
    mismatch = not_enrolled()
    incomplete = {**COMPLETION, "family_situation": "", "parent_contact": ""}
    with pytest.raises(AppError) as refused:
        services.open_entry(by=world.user(COUNTY), mismatch=mismatch, **incomplete)
    assert set(refused.value.errors) == {"family_situation", "parent_contact"}
    assert LedgerEntry.objects.count() == 0 and fresh(mismatch).handled is None


def test_open_entry_leaves_out_an_id_number_whose_checksum_failed(world):
    run = make_run(make_source())
    mismatch = make_mismatch(run)
    row = mismatch.source_row
    row.id_valid = False
    row.save()
    entry = services.open_entry(by=world.user(COUNTY), mismatch=fresh(mismatch), **COMPLETION)
    assert entry.id_number == ""


def test_open_entry_is_only_for_a_child_with_no_student_record(world):
    student = make_student(world)
    run = make_run(make_source())
    flag = make_mismatch(run, kind=MismatchKind.POVERTY_FLAG, student=student, strength="id")
    with pytest.raises(AppError, match="不需要登记未入学台账"):
        services.open_entry(by=world.user(COUNTY), mismatch=flag, **COMPLETION)
    matched = make_mismatch(run, student=student, strength=Strength.ID, key="other")
    with pytest.raises(AppError, match="已有学籍"):
        services.open_entry(by=world.user(COUNTY), mismatch=matched, **COMPLETION)


def test_correct_flag_sets_the_students_poverty_flag_through_the_students_service(world):
    student = make_student(world)
    run = make_run(make_source(kind="poverty"))
    mismatch = make_mismatch(
        run,
        kind=MismatchKind.POVERTY_FLAG,
        student=student,
        strength=Strength.ID,
        school=student.school,
        details={"名单": "监测户", "系统": "未标记", "flags": {"relapse_monitored": True}},
    )
    services.correct_flag(by=world.user(SCHOOL), mismatch=mismatch)
    student = Student.objects.get(pk=student.pk)
    assert student.relapse_monitored and not student.poverty_registered
    assert fresh(mismatch).handled.disposition == Disposition.FLAG_CORRECTED
    # The students service wrote its own audit line of the change.
    changed = AuditEvent.objects.get(object_type="students.Student", action="update")
    assert changed.changes["relapse_monitored"] == [False, True]


def test_correct_flag_sets_disability_with_the_lists_type_and_grade(world):
    student = make_student(world)
    run = make_run(make_source(kind="disability"))
    mismatch = make_mismatch(
        run,
        kind=MismatchKind.DISABILITY_FLAG,
        student=student,
        strength=Strength.ID,
        details={"disability_type": "hearing", "disability_grade": 2},
    )
    services.correct_flag(by=world.user(COUNTY), mismatch=mismatch)
    student = Student.objects.get(pk=student.pk)
    assert (student.disabled, student.disability_type, student.disability_grade) == (
        True,
        "hearing",
        2,
    )


def test_a_weak_match_is_never_acted_on_until_a_person_confirms_it(world):
    """Rule 2: a match by name and birth date only is for a person to confirm."""
    student = make_student(world)
    run = make_run(make_source(kind="poverty"))
    mismatch = make_mismatch(
        run, kind=MismatchKind.POVERTY_FLAG, student=student, strength=Strength.WEAK
    )
    with pytest.raises(AppError) as refused:
        services.correct_flag(by=world.user(COUNTY), mismatch=mismatch)
    assert "confirmed" in refused.value.errors
    assert not Student.objects.get(pk=student.pk).poverty_registered
    services.correct_flag(by=world.user(COUNTY), mismatch=mismatch, confirmed=True)
    assert Student.objects.get(pk=student.pk).poverty_registered


def test_correct_flag_needs_the_students_own_permission(world):
    """A township may dispose of mismatches but does not keep 学籍: the students service
    refuses (its rule, not a copy)."""
    student = make_student(world)
    run = make_run(make_source(kind="poverty"))
    mismatch = make_mismatch(
        run, kind=MismatchKind.POVERTY_FLAG, student=student, strength=Strength.ID
    )
    with pytest.raises(AppError, match="管理学生学籍"):
        services.correct_flag(by=world.user(TOWNSHIP), mismatch=mismatch)
    assert fresh(mismatch).handled is None


def test_link_student_confirms_who_the_lists_child_is(world):
    student = make_student(world)
    mismatch = not_enrolled(school=student.school)
    made = services.link_student(by=world.user(SCHOOL), mismatch=mismatch, student=student)
    assert made.disposition == Disposition.LINKED and made.student == student
    other_county = make_student(world, "c2_xz1_xx1_guanli")
    with pytest.raises(AppError, match="所选学生不在您的管辖范围内"):
        services.link_student(by=world.user(COUNTY), mismatch=not_enrolled(), student=other_county)


def test_a_school_sees_only_its_own_mismatches_a_township_its_own_the_county_all(world):
    """Rule 6."""
    run = make_run(make_source())
    school = first_school()
    other = make_mismatch(run, key="k-other", township=None, school=None)
    mine = make_mismatch(run, key="k-mine", school=school, township=None)
    others_school = first_school(COUNTY_B)
    assert set(selectors.mismatches(world.user(COUNTY))) == {other, mine}
    assert set(selectors.mismatches(world.user(SCHOOL))) == {mine}
    assert set(selectors.mismatches(world.user(TOWNSHIP))) == {other, mine}
    assert set(selectors.mismatches(world.user("xz2_ganbu"))) == set()
    assert selectors.mismatches(world.user("c2_xian_staff")).count() == 0
    assert others_school is not None


def test_the_list_shows_the_latest_run_and_a_named_run_on_request(world):
    source = make_source()
    first = make_run(source)
    old = make_mismatch(first, key="same")
    second = make_run(source, previous=first)
    new = make_mismatch(second, key="same", change="same")
    user = world.user(COUNTY)
    assert list(selectors.mismatches(user)) == [new]
    assert list(selectors.mismatches(user, run=first.pk)) == [old]
    assert selectors.counts_by_kind(selectors.mismatches(user))[0] == (
        MismatchKind.NOT_ENROLLED,
        MismatchKind.NOT_ENROLLED.label,
        1,
    )


def test_filters_by_handled_strength_change_and_search(world):
    run = make_run(make_source())
    a = make_mismatch(run, key="a", strength=Strength.WEAK, change="changed")
    b = make_mismatch(run, key="b", name="赵小刚")
    user = world.user(COUNTY)
    services.explain(by=user, mismatch=b, note="已核实")
    assert list(selectors.mismatches(user, handled=False)) == [a]
    assert list(selectors.mismatches(user, handled=True)) == [b]
    assert list(selectors.mismatches(user, strength=Strength.WEAK)) == [a]
    assert list(selectors.mismatches(user, change="changed")) == [a]
    assert list(selectors.mismatches(user, query="赵小")) == [b]
    assert list(selectors.mismatches(user, query=a.id_number)) == [a]
    [(township, n)] = selectors.counts_by_township(selectors.mismatches(user))
    assert township == a.township and n == 2


def test_which_follow_ups_are_one_click(world):
    """Correcting flags of an ID match and confirming a weak match's student take one click;
    a weak match's flags, opening an entry and an explanation need their form."""
    run = make_run(make_source())
    child = make_student(world)
    matched = make_mismatch(
        run, kind=MismatchKind.POVERTY_FLAG, student=child, strength=Strength.ID
    )
    weak = make_mismatch(run, student=child, strength=Strength.WEAK, key="weak")
    follow = services.FollowUp
    assert services.one_click(matched, follow.CORRECT_FLAG)
    assert not services.one_click(weak, follow.CORRECT_FLAG)
    assert services.one_click(weak, follow.LINK_STUDENT)
    assert not services.one_click(not_enrolled(), follow.LINK_STUDENT)  # no student to confirm
    for each in (follow.OPEN_ENTRY, follow.EXPLAIN):
        assert not services.one_click(matched, each) and not services.one_click(weak, each)
