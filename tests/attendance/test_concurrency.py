"""Two submissions of the same class and day at once (PostgreSQL): one creates the roll
call, the other waits and replaces its marks; neither fails."""

import threading

import pytest
from django.db import connection

from accounts.demo import DemoSize, build
from accounts.models import Region, SchoolClass
from attendance import services
from attendance.choices import Mark
from attendance.models import AttendanceMark, RollCall
from students.calendar import term_save
from tests.attendance.conftest import AUTUMN, COUNTY, MON, PRINCIPAL, TEACHER, county_admin, pupil
from tests.conftest import World


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_class_day_both_succeed():
    build(DemoSize(counties=1, townships=1, villages=1, schools=1), seed=3)
    world = World()
    term_save(
        by=county_admin(),
        owner=Region.objects.get(code=COUNTY),
        name="秋季学期",
        start=AUTUMN[0],
        end=AUTUMN[1],
    )
    klass = SchoolClass.objects.get(head_teacher__username=TEACHER)
    child = pupil(world, klass)
    principal = world.user(PRINCIPAL)
    start = threading.Barrier(2)
    results, errors = [], []

    def submit(status):
        try:
            start.wait()
            results.append(
                services.submit(
                    by=principal,
                    klass=klass,
                    day=MON,
                    marks=[services.MarkData(child.pk, status)],
                )
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(s,)) for s in (Mark.SICK, Mark.LATE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.created for result in results) == [False, True]
    roll = RollCall.objects.get()
    last = next(result for result in results if not result.created)
    assert list(AttendanceMark.objects.values_list("roll", "status")) == [
        (roll.pk, last.changes[child.pk][1])
    ]
