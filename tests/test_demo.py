"""`make run`'s demo data (manage.py seed_demo): every app's records made through its own
services, so that each role finds its work on the first login."""

import pytest
from django.core.management import call_command

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
