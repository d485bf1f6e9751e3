"""The natural-key upsert (issue 10): one rule, services.student_upsert, for the sync API's
PUT by 身份证号 / 学籍号 and (as its bulk variant) the roster import — each refusal asked through
both interfaces, with the same message. And the two routes' answers to malformed requests."""

import json

import pytest
from django.utils import timezone

from accounts.models import School
from kongchuo.errors import AppError
from students import services
from students.choices import EventKind, Status
from students.models import Student
from tests.students.factories import student_data
from tests.students.test_api import body
from tests.students.test_import import row, run

pytestmark = pytest.mark.django_db

STAFF = "xz1_xx1_guanli"  # 南涧镇中心学校, with its attached schools
CENTRE = "南涧镇中心学校"
BRANCH = "南涧镇完全小学"
LIST = "/api/v1/students/"

OUTSIDE = (
    "该{what}已在您管辖范围以外的学校登记，一个孩子只能有一条记录。"
    "如学生已转入本校，请联系原学校登记转出。"
)
MOVED = f"该学生的学籍在{CENTRE}：学生转学请登记“转出”学籍异动，由转入学校确认。"
STATUS = (
    "该学生当前学籍状态为“{status}”，导入或同步学生信息不改变学籍状态："
    "请先登记相应的学籍异动（如复学），或从花名册（同步数据）中去掉该学生。"
)
# The services' fields, as the roster names their columns.
COLUMNS = {"id_number": "身份证号", "student_number": "学籍号", "school": "学校标识码"}


def school(name: str) -> School:
    return School.objects.get(name=name, township__code__startswith="532926")


def enrolled(world, username=STAFF, **overrides) -> Student:
    user = world.user(username)
    return services.student_create(
        by=user, data=student_data(user.school, student_number="S-1", **overrides)
    )


def outside_the_area(world):
    return (
        enrolled(world, "xz2_xx1_guanli"),
        school(CENTRE),
        "id_number",
        OUTSIDE.format(what="身份证号"),
    )


def at_another_school(world):
    return enrolled(world), school(BRANCH), "school", MOVED


def with_status(kind, status):
    def scenario(world):
        student = enrolled(world)
        services.event_record(
            by=world.user(STAFF),
            student=student,
            kind=kind,
            date=timezone.localdate(),
            reason="外出务工",
            destination="广东省东莞市",
        )
        return student, school(CENTRE), "id_number", STATUS.format(status=status)

    return scenario


REFUSALS = {
    "outside the area": outside_the_area,
    "at another school": at_another_school,
    "dropped out": with_status(EventKind.DROP_OUT, "辍学"),
    "transferred out of the system": with_status(EventKind.TRANSFER_OUT, "转出"),
}


def api_put(world, student, at: School, **overrides):
    payload = body(at, id_number=student.id_number, birth_date=student.birth_date.isoformat())
    payload.update(overrides)
    return world.token_client(STAFF).put(
        f"{LIST}by-id-number/{student.id_number}/", payload, format="json"
    )


def import_row(world, student, at: School, **overrides):
    values = row(at, birth=student.birth_date, 身份证号=student.id_number, 学籍号="")
    values.update(overrides)
    return run(world, [values])


def state(student) -> tuple:
    student.refresh_from_db()
    return (student.name, student.school_id, student.status, student.updated_at)


@pytest.mark.parametrize("scenario", REFUSALS.values(), ids=REFUSALS.keys())
def test_the_api_and_the_import_refuse_alike(world, scenario):
    student, at, field, message = scenario(world)
    before, count = state(student), Student.objects.count()

    response = api_put(world, student, at, name="冒名")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {field: [message]}

    result = import_row(world, student, at, 姓名="冒名")
    assert [(e.row, e.column, e.message) for e in result.errors] == [(2, COLUMNS[field], message)]

    assert state(student) == before and Student.objects.count() == count


def test_a_refusal_outside_the_area_does_not_say_where(world):
    student, at, _, _ = outside_the_area(world)
    response = api_put(world, student, at)
    result = import_row(world, student, at)
    for text in (response.content.decode(), result.errors[0].message):
        assert "小湾东镇" not in text and student.name not in text


