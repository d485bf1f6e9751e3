"""Background jobs of the accounts app. Tasks load by id, call a service, retry transient
errors only."""

from celery import shared_task
from django.core.management import call_command
from django.db import OperationalError

TRANSIENT_ERRORS = (OperationalError, ConnectionError, TimeoutError)


@shared_task(
    autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def purge_expired_sessions():
    """Nightly: drop expired sessions. Running it twice removes nothing more."""
    call_command("clearsessions")
