"""`make run`'s demo data (manage.py seed_demo): every app's records made through its own
services, so that each role finds its work on the first login."""

import pytest
from django.core.management import call_command

from attendance.choices import WatchReason
from attendance.models import WatchPeriod
from comparisons.choices import MismatchKind, RunStatus, Strength
from comparisons.models import Mismatch, Run
from ledger.models import LedgerEntry
from returns import selectors
from returns.choices import CaseState, Step
from returns.models import ReturnCase

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_cases_along_the_four_steps_in_the_townships_my_cases():
    call_command("seed_demo", "--students", "300", verbosity=0)
    cases = ReturnCase.objects.select_related("township")
    states = sorted(cases.values_list("state", flat=True))
    assert states == sorted(
        [CaseState.INSTRUCTED, CaseState.WORKING, CaseState.WORKING, CaseState.RETURNED]
    )
    assert cases.filter(step=Step.ORDER, step_deadline__isnull=False).count() == 2
    assert all(case.actions.count() == 2 for case in cases.exclude(state=CaseState.INSTRUCTED))
    case = cases.get(state=CaseState.INSTRUCTED)
    official = case.township.accounts.filter(role="township_official").first()
    assert case in selectors.my_cases(official)
    assert LedgerEntry.objects.filter(state="persuading").count() >= 3


def test_seed_demo_leaves_the_watch_list_computed_with_the_key_groups_on_it():
    call_command("seed_demo", "--students", "300", verbosity=0)
    key_group = WatchPeriod.objects.filter(reason=WatchReason.KEY_GROUP, ended_on=None)
    assert key_group.exists()
    assert all(period.student.key_group_values for period in key_group.select_related("student"))


def test_seed_demo_compares_a_household_list_two_unenrolled_children_and_a_weak_match():
    call_command("seed_demo", "--students", "300", verbosity=0)
    run = Run.objects.get()
    assert run.status == RunStatus.DONE
    found = Mismatch.objects.filter(run=run, kind=MismatchKind.NOT_ENROLLED)
    assert sorted(found.values_list("strength", flat=True)) == ["none", "none", "weak"]
    weak = found.get(strength=Strength.WEAK)
    assert weak.student is not None and weak.student.birth_date == weak.birth_date
