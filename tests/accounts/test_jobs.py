"""Background jobs (issue 2 §10): queued after commit, safe twice, requester re-checked at
run time, results only for the requester; the account export as the first job."""

import io
import time

import pytest
from celery.contrib.testing.worker import start_worker
from openpyxl import load_workbook

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent, Job
from accounts.tasks import run_job
from kongchuo.celery import app
from kongchuo.errors import AppError

pytestmark = pytest.mark.django_db


def read_rows(job):
    job.refresh_from_db()
    with job.result.open("rb") as handle:
        return list(load_workbook(io.BytesIO(handle.read())).active.iter_rows(values_only=True))


def test_job_is_queued_only_after_the_transaction_commits(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = jobs.job_start(by=world.user("xian_admin"), kind=JobKind.ACCOUNT_EXPORT)
        assert callbacks == []  # nothing sent while the transaction is open
    assert len(callbacks) == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED


def test_account_export_is_masked_scoped_logged_and_safe_to_run_twice(world):
    teacher = world.user("xz1_xx1_banzhuren")
    teacher.phone = "13912345678"
    teacher.save()
    job = jobs.job_start(by=world.user("xian_admin"), kind=JobKind.ACCOUNT_EXPORT)
    jobs.job_run(job.pk)
    jobs.job_run(job.pk)
    rows = read_rows(job)
    assert rows[0][:3] == ("用户名", "姓名", "角色")
    usernames = {row[0] for row in rows[1:]}
    assert "xz1_xx1_banzhuren" in usernames and "c2_xian_admin" not in usernames
    assert ("xz1_xx1_banzhuren", "139****5678") in {(row[0], row[4]) for row in rows[1:]}
    assert "13912345678" not in str(rows)
    assert job.status == JobStatus.DONE and job.percent == 100 and job.done == len(rows) - 1
    event = AuditEvent.objects.get(action="export")
    assert event.detail == f"导出账号名单，共{len(rows) - 1}行"


def test_requester_is_checked_again_when_the_job_runs(world):
    admin = world.user("xian_admin")
    job = jobs.job_start(by=admin, kind=JobKind.ACCOUNT_EXPORT)
    admin.role = "county_staff"  # lost the right between request and run
    admin.save()
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "已无此权限" in job.message
    assert not job.result and not AuditEvent.objects.filter(action="export").exists()


def test_job_reads_the_area_at_run_time(world):
    admin = world.user("xian_admin")
    job = jobs.job_start(by=admin, kind=JobKind.ACCOUNT_EXPORT)
    moved = world.user("c2_xian_staff")
    moved.region = admin.region  # an account that joined the county before the job ran
    moved.save()
    jobs.job_run(job.pk)
    assert "c2_xian_staff" in {row[0] for row in read_rows(job)}


def test_only_allowed_users_start_jobs_and_unknown_kinds_are_refused(world):
    with pytest.raises(AppError, match="管理账号"):
        jobs.job_start(by=world.user("xz1_ganbu"), kind=JobKind.ACCOUNT_EXPORT)
    with pytest.raises(AppError, match="不支持"):
        jobs.job_start(by=world.user("xian_admin"), kind="nonsense")
    assert world.client("xz1_ganbu").post("/jobs/", {"kind": "account_export"}).status_code == 403


def test_job_page_and_download_are_for_the_requester_only(world):
    client = world.client("xian_admin")
    response = client.post("/jobs/", {"kind": "account_export"})
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "排队中" in page and 'http-equiv="refresh"' in page
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404  # not finished yet
    jobs.job_run(job.pk)
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    for other in ("xian_staff", "c2_xian_admin", "xz1_xx1_xiaozhang"):
        assert world.client(other).get(f"/jobs/{job.pk}/").status_code == 404
        assert world.client(other).get(f"/jobs/{job.pk}/download/").status_code == 404


def test_a_failing_runner_marks_the_job_failed_without_leaking_the_error(world, monkeypatch):
    def broken(job, user):
        raise RuntimeError("internal detail")

    monkeypatch.setitem(
        jobs.RUNNERS, JobKind.ACCOUNT_EXPORT, (jobs.RUNNERS[JobKind.ACCOUNT_EXPORT][0], broken)
    )
    job = jobs.job_start(by=world.user("xian_admin"), kind=JobKind.ACCOUNT_EXPORT)
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "internal detail" not in job.message


def test_a_job_whose_retries_run_out_is_marked_failed(world, monkeypatch):
    def unreachable(job, user):
        raise ConnectionError("storage down")

    monkeypatch.setitem(
        jobs.RUNNERS,
        JobKind.ACCOUNT_EXPORT,
        (jobs.RUNNERS[JobKind.ACCOUNT_EXPORT][0], unreachable),
    )
    job = jobs.job_start(by=world.user("xian_admin"), kind=JobKind.ACCOUNT_EXPORT)
    # The last allowed attempt: the error is not retried again.
    result = run_job.apply(args=(job.pk,), retries=run_job.max_retries)
    assert result.failed()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "重试" in job.message and job.finished_at


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_export_runs_on_a_real_worker_through_redis(world):
    client = world.client("xian_admin")
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        client.post("/jobs/", {"kind": "account_export"})
        job = Job.objects.get()
        deadline = time.monotonic() + 20
        while not Job.objects.get(pk=job.pk).finished:
            assert time.monotonic() < deadline, "the worker did not finish the job"
            time.sleep(0.2)
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 200


def test_result_files_and_waiting_uploads_are_deleted_when_they_expire(world, settings, tmp_path):
    """Issue 15 §6: a job's file is kept JOB_FILE_DAYS after the job finished, an upload left
    waiting UPLOAD_FILE_HOURS; the job stays and says its file has gone; the download is 404."""
    import datetime

    # A storage of its own: uploads that earlier tests of this process left would count.
    settings.MEDIA_ROOT = str(tmp_path)

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    admin = world.user("xian_admin")
    job = jobs.job_start(by=admin, kind=JobKind.ACCOUNT_EXPORT)
    jobs.job_run(job.pk)
    job.refresh_from_db()
    kept = jobs.job_start(by=admin, kind=JobKind.ACCOUNT_EXPORT)
    jobs.job_run(kept.pk)
    path = Job.objects.get(pk=job.pk).result.name
    assert default_storage.exists(path)
    Job.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=settings.JOB_FILE_DAYS + 1)
    )
    abandoned = default_storage.save("comparisons/uploads/abandoned", ContentFile(b"x"))
    queued = jobs.job_start(by=admin, kind=JobKind.ACCOUNT_EXPORT, upload=ContentFile(b"y"))
    later = timezone.now() + datetime.timedelta(hours=settings.UPLOAD_FILE_HOURS + 1)

    assert jobs.purge_expired(now=later) == (1, 1)
    assert not default_storage.exists(path) and not default_storage.exists(abandoned)
    # The input of a job not yet run is kept, and so is the fresher result.
    assert default_storage.exists(Job.objects.get(pk=queued.pk).params[jobs.UPLOAD_PARAM])
    assert Job.objects.get(pk=kept.pk).result
    gone = Job.objects.get(pk=job.pk)
    assert not gone.result and "按保留期限（7天）删除，如需请重新生成" in gone.message
    response = world.client("xian_admin").get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 404
    assert jobs.purge_expired(now=later) == (0, 0)
