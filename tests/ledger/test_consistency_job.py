"""人账相符 now (issue 11 §5): county staff run the check of their county as a background job
with progress, as themselves; it keeps a run like the nightly one, through the same function,
and the page offers it, shows its progress and the latest result with when and who."""

import pytest
from django.utils import timezone

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import Job, Region, User
from accounts.tasks import run_job
from kongchuo.errors import AppError
from ledger import consistency
from ledger.choices import ConsistencyProblem
from ledger.models import ConsistencyRun
from ledger.tasks import consistency_check
from students import services as student_services
from students.choices import EventKind
from tests.ledger.conftest import SCHOOL_USER, make_student

pytestmark = pytest.mark.django_db

STAFF = "xian_staff"
PAGE = "/ledger/consistency/"


def _dropout(world, username, name):
    """A 学籍 that says 辍学 with no ledger entry: one mismatch."""
    student = make_student(world, username, name=name)
    student_services.event_record(
        by=world.user(username),
        student=student,
        kind=EventKind.DROP_OUT,
        date=timezone.localdate(),
        reason="学校登记",
    )


@pytest.fixture
def problems(world):
    _dropout(world, SCHOOL_USER, "甲县学生")
    _dropout(world, "c2_xz1_xx1_guanli", "乙县学生")


def _check_now(world, username=STAFF) -> Job:
    job, started = consistency.check_now(by=world.user(username))
    assert started
    return job


def test_check_now_runs_the_users_county_as_the_user_and_keeps_a_run(world, problems):
    job = _check_now(world)
    assert (job.kind, job.status) == (JobKind.CONSISTENCY_CHECK, JobStatus.QUEUED)
    assert not ConsistencyRun.objects.exists(), "nothing runs before the worker"
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.message == "核查完成：发现1个问题。"
    assert (job.done, job.total, job.percent) == (5, 5, 100)
    run = ConsistencyRun.objects.get()
    assert run.county == Region.objects.get(code="532926")
    assert run.ran_by == world.user(STAFF)
    assert run.problem_count == 1
    assert [(p["problem"], p["name"]) for p in run.problems] == [
        (ConsistencyProblem.DROPOUT_WITHOUT_ENTRY, "甲县学生")
    ], "only the user's county"


def test_the_job_runs_through_the_celery_task(world, problems):
    job = _check_now(world, "c2_xian_admin")
    assert run_job.apply(args=[job.pk]).successful()
    run = ConsistencyRun.objects.get()
    assert run.county.code == "530102" and run.ran_by.username == "c2_xian_admin"
    assert [p["name"] for p in run.problems] == ["乙县学生"]


def test_the_nightly_task_and_the_job_write_the_same_run(world, problems, settings):
    """One write path: the same function, so the same problems; only ``ran_by`` differs."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task per county runs inline
    consistency_check()
    jobs.job_run(_check_now(world).pk)
    nightly, now = ConsistencyRun.objects.filter(county__code="532926").order_by("id")
    assert nightly.ran_by is None and now.ran_by == world.user(STAFF)
    assert nightly.problems == now.problems and nightly.problem_count == now.problem_count


def test_progress_is_reported_after_each_kind_of_mismatch(world, problems):
    heard = []
    consistency.check_county(
        Region.objects.get(code="532926"), progress=lambda done, total: heard.append((done, total))
    )
    assert heard == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert len(ConsistencyProblem) == 5


@pytest.mark.parametrize(
    ("username", "message"),
    [
        (SCHOOL_USER, "县教体局"),  # no permission
        ("xz1_ganbu", "县教体局"),
        ("shi_dudao", "县教体局"),  # supervisors above the county read the runs only
    ],
)
def test_only_county_accounts_check_now(world, username, message):
    with pytest.raises(AppError, match=message):
        consistency.check_now(by=world.user(username))
    assert not Job.objects.exists()


def test_an_account_without_a_county_has_nothing_to_check_now(world):
    admin = User.objects.create_superuser("root", password="x" * 12)
    assert not consistency.may_check_now(admin)
    with pytest.raises(AppError, match="县教体局的账号"):
        consistency.check_now(by=admin)
    assert consistency.may_check_now(world.user(STAFF))


def test_a_second_click_while_the_check_runs_starts_no_second_job(world):
    first = _check_now(world)
    again, started = consistency.check_now(by=world.user(STAFF))
    assert again == first and not started
    jobs.job_run(first.pk)
    _, started = consistency.check_now(by=world.user(STAFF))
    assert started, "once finished, a new check may start"


def test_the_requester_is_checked_again_when_the_job_runs(world, problems):
    job = _check_now(world)
    staff = world.user(STAFF)
    staff.role = "school_staff"  # moved to a school before the worker got to it
    staff.region, staff.school = None, world.user(SCHOOL_USER).school
    staff.save()
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "已无此权限" in job.message
    assert not ConsistencyRun.objects.exists()


# -- the page ----------------------------------------------------------------------------------


def test_page_offers_check_now_and_shows_the_running_jobs_progress(
    world, problems, django_capture_on_commit_callbacks
):
    client = world.client(STAFF)
    page = client.get(PAGE).content.decode()
    assert 'data-testid="check-now"' in page and "立即核查" in page
    assert "还没有留存的核查结果" in page
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(PAGE)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert len(queued) == 1, "the job is queued once the request commits"
    job = Job.objects.get(kind=JobKind.CONSISTENCY_CHECK)
    assert job.requested_by == world.user(STAFF)
    page = client.get(PAGE).content.decode()
    assert "已开始核查本县台账" in page
    assert 'data-testid="check-progress"' in page and 'http-equiv="refresh"' in page
    assert 'data-testid="check-now"' not in page, "no second check while one runs"
    jobs.report_progress(job, 2, 5)
    assert "已完成 2 / 5 项检查" in client.get(PAGE).content.decode()


def test_page_shows_the_latest_result_with_when_and_who(world, problems, settings):
    client = world.client(STAFF)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task per county runs inline
    consistency_check()
    page = client.get(PAGE).content.decode()
    assert "夜间自动核查" in page and "发现 <strong>1</strong> 个问题" in page
    jobs.job_run(_check_now(world).pk)
    run = ConsistencyRun.objects.filter(ran_by__isnull=False).get()
    page = client.get(PAGE).content.decode()
    when = timezone.localtime(run.ran_at).strftime("%Y-%m-%d %H:%M")
    assert f"最近一次核查：{when}，由{world.user(STAFF).full_name}立即核查" in page
    assert 'http-equiv="refresh"' not in page and 'data-testid="check-now"' in page


def test_page_tells_a_failed_check(world):
    job = _check_now(world)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message="任务执行出错")
    page = world.client(STAFF).get(PAGE).content.decode()
    assert 'data-testid="check-failed"' in page and "任务执行出错" in page


def test_page_check_now_is_refused_to_other_roles(world):
    client = world.client(SCHOOL_USER)
    assert client.post(PAGE).status_code == 403
    assert not Job.objects.exists()


def test_job_page_counts_checks_and_leads_back_to_the_results(world, problems):
    job = _check_now(world)
    jobs.job_run(job.pk)
    page = world.client(STAFF).get(f"/jobs/{job.pk}/").content.decode()
    assert "人账相符核查" in page and "已完成 5 / 5 项检查" in page
    assert "核查完成：发现1个问题。" in page
    assert f'href="{PAGE}"' in page and "查看核查结果" in page
