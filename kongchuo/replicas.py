"""Read replicas (issue 19 §3): the heavy reads may be served by a streaming replica.

Everything reads from and writes to the primary (``default``) unless a code path marks a
block of its reads with ``reading()`` — the dashboards' indicators, the exports, the
comparisons' reads. ``DATABASE_REPLICA_URLS`` (settings) adds the aliases ``replica``,
``replica2``, …; without it ``reading()`` changes nothing.

What a block may read from a replica, and why it never misses a write it must see:

1. **Caught up at the start.** A block reads from a replica only once that replica has
   replayed everything the primary had written when the block began (the primary's
   ``pg_current_wal_lsn()`` against the replica's ``pg_last_wal_replay_lsn()``; Django commits
   with ``synchronous_commit`` on, so every commit returned is in that position). It waits up
   to ``DATABASE_REPLICA_WAIT`` seconds for that, then reads from the primary. So a request or
   a task sees its own committed writes and those of everything that came before it: the
   teacher who saves a roll and opens the dashboard, the export job queued after a change.
   Replication lag therefore costs at most that wait, never a stale answer.
2. **Not inside a transaction.** A block that starts inside ``transaction.atomic`` on the
   primary reads from the primary: the transaction's own writes are not committed, no replica
   has them. (A transaction the block opens itself is read on the replica until it writes.)
3. **Pinned after a write.** Once a block writes, the rest of it reads from the primary.
   Bookkeeping written while a block reads — a job's or a comparison run's progress, the
   audit trail (settings.DATABASE_REPLICA_PRIMARY_MODELS) — does not pin it; those models
   are always read from the primary.
4. **A replica that does not answer, or did not catch up in time, is skipped** (logged) for
   ``SKIP_SECONDS``; the primary serves the block.

Nested blocks share the outermost block's choice. Querysets are routed when they are
evaluated, so a lazy queryset returned out of a block is read from the primary.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.02
# A replica that fell behind or did not answer is passed over for this long (per process), so
# that a lagging replica costs one wait, not one per block.
SKIP_SECONDS = 10.0
skipped: dict[str, float] = {}


@dataclass
class Block:
    alias: str
    pinned: bool = False


_local = threading.local()


def _blocks() -> list[Block]:
    blocks = getattr(_local, "blocks", None)
    if blocks is None:
        blocks = _local.blocks = []
    return blocks


def replica_aliases() -> list[str]:
    """The replicas' aliases in settings.DATABASES, in order."""
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def current_block() -> Block | None:
    blocks = _blocks()
    return blocks[-1] if blocks else None


def read_alias() -> str:
    """The alias the current block reads from now (``default`` outside a block)."""
    block = current_block()
    return DEFAULT_DB_ALIAS if block is None or block.pinned else block.alias


def read_connection():
    """The connection for raw SQL reads of the current block (``connection`` outside one)."""
    return connections[read_alias()]


def _bookkeeping(model) -> bool:
    return model._meta.label_lower in settings.DATABASE_REPLICA_PRIMARY_MODELS


def _primary_position() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def caught_up(alias: str, position: str, wait: float) -> bool:
    """Whether replica ``alias`` has replayed the primary's WAL up to ``position`` within
    ``wait`` seconds. A replica that fails to answer, or is no longer in recovery (promoted),
    is not caught up."""
    deadline = time.monotonic() + wait
    try:
        with connections[alias].cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
                if cursor.fetchone()[0]:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(_POLL_SECONDS)
    except DatabaseError:
        logger.warning("replica %s did not answer; reading from the primary", alias, exc_info=True)
        connections[alias].close()
        return False


def choose() -> str:
    """The alias a new block reads from (rules 1, 2 and 4 of the module's docstring)."""
    aliases = replica_aliases()
    if not aliases or not settings.DATABASE_REPLICA_READS:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    now = time.monotonic()
    aliases = [alias for alias in aliases if skipped.get(alias, 0.0) <= now]
    if not aliases:
        return DEFAULT_DB_ALIAS
    position = _primary_position()
    for alias in random.sample(aliases, len(aliases)):
        if caught_up(alias, position, settings.DATABASE_REPLICA_WAIT):
            return alias
        skipped[alias] = time.monotonic() + SKIP_SECONDS
    return DEFAULT_DB_ALIAS


class reading:  # noqa: N801 - used like contextlib's context managers
    """``with reading():`` or ``@reading()``: the reads of this block may go to a replica."""

    def __enter__(self) -> str:
        blocks = _blocks()
        blocks.append(blocks[-1] if blocks else Block(alias=choose()))
        return blocks[-1].alias

    def __exit__(self, *exc) -> None:
        _blocks().pop()

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            with reading():
                return fn(*args, **kwargs)

        inner.reads_from_replica = True
        return inner


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: reads of a ``reading()`` block to its replica, everything
    else to the primary; no migration ever runs on a replica."""

    def db_for_read(self, model, **hints) -> str:
        if _bookkeeping(model):
            return DEFAULT_DB_ALIAS
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        block = current_block()
        if block is not None and not _bookkeeping(model):
            block.pinned = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, whichever copy an object was read from

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db.startswith("replica") else None
