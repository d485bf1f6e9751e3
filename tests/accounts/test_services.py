"""Organisation and account services: capabilities, area checks, validation, audit."""

import pytest

from accounts import services
from accounts.choices import AuditAction, RegionLevel, Role, SchoolKind
from accounts.models import AuditEvent, Region, School, SchoolClass, User
from kongchuo.errors import AppError

pytestmark = pytest.mark.django_db


def county(code="532926"):
    return Region.objects.get(code=code)


def test_county_admin_adds_a_township_and_a_village_with_valid_codes(world):
    admin = world.user("xian_admin")
    township = services.region_create(by=admin, parent=county(), code="532926106", name="新镇")
    village = services.region_create(by=admin, parent=township, code="532926106201", name="新村")
    assert township.level == RegionLevel.TOWNSHIP and village.level == RegionLevel.VILLAGE
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(village.pk))
    assert event.changes["code"] == [None, "532926106201"]
    assert event.actor == admin and event.region_code == "532926106201"


@pytest.mark.parametrize(
    ("code", "field", "message"),
    [
        ("53292610", "code", "乡镇级区划代码应为9位数字"),
        ("5329261061", "code", "乡镇级区划代码应为9位数字"),
        ("53292610x", "code", "乡镇级区划代码应为9位数字"),
        ("530102105", "code", "应以上级区划"),
        ("532926000", "code", "后3位不能为000"),
    ],
)
def test_administrative_code_of_wrong_length_or_level_is_refused(world, code, field, message):
    before = Region.objects.count()
    with pytest.raises(AppError) as refused:
        services.region_create(by=world.user("xian_admin"), parent=county(), code=code, name="错镇")
    assert message in refused.value.errors[field][0]
    assert Region.objects.count() == before


def test_no_region_below_a_village(world):
    village = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="532926").first()
    with pytest.raises(AppError, match="村级区划下不能再设下级区划"):
        services.region_create(
            by=world.user("xian_admin"), parent=village, code=village.code + "1", name="x"
        )


def test_county_admin_cannot_touch_another_county(world):
    with pytest.raises(AppError, match="管辖范围"):
        services.region_create(
            by=world.user("xian_admin"), parent=county("530102"), code="530102150", name="外县镇"
        )


@pytest.mark.parametrize("username", ["xz1_ganbu", "xian_staff", "xz1_xx1_xiaozhang", "shi_dudao"])
def test_only_county_administrators_manage_the_organisation_tree(world, username):
    with pytest.raises(AppError, match="管理组织机构"):
        services.region_create(by=world.user(username), parent=county(), code="532926150", name="x")


def test_school_create_and_update_are_audited_with_before_and_after(world):
    admin = world.user("xian_admin")
    township = Region.objects.get(code="532926101")
    school = services.school_create(
        by=admin, code="1329269999", name="测试小学", kind=SchoolKind.PRIMARY, township=township
    )
    services.school_update(
        by=admin,
        school=school,
        name="测试中心小学",
        kind=SchoolKind.PRIMARY,
        township=township,
        parent=None,
    )
    update = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(school.pk))
    assert update.changes == {"name": ["测试小学", "测试中心小学"]}


def test_school_code_must_be_ten_digits_and_unique(world):
    admin = world.user("xian_admin")
    township = Region.objects.get(code="532926101")
    with pytest.raises(AppError, match="10位数字"):
        services.school_create(
            by=admin, code="12345", name="x", kind=SchoolKind.PRIMARY, township=township
        )
    existing = School.objects.first()
    with pytest.raises(AppError, match="已被其他学校使用"):
        services.school_create(
            by=admin, code=existing.code, name="x", kind=SchoolKind.PRIMARY, township=township
        )


def test_class_grade_must_be_1_to_9(world):
    school = School.objects.filter(township__code__startswith="532926").first()
    with pytest.raises(AppError, match="1–9"):
        services.class_create(
            by=world.user("xian_admin"), school=school, school_year=2026, grade=10, name="1班"
        )


def test_head_teacher_must_belong_to_the_school(world):
    admin = world.user("xian_admin")
    school = School.objects.get(accounts__username="xz1_xx4_xiaozhang")
    other_teacher = world.user("xz1_xx1_banzhuren")
    with pytest.raises(AppError, match="本校"):
        services.class_create(
            by=admin,
            school=school,
            school_year=2026,
            grade=7,
            name="9班",
            head_teacher=other_teacher,
        )
    assert not SchoolClass.objects.filter(name="9班").exists()


def test_account_create_checks_role_unit_and_password_policy(world):
    admin = world.user("xian_admin")
    school = School.objects.filter(township__code__startswith="532926").first()
    with pytest.raises(AppError) as weak:
        services.account_create(
            by=admin,
            username="t1",
            full_name="王老师",
            role=Role.CLASS_TEACHER,
            password="password123",
            school=school,
        )
    assert "password" in weak.value.errors
    with pytest.raises(AppError) as wrong_unit:
        services.account_create(
            by=admin,
            username="t1",
            full_name="王老师",
            role=Role.CLASS_TEACHER,
            password="Zq8#long-pass",
            region=county(),
        )
    assert "school" in wrong_unit.value.errors
    user = services.account_create(
        by=admin,
        username="t1",
        full_name="王老师",
        role=Role.CLASS_TEACHER,
        password="Zq8#long-pass",
        school=school,
        phone="13812345678",
    )
    assert user.check_password("Zq8#long-pass") and user.password != "Zq8#long-pass"
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(user.pk))
    assert event.changes["phone"] == ["", "[已隐藏]"]
    assert event.changes["password"] == ["", "[已隐藏]"]


def test_county_admin_cannot_create_supervisors_or_accounts_elsewhere(world):
    admin = world.user("xian_admin")
    with pytest.raises(AppError, match="市级、省级"):
        services.account_create(
            by=admin,
            username="boss",
            full_name="x",
            role=Role.CITY_SUPERVISOR,
            password="Zq8#long-pass",
            region=Region.objects.get(code="532900"),
        )
    with pytest.raises(AppError, match="管辖范围"):
        services.account_create(
            by=admin,
            username="spy",
            full_name="x",
            role=Role.COUNTY_STAFF,
            password="Zq8#long-pass",
            region=county("530102"),
        )
    assert not User.objects.filter(username__in=["boss", "spy"]).exists()


def test_deactivating_an_account_ends_its_sessions_and_tokens(world, client):
    from accounts import tokens

    teacher = world.user("xz1_xx1_banzhuren")
    client.force_login(teacher)
    issued = tokens.issue(user=teacher)
    assert client.get("/").status_code == 200
    services.account_set_active(by=world.user("xian_admin"), user=teacher, active=False)
    assert client.get("/").status_code == 302
    assert not tokens.live(teacher).exists()
    api = client.__class__()
    assert (
        api.get("/api/v1/schools/", HTTP_AUTHORIZATION=f"Token {issued.secret}").status_code == 401
    )


def test_admin_cannot_deactivate_themselves(world):
    admin = world.user("xian_admin")
    with pytest.raises(AppError, match="自己"):
        services.account_set_active(by=admin, user=admin, active=False)