def test_the_student_number_routes_refuse_alike_too(world):
    foreign = enrolled(world, "xz2_xx1_guanli")
    message = OUTSIDE.format(what="学籍号")
    response = world.token_client(STAFF).put(
        f"{LIST}by-student-number/{foreign.student_number}/",
        body(school(CENTRE), id_number=""),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"student_number": [message]}
    result = run(world, [row(school(CENTRE), 身份证号="", 学籍号=foreign.student_number)])
    assert [(e.column, e.message) for e in result.errors] == [("学籍号", message)]


@pytest.mark.parametrize("status", sorted(services.UPSERT_STATUSES))
def test_the_statuses_a_roster_keeps_are_updated_by_both(world, status):
    student = enrolled(world)
    Student.objects.filter(pk=student.pk).update(status=status)
    response = api_put(world, student, school(CENTRE), address="公郎镇")
    assert response.status_code == 200, response.content
    result = import_row(world, student, school(CENTRE), 现住址="南涧镇西山村")
    assert result.ok and result.updated == 1, result.errors
    student.refresh_from_db()
    assert student.status == status and student.address == "南涧镇西山村"


# The service itself ---------------------------------------------------------------------


def test_student_upsert_creates_then_updates_by_either_key(world):
    user = world.user(STAFF)
    data = student_data(user.school, student_number="s-9")
    created, was_new = services.student_upsert(by=user, data=data, key="id_number")
    assert was_new and created.student_number == "S-9"
    again = student_data(user.school, id_number=created.id_number, student_number="S-9")
    again.address = "南涧镇新政村"
    updated, was_new = services.student_upsert(by=user, data=again, key="student_number")
    assert not was_new and updated.pk == created.pk and updated.address == "南涧镇新政村"
    assert Student.objects.count() == 1


def test_student_upsert_needs_the_key_and_the_capability(world):
    user = world.user(STAFF)
    with pytest.raises(AppError, match="请填写身份证号"):
        services.student_upsert(
            by=user, data=student_data(user.school, with_id=False), key="id_number"
        )
    with pytest.raises(AppError, match="管理学生学籍"):
        services.student_upsert(
            by=world.user("xz1_ganbu"), data=student_data(user.school), key="id_number"
        )
    assert not Student.objects.exists()


def test_student_upsert_refuses_with_the_shared_rule(world):
    student = enrolled(world)
    services.event_record(
        by=world.user(STAFF),
        student=student,
        kind=EventKind.DROP_OUT,
        date=timezone.localdate(),
        reason="外出务工",
    )
    data = student_data(school(CENTRE), id_number=student.id_number)
    with pytest.raises(AppError) as refused:
        services.student_upsert(by=world.user(STAFF), data=data, key="id_number")
    assert refused.value.errors == {"id_number": [STATUS.format(status="辍学")]}
    student.refresh_from_db()
    assert student.status == Status.DROPPED_OUT


# Malformed requests on the two routes (schema fuzzing) ----------------------------------

ROUTES = ["by-id-number/532926201703140011", "by-student-number/S-1"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("payload", [[None, None], "x", 42, None, True])
def test_a_body_that_is_not_a_json_object_is_400(world, route, payload):
    response = world.token_client(STAFF).put(
        f"{LIST}{route}/", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "non_field_errors": ["请求体应为 JSON 对象（{…}），逐项给出学生信息。"]
    }
    assert not Student.objects.exists()


@pytest.mark.parametrize(
    ("route", "field"),
    [("by-student-number/S-1", "student_number"), (f"{ROUTES[0]}", "id_number")],
)
@pytest.mark.parametrize("value", [["a"], {"a": 1}, 7])
def test_a_natural_key_in_the_body_that_is_not_text_is_400(world, route, field, value):
    payload = body(school(CENTRE), **{field: value})
    response = world.token_client(STAFF).put(f"{LIST}{route}/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {field: ["应为文本。"]}
    assert not Student.objects.exists()


@pytest.mark.parametrize("route", ROUTES)
def test_options_on_the_natural_key_routes_describes_the_input(world, route):
    writer = world.token_client(STAFF).options(f"{LIST}{route}/")
    assert writer.status_code == 200, writer.content
    put = writer.json()["actions"]["PUT"]
    assert put["name"]["label"] == "姓名" and put["birth_date"]["required"]
    reader = world.token_client("shi_dudao").options(f"{LIST}{route}/")
    assert reader.status_code == 200 and "actions" not in reader.json()
