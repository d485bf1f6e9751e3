"""Issue 13 rule 4 (duplicates inside the system) and rule 2's name matching: the finder's
reasons, homophones through pypinyin, 不是同一人 remembered, and the pages' access."""

import datetime

import pytest

from accounts.models import AuditEvent
from kongchuo.errors import AppError
from students import duplicates, matching
from students.models import DuplicateDismissal, Student
from students.services import GuardianData, student_create
from tests.students.factories import id_number, student_data

SCHOOL_USER = "xz1_xx1_guanli"
COUNTY_USER = "xian_staff"
BIRTH = datetime.date(2017, 3, 14)


def make(world, name, *, username=SCHOOL_USER, school=None, guardians=None, **overrides):
    user = world.user(username)
    data = student_data(school or user.school, grade=3, name=name, **overrides)
    if guardians is not None:
        data.guardians = guardians
    return student_create(by=user, data=data)


def raw_twin(student, **columns) -> Student:
    """A second row of ``student`` written past the services, as an old import did."""
    values = {
        f.attname: getattr(student, f.attname)
        for f in Student._meta.concrete_fields
        if f.name not in ("id", "created_at", "updated_at")
    }
    values.update(columns)
    return Student.objects.create(**values)


def pair_of(pairs, a, b):
    wanted = tuple(sorted((a.pk, b.pk)))
    return next((p for p in pairs if (p.first.pk, p.second.pk) == wanted), None)


# -- Rule 2: names


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("李小明", "李 小明"),
        ("李小明", "李　小明"),
        ("阿依古丽·买买提", "阿依古丽买买提"),
        ("ＡＮＮＡ", "anna"),
    ],
)
def test_rule_2_name_key_normalises_width_spacing_and_dots(first, second):
    assert matching.name_key(first) == matching.name_key(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("张晓丽", "张小莉"), ("乐乐", "月乐"), ("单丽", "善丽"), ("曾伟", "层伟")],
)
def test_rule_2_homophones_match_in_any_reading_tones_ignored(first, second):
    """曾 reads zeng or ceng, 单 dan, chan or shan: some reading sequence agrees."""
    assert matching.sound_alike(first, second)


@pytest.mark.parametrize(
    ("first", "second"), [("张晓丽", "张晓明"), ("刘伟", "牛伟"), ("李明", "李明明")]
)
def test_rule_2_names_that_do_not_sound_alike_do_not_match(first, second):
    """Other sounds, dialect confusions (l/n) and an extra character are not homophones."""
    assert not matching.sound_alike(first, second)


def test_rule_2_sound_keys_are_capped_for_names_of_many_readings():
    assert len(matching.sound_keys("单曾乐阿古")) == matching.MAX_READINGS
    assert matching.sound_keys("") == frozenset()


# -- Rule 4: the finder


def test_rule_4_equal_id_numbers_after_normalisation_are_a_pair(world):
    """Imported before validation: the same number once with a lower-case x."""
    # A number whose check digit is X, so that its lower-case form differs.
    number = next(n for n in (id_number(BIRTH) for _ in range(500)) if n.endswith("X"))
    one = make(world, "李小明", id_number=number)
    two = raw_twin(one, id_number=number.lower(), name="李晓明", student_number=None)
    found = pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two)
    assert found is not None and found.reasons[0] == duplicates.ID_EQUAL


def test_rule_4_full_width_spaced_name_and_birth_date_with_one_id_missing(world):
    one = make(world, "李小明")
    two = make(world, "李　小明", with_id=False, guardians=[])
    found = pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two)
    assert found.reasons == [duplicates.NAME_EQUAL, duplicates.BIRTH_EQUAL, duplicates.ID_MISSING]


def test_rule_4_homophone_birth_date_and_guardian_phone(world):
    shared = [GuardianData(name="张大山", relation="父亲", phone="13900001111")]
    one = make(world, "张晓丽", gender="F", guardians=shared)
    two = make(world, "张小莉", gender="F", with_id=False, guardians=shared)
    found = pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two)
    assert found.reasons[:2] == [duplicates.NAME_SOUNDS, duplicates.BIRTH_EQUAL]
    assert duplicates.GUARDIAN_PHONE in found.reasons and duplicates.GUARDIAN_NAME in found.reasons


