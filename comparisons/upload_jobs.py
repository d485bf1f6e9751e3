"""The upload page's list taken in as a background job (accounts.jobs; issue 13: "they can
leave and come back"): a province's million-row list takes longer than a web request may.
The page checks the mapping against the list's headings first — a wrong mapping is shown on
the form and nothing is queued — then hands the file it stored to the job; the job runs
``sources.source_upload`` as the uploader, and the file is deleted once it has finished,
whether the list went in or was refused. The API stays synchronous.

The rows are read inside the upload's one transaction, so the progress of the reading is
written through a second connection of its own: the job page's bar moves while they are."""

from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections

from accounts import jobs
from accounts.choices import JobKind
from accounts.models import Job, User

from . import sources
from .permissions import UPLOAD


def upload_start(
    *, by: User, kind: str, path: str, name: str, headings: list[str], mapping: dict
) -> Job:
    """Queue the take-in of the list stored at ``path`` (default storage; the job deletes
    it), its columns mapped by ``mapping`` — checked here against the list's ``headings``,
    AppError (field "mapping") if it does not fit."""
    sources.upload_county(by)
    mapping = sources.clean_mapping(kind, headings, mapping)
    return jobs.job_start(
        by=by,
        kind=JobKind.COMPARISON_UPLOAD,
        params={jobs.UPLOAD_PARAM: path, "kind": kind, "mapping": mapping, "name": name},
    )


@jobs.runner(JobKind.COMPARISON_UPLOAD, UPLOAD)
def run_upload(job: Job, user: User) -> None:
    params = job.params
    with default_storage.open(params[jobs.UPLOAD_PARAM], "rb") as file, _progress(job) as report:
        result = sources.source_upload(
            by=user,
            kind=params["kind"],
            file=file,
            mapping=params["mapping"],
            name=params["name"],
            progress=report,
        )
    # Where the job page links to: the comparison started, or the list already there.
    Job.objects.filter(pk=job.pk).update(
        params={
            **params,
            "source": result.source.pk,
            "run": result.run.pk if result.run is not None else None,
        }
    )
    jobs.finish(job, message=result.message)


@contextmanager
def _progress(job: Job):
    """``report(done, total)`` writing the job's progress at once, committed on a connection
    apart from the upload's transaction; the connection is closed afterwards."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    table = other.ops.quote_name(Job._meta.db_table)

    def report(done: int, total: int) -> None:
        with other.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET done = %s, total = %s WHERE id = %s",  # noqa: S608
                [done, total, job.pk],
            )

    try:
        yield report
    finally:
        other.close()
