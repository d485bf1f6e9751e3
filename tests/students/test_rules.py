"""Rules decided in one service and asked through every interface (issue 10): the 户籍地, the
plausible age of a pupil, and the schools a 转出 may name."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.choices import RegionLevel
from accounts.models import Region, School, current_school_year
from kongchuo.errors import AppError
from students import services
from students.choices import EventKind, TransferStatus
from students.models import Student, Transfer
from tests.students.factories import student_data
from tests.students.test_api import body
from tests.students.test_import import row, run

pytestmark = pytest.mark.django_db

STAFF = "xz1_xx1_guanli"
LIST = "/api/v1/students/"
LEVEL_MESSAGE = "户籍地应填写到乡镇或村。"


def region(level: RegionLevel, county: str = "530102") -> Region:
    """A region of ``level`` in another county (昆明市五华区) than the staff's (南涧县)."""
    return Region.objects.filter(code__startswith=county, level=level).order_by("code").first()


# 户籍地 ---------------------------------------------------------------------------------


def test_the_api_accepts_a_hukou_in_another_county_by_id_or_code(world):
    client = world.token_client(STAFF)
    school = world.user(STAFF).school
    township, village = region(RegionLevel.TOWNSHIP), region(RegionLevel.VILLAGE)
    by_id = client.post(LIST, body(school, hukou_region=township.pk), format="json")
    assert by_id.status_code == 201, by_id.content
    assert by_id.json()["hukou_region_code"] == township.code
    payload = body(school, hukou_region=None, hukou_region_code=village.code, name="王小芳")
    by_code = client.post(LIST, payload, format="json")
    assert by_code.status_code == 201, by_code.content
    assert set(Student.objects.values_list("hukou_region__code", flat=True)) == {
        township.code,
        village.code,
    }


def test_the_import_accepts_a_hukou_in_another_county(world):
    township = region(RegionLevel.TOWNSHIP)
    result = run(world, [row(户籍地区划代码=township.code)])
    assert result.ok and result.created == 1, result.errors
    assert Student.objects.get().hukou_region == township


@pytest.mark.parametrize("level", [RegionLevel.COUNTY, RegionLevel.CITY])
def test_api_and_import_refuse_a_hukou_above_the_township_alike(world, level):
    above = region(level, county="5301")
    response = world.token_client(STAFF).post(
        LIST, body(world.user(STAFF).school, hukou_region=above.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"hukou_region": [LEVEL_MESSAGE]}
    result = run(world, [row(户籍地区划代码=above.code)])
    assert [(e.column, e.message) for e in result.errors] == [("户籍地区划代码", LEVEL_MESSAGE)]
    assert not Student.objects.exists()


def test_an_unknown_hukou_is_named(world):
    response = world.token_client(STAFF).post(
        LIST,
        body(world.user(STAFF).school, hukou_region=None, hukou_region_code="110101999999"),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "hukou_region_code": ["户籍地区划代码“110101999999”不存在。"]
    }


# Age ------------------------------------------------------------------------------------

TODAY = datetime.date(2026, 12, 2)  # school year 2026: ages are taken on 2026-09-01


@pytest.mark.parametrize(
    ("birth", "age"),
    [
        (datetime.date(2021, 9, 1), None),  # 5 that day: the youngest accepted
        (datetime.date(2021, 9, 2), 4),
        (datetime.date(2005, 9, 2), None),  # 20 that day, 21 the next: the oldest
        (datetime.date(2005, 9, 1), 21),
        (datetime.date(1949, 10, 1), 76),
    ],
)
def test_the_age_range_is_checked_at_its_edges(birth, age):
    if age is None:
        services.check_age(birth, today=TODAY)
        return
    with pytest.raises(AppError) as refused:
        services.check_age(birth, today=TODAY)
    assert refused.value.errors == {
        "birth_date": [
            f"按出生日期（{birth:%Y-%m-%d}），该学生在2026年9月1日为{age}周岁，"
            "不在义务教育阶段学生的合理年龄（5–20周岁）内：请核对出生日期。"
        ]
    }


def test_the_age_range_is_a_setting_and_the_school_year_moves_it():
    with (
        override_settings(STUDENT_AGE_RANGE=(6, 16)),
        pytest.raises(AppError, match="（6–16周岁）"),
    ):
        services.check_age(datetime.date(2021, 1, 1), today=TODAY)  # 5
    # Until 31 August the age is taken on the 1 September that began the school year.
    born = datetime.date(2021, 3, 1)
    services.check_age(born, today=datetime.date(2026, 9, 1))  # 5 on 2026-09-01
    with pytest.raises(AppError, match="2025年9月1日为4周岁"):
        services.check_age(born, today=datetime.date(2026, 8, 31))


def _elderly_message() -> str:
    year = current_school_year()
    return (
        f"按出生日期（1949-05-01），该学生在{year}年9月1日为{year - 1949}周岁，"
        "不在义务教育阶段学生的合理年龄（5–20周岁）内：请核对出生日期。"
    )


def test_born_1949_in_grade_1_is_refused_on_the_page_the_api_and_the_import(world):
    staff = world.user(STAFF)
    message = _elderly_message()
    page = world.client(STAFF).post(
        "/students/new/",
        {
            "name": "赵老",
            "gender": "M",
            "birth_date": "1949-05-01",
            "ethnicity": "汉族",
            "school": staff.school.code,
            "grade": 1,
            "guardian1_name": "赵大",
            "guardian1_relation": "父亲",
        },
    )
    assert page.status_code == 200 and message in page.content.decode()
    response = world.token_client(STAFF).post(
        LIST, body(staff.school, birth_date="1949-05-01", id_number="", grade=1), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"birth_date": [message]}
    result = run(world, [row(birth=datetime.date(1949, 5, 1), 身份证号="", 年级=1, 班级="")])
    assert [(e.column, e.message) for e in result.errors] == [("出生日期", message)]
    assert not Student.objects.exists()


# The schools a 转出 may name --------------------------------------------------------------


def _transfer_out(world, client, student, to_school):
    return client.post(
        f"{LIST}{student.pk}/events/",
        {
            "kind": EventKind.TRANSFER_OUT,
            "date": str(timezone.localdate()),
            "reason": "随父母务工迁居",
            "to_school": to_school.pk,
        },
        format="json",
    )


def test_a_transfer_may_name_a_school_of_another_county(world):
    user = world.user(STAFF)
    student = services.student_create(by=user, data=student_data(user.school))
    far = School.objects.filter(township__code__startswith="530102").first()
    response = _transfer_out(world, world.token_client(STAFF), student, far)
    assert response.status_code == 202, response.content
    transfer = Transfer.objects.get()
    assert transfer.to_school == far and transfer.status == TransferStatus.PENDING


def test_a_transfer_may_not_name_the_students_own_school_on_the_api_or_the_page(world):
    user = world.user(STAFF)
    student = services.student_create(by=user, data=student_data(user.school))
    message = "转入学校应为本系统内的其他学校，不能是本校。"
    response = _transfer_out(world, world.token_client(STAFF), student, user.school)
    assert response.status_code == 400
    assert response.json()["errors"] == {"to_school": [message]}
    page = world.client(STAFF).post(
        f"/students/{student.pk}/events/new/",
        {
            "kind": EventKind.TRANSFER_OUT,
            "date": str(timezone.localdate()),
            "reason": "迁居",
            "to_school": user.school.code,
        },
    )
    assert page.status_code == 200 and message in page.content.decode()
    assert not Transfer.objects.exists()
