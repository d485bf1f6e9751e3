"""A real Celery worker on Redis runs a comparison (issue 13, done when): the run started by
a county account is queued on commit, picked up, done, and its mismatches are stored."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from accounts.models import User
from comparisons import runs
from comparisons.choices import MismatchKind, RunStatus
from comparisons.models import Run
from kongchuo.celery import app
from tests.comparisons.engine_data import row_of, student
from tests.comparisons.results import make_row, make_source


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_comparison_runs_on_a_real_worker_through_redis(world):
    source = make_source()
    make_row(source, name="王小芳")
    row_of(source, student(name="李小明"))
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        run = runs.run_start(by=User.objects.get(username="xian_staff"), source=source)
        deadline = time.monotonic() + 30
        while Run.objects.get(pk=run.pk).status in runs.UNDER_WAY:
            assert time.monotonic() < deadline, "the worker did not finish the comparison"
            time.sleep(0.2)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.message
    assert run.done == run.total and run.counts == {MismatchKind.NOT_ENROLLED: 1}
    assert list(run.mismatches.values_list("name", flat=True)) == ["王小芳"]
