"""Comparison runs (issue 13 rule 5): queued after commit, one at a time per county and kind,
progress kept, cancellable without half results, failures kept with a message, safe when a
message comes twice; the monthly schedule fans out one task per county."""

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings

from accounts.models import AuditEvent, Region, User
from comparisons import runs, tasks
from comparisons.choices import MismatchKind, RunStatus, SourceKind
from comparisons.models import Mismatch, Run
from kongchuo.celery import app
from kongchuo.errors import AppError
from ledger import hooks
from tests.comparisons.results import COUNTY_A, make_row, make_source

pytestmark = pytest.mark.django_db


def staff(code=COUNTY_A):
    return User.objects.get(username="xian_staff" if code == COUNTY_A else "c2_xian_staff")


def household(code=COUNTY_A):
    source = make_source(code)
    make_row(source, name="王小芳")
    return source


def execute(run):
    tasks.run_comparison.apply(args=(run.pk,))
    run.refresh_from_db()
    return run


def test_run_start_is_queued_only_after_the_transaction_commits(
    world, django_capture_on_commit_callbacks
):
    source = household()
    with django_capture_on_commit_callbacks() as callbacks:
        run = runs.run_start(by=staff(), source=source)
        assert callbacks == []
    assert len(callbacks) == 1
    assert run.status == RunStatus.QUEUED and run.started_by == staff()
    assert run.total == 4 and run.done == 0
    assert AuditEvent.objects.filter(detail__contains="发起数据比对").exists()


def test_run_start_needs_the_permission_and_the_county_of_the_list(world):
    source = household()
    with pytest.raises(AppError, match="县教体局"):
        runs.run_start(by=User.objects.get(username="xz1_xx1_guanli"), source=source)
    with pytest.raises(AppError, match="本县"):
        runs.run_start(by=staff("530102"), source=source)
    assert not Run.objects.exists()


def test_a_second_start_while_one_is_under_way_returns_it(world):
    first = runs.run_start(by=staff(), source=household())
    newer = household()
    again = runs.run_start(by=staff(), source=newer)
    assert again == first and Run.objects.count() == 1
    assert again.source == newer  # a queued run compares the newest list
    Run.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)
    assert runs.run_start(by=None, source=household()) == first
    other_kind = runs.run_start(by=staff(), source=make_source(kind=SourceKind.POVERTY))
    assert other_kind != first
    Run.objects.filter(pk=first.pk).update(status=RunStatus.DONE)
    assert runs.run_start(by=staff(), source=newer) != first


def test_a_run_done_by_the_task_keeps_its_progress_and_counts(world):
    run = execute(runs.run_start(by=staff(), source=household()))
    assert run.status == RunStatus.DONE and run.finished_at and run.started_at
    progress = runs.run_progress(run)
    assert progress["done"] == progress["total"] == 4 and progress["percent"] == 100
    assert progress["finished"] and progress["counts"] == {MismatchKind.NOT_ENROLLED: 1}
    assert "发现1条不一致" in progress["message"]
    assert runs.latest_run(run.county, SourceKind.HOUSEHOLD) == run


def test_a_message_delivered_twice_does_nothing_twice(world):
    run = execute(runs.run_start(by=staff(), source=household()))
    mismatches = list(run.mismatches.values_list("pk", "key"))
    execute(run)
    assert list(run.mismatches.values_list("pk", "key")) == mismatches


def test_cancel_a_queued_run(world):
    run = runs.run_start(by=staff(), source=household())
    run = runs.run_cancel(by=staff(), run=run)
    assert run.status == RunStatus.CANCELLED and run.finished_at
    assert execute(run).status == RunStatus.CANCELLED and not Mismatch.objects.exists()


def test_cancel_while_running_leaves_no_half_results(world, monkeypatch):
    """Asked to stop during its last check, the run stops before writing: the 未入学 child
    its first check found is not stored."""
    run = runs.run_start(by=staff(), source=household())

    def press_cancel(*, students, days, as_of):
        runs.run_cancel(by=staff(), run=Run.objects.get(pk=run.pk))
        return {}

    monkeypatch.setattr(hooks, "_NOT_ATTENDING", [press_cancel])
    run = execute(run)
    assert run.status == RunStatus.CANCELLED and "未保存任何结果" in run.message
    assert not Mismatch.objects.exists() and run.done == 3


def test_cancel_needs_the_permission_and_leaves_a_finished_run(world):
    run = execute(runs.run_start(by=staff(), source=household()))
    with pytest.raises(AppError):
        runs.run_cancel(by=User.objects.get(username="xz1_ganbu"), run=run)
    with pytest.raises(AppError):
        runs.run_cancel(by=staff("530102"), run=run)
    assert runs.run_cancel(by=staff(), run=run).status == RunStatus.DONE


def test_a_failure_is_kept_with_a_message(world, monkeypatch):
    def broken(**kwargs):
        raise ValueError("attendance is broken")

    monkeypatch.setattr(hooks, "_NOT_ATTENDING", [broken])
    run = execute(runs.run_start(by=staff(), source=household()))
    assert run.status == RunStatus.FAILED and "比对出错" in run.message
    assert not Mismatch.objects.exists()


def test_a_run_whose_starter_lost_the_permission_fails(world):
    run = runs.run_start(by=staff(), source=household())
    User.objects.filter(pk=staff().pk).update(is_active=False)
    run = execute(run)
    assert run.status == RunStatus.FAILED and "已停用" in run.message


def test_monthly_schedule_fans_out_one_task_per_county(
    world, settings, django_capture_on_commit_callbacks
):
    """The beat entry runs on the 1st; each county with lists gets its own task, which
    compares its latest list of each kind (by=None: the schedule)."""
    entry = django_settings.CELERY_BEAT_SCHEDULE["comparisons-monthly"]
    assert entry["task"] == tasks.monthly.name and entry["task"] in app.tasks
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].day_of_month == {1}
    household()
    latest = household()
    poverty = make_source(kind=SourceKind.POVERTY)
    other = household("530102")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.monthly.delay().get() == 2
    started = {(r.county.code, r.kind): r for r in Run.objects.all()}
    assert set(started) == {(COUNTY_A, "household"), (COUNTY_A, "poverty"), ("530102", "household")}
    assert started[(COUNTY_A, "household")].source == latest
    assert started[(COUNTY_A, "poverty")].source == poverty
    assert started[("530102", "household")].source == other
    assert all(r.started_by is None and r.status == RunStatus.DONE for r in started.values())
    assert Region.objects.get(code=COUNTY_A).comparison_runs.count() == 2
