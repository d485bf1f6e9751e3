"""Exports are background jobs (issue 15 §6): what a test of an export page does — post the
list's export form, run the job it queued (the worker's task calls ``jobs.job_run``), and
download the file from the job's page as its requester — and what every export promises:
nobody else gets the file."""

import io
import re

from django.test import Client
from openpyxl import load_workbook

from accounts import jobs
from accounts.choices import JobStatus
from accounts.models import Job


def start(client: Client, path: str, data: dict | None = None) -> Job:
    """Post the export form; it answers with the job's page."""
    response = client.post(path, data or {})
    assert response.status_code == 302, response.status_code
    found = re.fullmatch(r"/jobs/(\d+)/", response["Location"])
    assert found, response["Location"]
    return Job.objects.get(pk=int(found[1]))


def run(job: Job) -> Job:
    jobs.job_run(job.pk)
    return Job.objects.get(pk=job.pk)


def download(client: Client, job: Job) -> bytes:
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def export(client: Client, path: str, data: dict | None = None) -> tuple[Job, bytes]:
    """Start, run and download an export that succeeds; the job and the file's bytes."""
    job = run(start(client, path, data))
    assert job.status == JobStatus.DONE, job.message
    return job, download(client, job)


def rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def refused_to_others(job: Job, *others: Client) -> None:
    """The job's page and file answer 404 to anyone but the requester."""
    for other in others:
        assert other.get(f"/jobs/{job.pk}/").status_code == 404
        assert other.get(f"/jobs/{job.pk}/download/").status_code == 404
