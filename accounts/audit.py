"""The audit trail (DOMAIN.md §10): who did what, when, from where, with before/after values.

Personal identifiers never enter it: fields listed in ``SENSITIVE_FIELDS`` are recorded only
as "changed", and free text passes through the same redaction as the logs.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal

from django.db import models

from kongchuo.logging import redact

from .choices import AuditAction

SENSITIVE_FIELDS = frozenset({"password", "id_number", "phone", "guardian_phone"})
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


def _plain(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(instance: models.Model) -> dict:
    """The record's own field values, to compare with later. Kept in memory only: ``diff``
    hides the sensitive ones before anything is stored."""
    return {
        field.attname: _plain(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.name not in _IGNORED_FIELDS
    }


def _safe(name: str, value):
    if name in SENSITIVE_FIELDS:
        return HIDDEN if value else ""
    return value


def diff(before: dict | None, after: dict | None) -> dict:
    """``{field: [before, after]}`` for every field that differs; a sensitive field shows
    only that it changed."""
    before, after = before or {}, after or {}
    return {
        name: [_safe(name, before.get(name)), _safe(name, after.get(name))]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


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
    from .models import AuditEvent

    if region_code is None:
        source = obj if obj is not None else actor
        region_code = getattr(source, "audit_region_code", "") if source is not None else ""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_name=redact(
            actor_name if actor_name is not None else (actor.username if authenticated else "")
        ),
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=redact(str(obj))[:200] if obj is not None else "",
        changes=changes or {},
        detail=redact(detail)[:500],
        region_code=region_code or "",
        client_address=_client_address.get(),
    )


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
