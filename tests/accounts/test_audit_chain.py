"""Issue 15 §7, tamper evidence of the audit trail: every row is chained into a hash chain
(accounts.audit_chain), and ``manage.py verify_audit`` names the first broken link — a row
changed, a row deleted, a link deleted or a row slipped in afterwards — even when the
changes were made by someone who could switch the append-only triggers off."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts import audit, audit_chain
from accounts.choices import AuditAction
from accounts.models import AuditEvent, AuditSeal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _write(n: int) -> list[AuditEvent]:
    return [
        audit.record(
            actor=None, action=AuditAction.UPDATE, detail=f"第{i}次操作", region_code="532926"
        )
        for i in range(n)
    ]


def _with_id(pk: int, detail: str) -> AuditEvent:
    event = audit.new_event(actor=None, action=AuditAction.UPDATE, detail=detail)
    event.pk = pk
    return event


def _as_owner(sql: str, params=()) -> None:
    """What someone with database rights can do: switch the refusing triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_rows_are_chained_once_and_the_chain_verifies(capsys):
    events = _write(3)
    assert audit_chain.seal() == 3
    assert audit_chain.seal() == 0  # a second run seals nothing more
    seals = list(AuditSeal.objects.order_by("seq"))
    assert [s.event_id for s in seals] == [e.pk for e in events]
    assert seals[0].digest == audit_chain.link(audit_chain.GENESIS, events[0])
    assert seals[1].digest == audit_chain.link(seals[0].digest, events[1])
    call_command("verify_audit")
    assert "审计链完整：3 环逐一核对无误" in capsys.readouterr().out


def test_a_changed_row_is_the_first_broken_link():
    events = _write(4)
    audit_chain.seal()
    _as_owner("UPDATE accounts_auditevent SET detail = %s WHERE id = %s", ["改过", events[2].pk])
    verdict = audit_chain.verify()
    assert (verdict.broken.seq, verdict.broken.event_id) == (3, events[2].pk)
    assert verdict.broken.reason == "审计记录内容被修改"
    assert verdict.links == 2
    with pytest.raises(CommandError, match=f"第 3 环断开（审计记录 #{events[2].pk}）"):
        call_command("verify_audit")


def test_a_deleted_row_breaks_the_chain():
    events = _write(3)
    audit_chain.seal()
    _as_owner("DELETE FROM accounts_auditevent WHERE id = %s", [events[1].pk])
    broken = audit_chain.verify().broken
    assert (broken.seq, broken.event_id, broken.reason) == (2, events[1].pk, "审计记录被删除")


def test_a_deleted_link_breaks_the_chain():
    _write(3)
    audit_chain.seal()
    _as_owner("DELETE FROM accounts_auditseal WHERE seq = 2")
    broken = audit_chain.verify().broken
    assert (broken.seq, broken.reason) == (2, "链接缺失（审计链记录被删除）")


def test_an_old_row_slipped_in_after_the_sealing_is_reported():
    _write(2)
    audit_chain.seal()
    forged = audit.new_event(actor=None, action=AuditAction.DELETE, detail="补录")
    forged.save(force_insert=True)
    _as_owner(
        "UPDATE accounts_auditevent SET at = %s WHERE id = %s",
        [timezone.now() - datetime.timedelta(days=3), forged.pk],
    )
    broken = audit_chain.verify().broken
    assert broken.event_id == forged.pk
    assert "未入链的旧审计记录" in broken.reason


def test_a_row_that_becomes_visible_late_is_chained_in_the_next_pass():
    """A long transaction's rows commit after later rows were sealed: they are chained in
    the order they became visible, and the chain still verifies."""
    first = _write(1)[0]
    late_id = first.pk + 10
    AuditEvent.objects.bulk_create([_with_id(first.pk + 20, "后提交的")])
    assert audit_chain.seal() == 2
    AuditEvent.objects.bulk_create([_with_id(late_id, "长事务中的")])
    assert audit_chain.seal() == 1
    assert AuditSeal.objects.get(event_id=late_id).seq == 3
    verdict = audit_chain.verify()
    assert verdict.broken is None and verdict.links == 3 and verdict.unsealed == 0


def test_new_rows_wait_for_the_next_seal_without_breaking_the_chain():
    _write(2)
    audit_chain.seal()
    _write(1)
    verdict = audit_chain.verify()
    assert verdict.broken is None and (verdict.links, verdict.unsealed) == (2, 1)


def test_links_cannot_be_changed_through_the_orm():
    _write(1)
    audit_chain.seal()
    with pytest.raises(PermissionError):
        AuditSeal.objects.all().delete()
