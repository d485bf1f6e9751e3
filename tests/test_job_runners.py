"""Every kind of background job has its runner once Django has loaded its apps (issue 15
§6): a worker imports no URLconf and no view, so a runner registered only by a module the
views import would leave its jobs failing in the worker. Each app's ``ready()`` imports the
module of its runners (the exports included)."""

import os
import subprocess
import sys

from django.conf import settings

from accounts.choices import JobKind

_LIST_RUNNERS = (
    "import django; django.setup(); from accounts import jobs; "
    "print(' '.join(sorted(str(kind) for kind in jobs.RUNNERS)))"
)


def test_every_job_kind_has_a_runner_after_setup_alone():
    # A fresh interpreter: this one has imported every view already.
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _LIST_RUNNERS],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE},
        capture_output=True,
        text=True,
        check=True,
    )
    registered = set(done.stdout.split())
    assert {kind.value for kind in JobKind} - registered == set()
