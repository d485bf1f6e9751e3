"""Jurisdiction (DOMAIN.md §2): every role sees its own area and nothing outside it."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import Http404

from accounts import jurisdiction
from accounts.models import AuditEvent, Region, School, SchoolClass, User

pytestmark = pytest.mark.django_db

COUNTY_A, COUNTY_B = "532926", "530102"


def visible(username, model):
    user = User.objects.get(username=username)
    return model.objects.for_user(user)


def school_codes(username):
    return set(visible(username, School).values_list("township__code", flat=True))


# What each role of county A sees of the schools: (username, township codes seen, schools seen).
# The world has per county 2 townships × 4 schools (中心校, 完小 and 教学点 attached to it, 初中).
SCHOOL_EXPECTATIONS = [
    ("sheng_dudao", 16),
    ("shi_dudao", 8),
    ("xian_admin", 8),
    ("xian_staff", 8),
    ("api_xian", 8),
    ("xz1_ganbu", 4),
    ("xz1_cungan", 4),
    ("xz1_xx1_xiaozhang", 3),  # a 中心校 sees its 村小 and 教学点 too
    ("xz1_xx1_guanli", 3),
    ("xz1_xx2_xiaozhang", 1),
    ("xz1_xx4_guanli", 1),
    ("xz1_xx1_banzhuren", 1),
]


@pytest.mark.parametrize(("username", "count"), SCHOOL_EXPECTATIONS)
def test_each_role_sees_the_schools_of_its_area(world, username, count):
    schools = visible(username, School)
    assert schools.count() == count
    if username != "sheng_dudao":
        assert all(code.startswith(COUNTY_A) for code in school_codes(username))


def test_township_official_sees_only_own_township(world):
    official = world.user("xz1_ganbu")
    assert school_codes("xz1_ganbu") == {official.region.code}


def test_village_cadre_sees_the_whole_township_of_their_village(world):
    cadre = world.user("xz1_cungan")
    assert cadre.region.level == 5
    assert school_codes("xz1_cungan") == {cadre.region.parent.code}


def test_class_teacher_sees_only_own_classes(world):
    teacher = world.user("xz1_xx1_banzhuren")
    classes = visible("xz1_xx1_banzhuren", SchoolClass)
    assert list(classes) == list(SchoolClass.objects.filter(head_teacher=teacher))
    assert classes.count() == 1
    assert (
        visible("xz1_xx1_xiaozhang", SchoolClass).count()
        == SchoolClass.objects.filter(school__in=visible("xz1_xx1_xiaozhang", School)).count()
    )


def test_school_accounts_see_county_regions_as_reference_data_only(world):
    regions = visible("xz1_xx1_guanli", Region)
    assert regions.exists()
    assert all(r.code.startswith(COUNTY_A) for r in regions)
    assert not regions.filter(code__startswith=COUNTY_B).exists()


def test_county_b_sees_nothing_of_county_a(world):
    for model in (Region, School, SchoolClass, User):
        assert (
            not visible("c2_xian_admin", model).filter(pk__in=visible("xian_admin", model)).exists()
        )


def test_city_supervisor_sees_its_city_only(world):
    schools = visible("shi_dudao", School)
    assert set(schools) == set(visible("xian_admin", School))


def test_audit_trail_is_visible_to_region_accounts_of_the_area_only(world):
    from accounts import audit
    from accounts.choices import AuditAction

    school_a = School.objects.filter(township__code__startswith=COUNTY_A).first()
    school_b = School.objects.filter(township__code__startswith=COUNTY_B).first()
    event_a = audit.record(actor=None, action=AuditAction.EXPORT, obj=school_a)
    event_b = audit.record(actor=None, action=AuditAction.EXPORT, obj=school_b)
    assert list(visible("xian_admin", AuditEvent)) == [event_a]
    assert list(visible("c2_xian_admin", AuditEvent)) == [event_b]
    # School and class accounts have no path to the audit trail at all.
    assert not visible("xz1_xx1_xiaozhang", AuditEvent).exists()
    assert not visible("xz1_xx1_banzhuren", AuditEvent).exists()


def test_inactive_and_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    admin = world.user("xian_admin")
    admin.is_active = False
    admin.save()
    assert not School.objects.for_user(world.user("xian_admin")).exists()
    assert not School.objects.for_user(AnonymousUser()).exists()


def test_get_or_404_answers_the_same_for_missing_and_out_of_area(world):
    admin = world.user("xian_admin")
    school_b = School.objects.filter(township__code__startswith=COUNTY_B).first()
    with pytest.raises(Http404) as out_of_area:
        jurisdiction.get_or_404(admin, School, pk=school_b.pk)
    with pytest.raises(Http404) as missing:
        jurisdiction.get_or_404(admin, School, pk=10**9)
    assert str(out_of_area.value) == str(missing.value)


def test_unregistered_models_cannot_be_scoped(world):
    from django.contrib.sessions.models import Session

    assert not isinstance(Session.objects.all(), jurisdiction.ScopedQuerySet)
    with pytest.raises(ImproperlyConfigured):
        jurisdiction.scope(world.user("xian_admin"), Session.objects.all())


def test_every_model_with_a_scoped_manager_is_registered():
    from django.apps import apps

    for model in apps.get_models():
        if isinstance(model._default_manager.all(), jurisdiction.ScopedQuerySet):
            assert model in jurisdiction._PATHS, model
    assert issubclass(jurisdiction.ScopedQuerySet, models.QuerySet)
