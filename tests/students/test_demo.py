"""Demo data (issue 3 §8): valid unique ID numbers, grades by age, deterministic."""

import datetime

import pytest
from stdnum.cn import ric

from accounts.demo import DemoSize, build
from accounts.models import current_school_year
from students.demo import build_students
from students.identity import birth_date_of, gender_of
from students.models import Student

pytestmark = pytest.mark.django_db


def generate(seed):
    build(DemoSize(counties=1, townships=2, schools=4), seed=seed)
    build_students(400, seed=seed)
    return list(
        Student.objects.order_by("id").values_list("name", "id_number", "grade", "birth_date")
    )


def test_demo_students_are_valid_unique_and_of_the_right_age(db):
    rows = generate(3)
    numbers = [n for _, n, _, _ in rows if n]
    assert len(numbers) == len(set(numbers)) and len(rows) == 400
    year = current_school_year()
    for _, number, grade, birth in rows:
        # 6 by 31 August of the year they entered grade 1 (DOMAIN.md §3).
        entered = year - grade + 1
        assert datetime.date(entered - 7, 9, 1) <= birth <= datetime.date(entered - 6, 8, 31)
        if number:
            assert ric.is_valid(number) and birth_date_of(number) == birth
    students = Student.objects.filter(id_number__isnull=False)
    assert all(gender_of(s.id_number) == s.gender for s in students)
    assert Student.objects.filter(left_behind=True).exists()
    assert all(
        s.events.count() == 1 and s.guardians.count() == 1 for s in Student.objects.all()[:20]
    )


def test_demo_students_are_deterministic_from_the_seed(db):
    from students.demo import _students

    build(DemoSize(counties=1, townships=2, schools=4), seed=1)

    def first(seed):
        return [(s.name, s.id_number, g.phone) for s, g in _students(50, seed)]

    assert first(5) == first(5) != first(6)
