"""Tamper evidence for the audit trail (issue 15 §7). Each audit row gets a link in a hash
chain: SHA-256 of the previous link's digest and the row's content. Someone with database
rights who changes, deletes or inserts a row must rewrite every later link to hide it, and
``manage.py verify_audit`` recomputes the chain and names the first broken link.

Rows are chained by ``seal`` shortly after they are written (a beat job every minute), not by
the writer: chaining at insert would make every audited write in the county wait for the
longest open transaction (a roster import writes 100,000 rows in one). A row whose writing
transaction commits late, after later rows were sealed, is sealed in the next pass: links
follow the order rows became visible. A row still unsealed a ``SEAL_WINDOW`` after its time
was slipped in where the sealer no longer looks, and verify reports it."""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEvent, AuditSeal

SEAL_WINDOW = datetime.timedelta(days=1)
GENESIS = "0" * 64
_BATCH = 5000
_LOCK = 0x6B63_6175  # pg_advisory_xact_lock key: one sealer at a time


def content(event: AuditEvent) -> bytes:
    """The row's columns in a fixed form (what its link vouches for)."""
    return json.dumps(
        [
            event.pk,
            event.at.isoformat(),
            event.actor_id,
            event.actor_name,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.changes,
            event.detail,
            event.region_code,
            event.client_address,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def link(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous.encode() + content(event)).hexdigest()


def _unsealed(since: datetime.datetime):
    return (
        AuditEvent.objects.filter(at__gte=since, seal__isnull=True)
        .order_by("pk")
        .only(*(f.attname for f in AuditEvent._meta.concrete_fields))
    )


def seal(now: datetime.datetime | None = None) -> int:
    """Chain every unsealed row of the last SEAL_WINDOW; returns how many were sealed.
    Running it twice seals nothing more."""
    since = (now or timezone.now()) - SEAL_WINDOW
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            last = AuditSeal.objects.order_by("-seq").first()
            seq, digest = (last.seq, last.digest) if last else (0, GENESIS)
            rows = []
            for event in _unsealed(since)[:_BATCH]:
                seq += 1
                digest = link(digest, event)
                rows.append(AuditSeal(seq=seq, event_id=event.pk, digest=digest))
            AuditSeal.objects.bulk_create(rows)
        sealed += len(rows)
        if len(rows) < _BATCH:
            return sealed


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    links: int
    broken: Break | None
    unsealed: int  # rows newer than the window, waiting for the next seal


def _links() -> Iterator[tuple[AuditSeal, AuditEvent | None]]:
    """The chain in order with each link's row (None where the row is gone)."""
    after = 0
    while True:
        seals = list(AuditSeal.objects.filter(seq__gt=after).order_by("seq")[:_BATCH])
        if not seals:
            return
        events = AuditEvent.objects.in_bulk([s.event_id for s in seals])
        for each in seals:
            yield each, events.get(each.event_id)
        after = seals[-1].seq


def verify(now: datetime.datetime | None = None) -> Verdict:
    """Recompute the chain from the start; the first link that does not hold, if any."""
    digest, expected, count = GENESIS, 1, 0
    for each, event in _links():
        if each.seq != expected:
            return Verdict(count, Break(expected, None, "链接缺失（审计链记录被删除）"), 0)
        if event is None:
            return Verdict(count, Break(each.seq, each.event_id, "审计记录被删除"), 0)
        digest = link(digest, event)
        if digest != each.digest:
            return Verdict(count, Break(each.seq, event.pk, "审计记录内容被修改"), 0)
        expected, count = expected + 1, count + 1
    cutoff = (now or timezone.now()) - SEAL_WINDOW
    unsealed = AuditEvent.objects.filter(seal__isnull=True)
    stray = unsealed.filter(at__lt=cutoff).order_by("pk").first()
    if stray is not None:
        reason = "有未入链的旧审计记录（可能是事后插入）"
        return Verdict(count, Break(expected, stray.pk, reason), 0)
    return Verdict(count, None, unsealed.count())
