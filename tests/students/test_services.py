"""Students and 学籍 (DOMAIN.md §3, issue 3): identity rules, the state machine, transfers."""

import datetime

import pytest

from accounts.models import AuditEvent, School, SchoolClass, current_school_year
from kongchuo.errors import AppError
from students import services
from students.choices import EventKind, Status, TransferStatus
from students.identity import normalise_id_number, validate_id_number
from students.models import EnrollmentEvent, Student
from students.transitions import TRANSITIONS
from tests.students.factories import id_number, student_data

pytestmark = pytest.mark.django_db


def school(code_prefix="532926", index=0):
    return School.objects.filter(
        township__code__startswith=code_prefix, parent__isnull=True
    ).order_by("code")[index]


def create(world, username="xz1_xx1_guanli", **overrides):
    user = world.user(username)
    target = overrides.pop("school", None) or user.school or school()
    return services.student_create(by=user, data=student_data(target, **overrides))


def test_id_number_normalisation_full_width_spaces_and_lower_x():
    assert normalise_id_number("１１０１０５ 1949 1231 002ｘ") == "11010519491231002X"
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1101051949123A002X", "格式不正确"),
        ("110105194912310021", "校验位不正确"),
        ("1101051949123100", "应为18位"),
        ("110105194913310021", "出生日期或地区代码无效"),
        ("990105201001010014", "出生日期或地区代码无效"),  # no such area code
    ],
)
def test_bad_id_numbers_are_refused_with_the_reason(raw, message):
    with pytest.raises(AppError, match=message):
        validate_id_number(raw)


def test_id_number_must_agree_with_birth_date_and_sex():
    with pytest.raises(AppError) as birth:
        validate_id_number("11010519491231002X", birth_date=datetime.date(1950, 1, 1))
    assert "birth_date" in birth.value.errors
    with pytest.raises(AppError) as sex:
        validate_id_number("11010519491231002X", gender="M")  # 17th digit 2: female
    assert "gender" in sex.value.errors


def test_student_without_id_number_is_allowed_and_flagged(world):
    student = create(world, with_id=False)
    assert student.id_number is None and student.id_missing