def test_rule_4_same_name_and_birth_with_two_ids_and_no_shared_guardian_is_no_pair(world):
    """Two children of the same name and birthday, each with an ID number: not proposed."""
    one = make(world, "王芳", gender="F")
    two = make(world, "王芳", gender="F", guardians=[GuardianData("赵四", "母亲", "13700002222")])
    assert pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two) is None


def test_rule_4_two_ids_but_a_shared_guardian_is_proposed_with_a_warning(world):
    one = make(world, "王芳", gender="F")
    two = make(world, "王芳", gender="F")  # the factory's guardian: same name and phone
    found = pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two)
    assert duplicates.BOTH_IDS_DIFFER in found.reasons


def test_rule_4_a_different_birth_date_is_no_pair(world):
    one = make(world, "李小明")
    two = make(world, "李小明", with_id=False, birth_date=BIRTH + datetime.timedelta(days=1))
    assert pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two) is None


def test_rule_4_pairs_lie_in_the_users_schools_county_sees_across_its_schools(world):
    county = world.user(COUNTY_USER)
    other = world.user("xz2_xx1_guanli")
    one = make(world, "李小明")
    two = make(world, "李小明", username="xz2_xx1_guanli", with_id=False)
    assert pair_of(duplicates.find(county), one, two) is not None
    # Each school sees only its own records: no pair across schools.
    assert pair_of(duplicates.find(world.user(SCHOOL_USER)), one, two) is None
    assert pair_of(duplicates.find(other), one, two) is None
    # Another county's staff sees neither.
    assert duplicates.find(world.user("c2_xian_staff")) == []


def test_rule_4_not_the_same_child_is_remembered_and_audited(world):
    one = make(world, "李小明")
    two = make(world, "李小明", with_id=False)
    user = world.user(SCHOOL_USER)
    duplicates.pair_dismiss(by=user, first=two, second=one, note="双胞胎之一，已核实")
    assert pair_of(duplicates.find(user), one, two) is None
    assert pair_of(duplicates.find(world.user(COUNTY_USER)), one, two) is None
    dismissal = DuplicateDismissal.objects.get()
    assert (dismissal.first, dismissal.second) == (one, two)
    assert AuditEvent.objects.filter(
        object_type="students.DuplicateDismissal", detail__contains="不是同一人"
    ).exists()
    with pytest.raises(AppError, match="已确认"):
        duplicates.pair_dismiss(by=user, first=one, second=two)


def test_rule_4_the_finders_queries_do_not_grow_with_the_pairs(
    world, django_assert_max_num_queries
):
    user = world.user(COUNTY_USER)
    for n in range(6):
        make(world, f"李小{n}")
        make(world, f"李小{n}", with_id=False)
    with django_assert_max_num_queries(12):
        assert len(duplicates.find(user)) >= 6


# -- Pages


def test_rule_4_duplicates_page_lists_pairs_side_by_side_with_reasons(world):
    one = make(world, "李小明")
    make(world, "李 小明", with_id=False)
    page = world.client(SCHOOL_USER).get("/students/duplicates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="duplicate-pair"') == 1
    assert html.count('data-testid="duplicate-side"') == 2
    assert duplicates.NAME_EQUAL in html and "合并" in html and "不是同一人" in html
    assert one.id_number not in html  # masked


def test_rule_4_not_the_same_child_from_the_page(world):
    one = make(world, "李小明")
    two = make(world, "李小明", with_id=False)
    client = world.client(COUNTY_USER)
    answer = client.post(f"/students/duplicates/{one.pk}/{two.pk}/dismiss/", follow=True)
    assert "不是同一人" in answer.content.decode()
    assert 'data-testid="no-duplicates"' in answer.content.decode()


def test_rule_4_a_class_teacher_may_not_open_the_duplicates_page(world):
    assert world.client("xz1_xx1_banzhuren").get("/students/duplicates/").status_code == 403
    assert world.client("xz1_ganbu").get("/students/duplicates/").status_code == 403


def test_rule_4_the_student_list_links_to_the_duplicates_for_those_who_merge(world):
    for username in (SCHOOL_USER, COUNTY_USER):
        page = world.client(username).get("/students/").content.decode()
        assert "/students/duplicates/" in page
