"""The audit trail (DOMAIN.md §10): who did what, when, from where, with before/after values.

Personal identifiers never enter it: fields listed in ``SENSITIVE_FIELDS`` are recorded only
as "changed", and free text passes through the same redaction as the logs.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache

from django.db import models
from django.utils import timezone

from kongchuo import sealed
from kongchuo.logging import redact

from .choices import AuditAction

# Every sealed field (kongchuo.sealed) is one of them: what is encrypted in its table is not
# copied in plain into the audit trail (tests/kongchuo/test_sealed.py checks).
SENSITIVE_FIELDS = frozenset(
    {
        "password",
        "id_number",
        "phone",
        "guardian_phone",
        "disability_type",
        "disability_grade",
        "family_situation",
        "parent_contact",
    }
)
HIDDEN = "[已隐藏]"
# Bookkeeping fields whose changes say nothing about the record.
_IGNORED_FIELDS = frozenset({"last_login", "updated_at", "created_at"})

_client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


@contextmanager
def client_address(address: str | None):
    token = _client_address.set(address)
    try:
        yield
    finally:
        _client_address.reset(token)


# Values that are their own plain form; everything else is asked by _plain. Checked first:
# the roster import takes a snapshot of every row it writes.
_PLAIN_TYPES = frozenset({str, int, bool, float, type(None)})


def _plain(value):
    if type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@cache  # a model's fields are fixed once the apps are loaded; bulk writers ask per row
def _audited(model: type[models.Model]) -> tuple[str, ...]:
    """The fields whose changes are recorded: not bookkeeping, not the columns derived from
    another field (a look-up hash, a masked copy), which change with it."""
    return tuple(
        f.attname
        for f in model._meta.concrete_fields
        if f.name not in _IGNORED_FIELDS and not sealed.is_derived(f)
    )


def snapshot(instance: models.Model) -> dict:
    """The record's own field values, to compare with later. Kept in memory only: ``diff``
    hides the sensitive ones before anything is stored."""
    return {name: _plain(getattr(instance, name)) for name in _audited(instance._meta.model)}


def snapshot_row(model: type[models.Model], row: dict) -> dict:
    """``snapshot`` of a record given as its column values by attname (a bulk writer's row,
    never made into an instance): the same keys and values as of the saved instance."""
    return {name: _plain(row.get(name)) for name in _audited(model)}


def _safe(name: str, value):
    if name in SENSITIVE_FIELDS:
        return HIDDEN if value else ""
    return value


def diff(before: dict | None, after: dict | None) -> dict:
    """``{field: [before, after]}`` for every field that differs; a sensitive field shows
    only that it changed."""
    before, after = before or {}, after or {}
    changes = {}
    # Written out (no helper call per field): the roster import diffs every row it writes.
    if not before:  # a create, the common case in bulk: every value that is set (an empty
        # text or an unset flag says nothing and would double a bulk import's audit trail)
        for name in sorted(after):
            new = after[name]
            if new is not None and new != "" and new is not False:
                if name in SENSITIVE_FIELDS:
                    changes[name] = ["", HIDDEN if new else ""]
                else:
                    changes[name] = [None, new]
        return changes
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old != new:
            if name in SENSITIVE_FIELDS:
                old, new = (HIDDEN if old else ""), (HIDDEN if new else "")
            changes[name] = [old, new]
    return changes


# Account names and details repeat from row to row of a bulk write: redacted once each.
_redact_label = lru_cache(maxsize=512)(redact)


def event_columns(
    *,
    actor,
    action: str,
    model: type[models.Model] | None = None,
    pk=None,
    text: str = "",
    changes: dict | None = None,
    detail: str = "",
    region_code: str = "",
    actor_name: str | None = None,
    at: datetime | None = None,
) -> dict:
    """An audit row about the record ``pk`` of ``model`` (shown as ``text``), or about no
    record: its columns by attname, redacted. The one constructor of audit rows: ``record``
    saves one as an AuditEvent (``new_event``); bulk writers (the roster import) write many
    at once, as instances (bulk_create) or as these plain rows (COPY on PostgreSQL)."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return {
        # Set for the bulk writers, which do not run auto_now_add; save() stamps it anew.
        "at": at or timezone.now(),
        "actor_id": actor.pk if authenticated else None,
        "actor_name": _redact_label(
            actor_name if actor_name is not None else (actor.username if authenticated else "")
        ),
        "action": action,
        "object_type": model._meta.label if model is not None else "",
        "object_id": str(pk) if model is not None else "",
        "object_repr": redact(text)[:200] if model is not None else "",
        "changes": changes or {},
        "detail": _redact_label(detail)[:500],
        "region_code": region_code or "",
        "client_address": _client_address.get(),
    }


def new_event(**columns):
    """``event_columns`` as an unsaved AuditEvent."""
    from .models import AuditEvent

    return AuditEvent(**event_columns(**columns))


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    changes: dict | None = None,
    detail: str = "",
    region_code: str | None = None,
    actor_name: str | None = None,
):
    if region_code is None:
        source = obj if obj is not None else actor
        region_code = getattr(source, "audit_region_code", "") if source is not None else ""
    event = new_event(
        actor=actor,
        action=action,
        # Not type(obj): the request's user is a lazy wrapper around the instance.
        model=obj._meta.model if obj is not None else None,
        pk=obj.pk if obj is not None else None,
        text=str(obj) if obj is not None else "",
        changes=changes,
        detail=detail,
        region_code=region_code,
        actor_name=actor_name,
    )
    event.save(force_insert=True)
    return event


def record_change(*, actor, instance: models.Model, before: dict | None, detail: str = ""):
    """Record a create (``before`` None) or an update of ``instance`` with what changed."""
    after = snapshot(instance)
    if before is None:
        return record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=instance,
            changes=diff(None, after),
            detail=detail,
        )
    changes = diff(before, after)
    if not changes and not detail:
        return None
    return record(
        actor=actor, action=AuditAction.UPDATE, obj=instance, changes=changes, detail=detail
    )


def record_export(*, actor, what: str, rows: int, region_code: str | None = None):
    return record(
        actor=actor,
        action=AuditAction.EXPORT,
        detail=f"导出{what}，共{rows}行",
        region_code=region_code,
    )