def test_one_child_one_record_names_where_the_existing_one_is(world):
    first = create(world)
    with pytest.raises(AppError) as again:
        create(world, id_number=first.id_number)
    assert "南涧镇中心学校" in again.value.message
    # Seen from a school that may not see the first record, the place is not revealed.
    other = world.user("xz2_xx1_guanli")
    with pytest.raises(AppError) as elsewhere:
        services.student_create(
            by=other, data=student_data(other.school, id_number=first.id_number)
        )
    assert "管辖范围以外" in elsewhere.value.message and "南涧镇" not in elsewhere.value.message
    assert Student.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"grade": 10}, "grade"),
        ({"birth_date": datetime.date(2099, 1, 1), "id_number": ""}, "birth_date"),
        ({"entry_date": datetime.date(2099, 9, 1)}, "entry_date"),
        ({"ethnicity": "火星族"}, "ethnicity"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_student_fields_are_refused_and_nothing_is_written(world, overrides, field):
    with pytest.raises(AppError) as refused:
        create(world, **overrides)
    assert field in refused.value.errors
    assert not Student.objects.exists()


def test_guardian_phone_must_be_a_phone_number(world):
    from students.services import GuardianData

    with pytest.raises(AppError, match="不是有效的电话号码"):
        create(world, guardians=[GuardianData(name="王", relation="母亲", phone="12345")])


def test_school_outside_the_area_is_refused(world):
    user = world.user("xz1_xx1_guanli")
    with pytest.raises(AppError, match="管辖范围"):
        services.student_create(by=user, data=student_data(school("530102")))


def test_creating_a_student_records_the_enrol_event_and_an_audit_without_the_id(world):
    student = create(world)
    assert list(student.events.values_list("kind", flat=True)) == [EventKind.ENROL]
    event = AuditEvent.objects.get(object_type="students.Student", action="create")
    assert student.id_number not in str(event.changes)
    assert event.changes["id_number"] == ["", "[已隐藏]"]


@pytest.mark.parametrize("kind", list(TRANSITIONS))
@pytest.mark.parametrize("status", [None, *Status])
def test_state_machine_table(world, kind, status):
    """Every (event, status) pair: allowed ones change the status, the rest are refused."""
    if kind in (EventKind.ENROL, EventKind.MERGE) or status is None:
        return  # registration is part of creating the record; a merge is students.merge's
    student = create(world, grade=9)
    Student.objects.filter(pk=student.pk).update(status=status)
    student.refresh_from_db()
    allowed, after = TRANSITIONS[kind]
    call = {
        "by": world.user("xz1_xx1_guanli"),
        "student": student,
        "kind": kind,
        "date": datetime.date.today(),
        "reason": "测试",
        "destination": "外省某校",
    }
    if status in allowed:
        services.event_record(**call)
        student.refresh_from_db()
        assert student.status == after
    else:
        with pytest.raises(AppError) as refused:
            services.event_record(**call)
        assert "不能" in refused.value.message
        student.refresh_from_db()
        assert student.status == status


def test_nothing_after_death_and_no_resume_of_an_enrolled_student(world):
    student = create(world)
    user = world.user("xz1_xx1_guanli")
    today = datetime.date.today()
    with pytest.raises(AppError, match="在读"):
        services.event_record(
            by=user, student=student, kind=EventKind.RESUME, date=today, reason="x"
        )
    services.event_record(by=user, student=student, kind=EventKind.DEATH, date=today, reason="病故")
    with pytest.raises(AppError, match="死亡"):
        services.event_record(
            by=user, student=student, kind=EventKind.SUSPEND, date=today, reason="x"
        )


def test_events_cannot_be_edited_or_deleted(world):
    event = create(world).events.get()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        EnrollmentEvent.objects.all().delete()


def test_only_grade_9_graduates(world):
    student = create(world, grade=6)
    with pytest.raises(AppError, match="初三"):
        services.event_record(
            by=world.user("xz1_xx1_guanli"),
            student=student,
            kind=EventKind.GRADUATE,
            date=datetime.date.today(),
            reason="x",
        )


def test_event_date_cannot_be_in_the_future_or_before_the_last_event(world):
    student = create(world, entry_date=datetime.date(2025, 9, 1))
    user = world.user("xz1_xx1_guanli")
    with pytest.raises(AppError, match="不能晚于今天"):
        services.event_record(
            by=user,
            student=student,
            kind=EventKind.SUSPEND,
            date=datetime.date(2099, 1, 1),
            reason="x",
        )
    with pytest.raises(AppError, match="不能早于上一次"):
        services.event_record(
            by=user,
            student=student,
            kind=EventKind.SUSPEND,
            date=datetime.date(2025, 1, 1),
            reason="x",
        )


def test_transfer_moves_the_child_when_the_receiving_school_confirms(world):
    student = create(world)
    sender = world.user("xz1_xx1_guanli")
    receiver = world.user("xz2_xx1_guanli")
    transfer = services.event_record(
        by=sender,
        student=student,
        kind=EventKind.TRANSFER_OUT,
        date=datetime.date.today(),
        reason="随父母迁居",
        to_school=receiver.school,
    )
    assert transfer.status == TransferStatus.PENDING
    assert not Student.objects.for_user(receiver).filter(pk=student.pk).exists()
    klass = SchoolClass.objects.get(
        school=receiver.school, grade=student.grade, school_year=current_school_year(), name="1班"
    )
    with pytest.raises(AppError, match="转入学校"):
        services.transfer_decide(by=sender, transfer=transfer, accept=True, klass=klass)
    services.transfer_decide(by=receiver, transfer=transfer, accept=True, klass=klass)
    student.refresh_from_db()
    assert student.school == receiver.school and student.status == Status.ENROLLED
    assert student.klass == klass  # on the class's roll, seen by the attendance rule
    assert Student.objects.for_user(receiver).filter(pk=student.pk).exists()
    assert not Student.objects.for_user(sender).filter(pk=student.pk).exists()
    assert list(student.events.values_list("kind", flat=True)) == [
        EventKind.ENROL,
        EventKind.TRANSFER_OUT,
        EventKind.TRANSFER_IN,
    ]


def test_reveal_is_for_roles_that_need_it_and_is_audited(world):
    student = create(world)
    assert (
        services.reveal_id_number(by=world.user("xz1_xx1_guanli"), student=student)
        == student.id_number
    )
    assert AuditEvent.objects.filter(action="reveal", object_id=str(student.pk)).count() == 1
    with pytest.raises(AppError, match="无权"):
        services.reveal_id_number(by=world.user("xz1_ganbu"), student=student)


def test_township_official_sees_students_by_school_or_hukou(world):
    official = world.user("xz2_ganbu")
    by_school = create(world)  # school in 南涧镇, hukou in 南涧镇
    assert not Student.objects.for_user(official).filter(pk=by_school.pk).exists()
    from accounts.models import Region

    by_hukou = create(
        world,
        id_number=id_number(datetime.date(2017, 3, 14)),
        hukou_region=Region.objects.get(code=official.region.code),
    )
    assert Student.objects.for_user(official).filter(pk=by_hukou.pk).exists()


def test_an_update_that_changes_nothing_leaves_the_record_alone(world):
    student = create(world)
    stamp = Student.objects.get(pk=student.pk).updated_at
    audits = AuditEvent.objects.count()
    user = world.user("xz1_xx1_guanli")
    same = student_data(student.school, id_number=student.id_number)
    services.student_update(by=user, student=student, data=same)
    assert Student.objects.get(pk=student.pk).updated_at == stamp
    assert AuditEvent.objects.count() == audits
    changed = student_data(student.school, id_number=student.id_number, guardians=[])
    services.student_update(by=user, student=student, data=changed)
    assert not student.guardians.exists()
    assert AuditEvent.objects.filter(action="update", detail="监护人信息已更新").exists()
