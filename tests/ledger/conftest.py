"""Ledger fixtures: a child of county A's first school, and the people who handle them."""

import pytest

from accounts.models import School
from ledger.choices import EntryKind, Reason, Source, Whereabouts
from ledger.services import EntryData
from students import services as student_services
from tests.students.factories import student_data


def school_of(world, username: str) -> School:
    return world.user(username).school


def make_student(world, username="xz1_xx1_guanli", **overrides):
    user = world.user(username)
    return student_services.student_create(
        by=user, data=student_data(user.school, **overrides)
    )


def entry_data(student=None, **overrides) -> EntryData:
    values = {
        "kind": EntryKind.SUSPECTED,
        "source": Source.SCHOOL_REPORT,
        "reason": Reason.LEARNING,
        "whereabouts": Whereabouts.AT_HOME,
        "student": student,
    }
    values.update(overrides)
    return EntryData(**values)


@pytest.fixture
def child(world):
    return make_student(world)
