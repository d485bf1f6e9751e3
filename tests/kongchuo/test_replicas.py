"""Read replicas (issue 19 §3, kongchuo.replicas): the dashboards' reads served by a real
streaming replica, and never a read that must see the reader's own write.

CI (.ci/run) starts the replica with .ci/replica.sh and sets DATABASE_REPLICA_URLS; there a
missing replica fails these tests, elsewhere it skips them. The replica copies the whole
cluster, so the test database made on the primary reaches it by replication (the alias is a
test mirror); the tests are transactional because only committed rows replicate.
"""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comparisons import engine
from comparisons import exports as comparison_exports
from comparisons import selectors as comparison_selectors
from kongchuo import replicas
from kongchuo.replicas import ReplicaRouter, read_alias, reading
from ledger import exports as ledger_exports
from reports import indicators, monthly_jobs
from returns import exports as return_exports
from students import exports as student_exports
from tests.reports.test_indicators import Y, entry, figures, student  # noqa: F401 - fixture

REPLICA = "replica"
DASHBOARD = "/reports/dashboard/"
# Without a replica the alias does not exist; the ``replica`` fixture then skips or fails.
on_the_replica = pytest.mark.django_db(
    transaction=True,
    databases=[DEFAULT_DB_ALIAS, *([REPLICA] if REPLICA in settings.DATABASES else [])],
)


@pytest.fixture
def replica(settings):
    """The real replica, switched on for this test (the suite's other tests read the primary)."""
    if REPLICA not in settings.DATABASES:
        reason = "没有只读副本：DATABASE_REPLICA_URLS 未设置（.ci/replica.sh start）"
        if os.environ.get("KONGCHUO_REQUIRE_SERVICES"):
            pytest.fail(f"CI 要求的服务不可用：{reason}")
        pytest.skip(reason)
    settings.DATABASE_REPLICA_READS = True
    # Long enough for any replay on a loaded machine: the block waits, the test never times.
    settings.DATABASE_REPLICA_WAIT = 60
    replicas.skipped.clear()
    yield REPLICA
    replicas.skipped.clear()


def _server(alias: str) -> tuple[bool, int, str]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port(), current_database()")
        return cursor.fetchone()


def _sql(context: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in context.captured_queries)


@on_the_replica
def test_the_dashboard_is_read_from_the_streaming_replica(replica, world, figures):  # noqa: F811
    """The county dashboard's indicators are computed on the replica — a standby on a port of
    its own, holding the same test database — and already show the rows just written on the
    primary (the block waited for the replica to replay them)."""
    in_recovery, port, name = _server(replica)
    primary_recovery, primary_port, primary_name = _server(DEFAULT_DB_ALIAS)
    assert in_recovery and not primary_recovery
    assert port != primary_port and name == primary_name

    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        response = world.client("xian_staff").get(DASHBOARD)
    assert response.status_code == 200
    assert "18.75%" in response.content.decode() and "3 ÷ 16" in response.content.decode()
    assert "ledger_entryevent" in _sql(on_replica)
    assert "ledger_entryevent" not in _sql(on_primary)


@on_the_replica
def test_a_block_that_writes_reads_its_write_from_the_primary(replica, world):
    """Once a block has written, the rest of it reads from the primary: the replica may not
    have replayed the write yet."""
    with reading() as alias:
        assert alias == replica
        with CaptureQueriesContext(connections[replica]) as on_replica:
            Session.objects.filter(session_key="h3-replica-test").exists()
        assert on_replica.captured_queries
        Session.objects.create(
            session_key="h3-replica-test",
            session_data="",
            expire_date=timezone.now() + datetime.timedelta(hours=1),
        )
        assert read_alias() == DEFAULT_DB_ALIAS
        with CaptureQueriesContext(connections[replica]) as on_replica:
            assert Session.objects.filter(session_key="h3-replica-test").exists()
        assert not on_replica.captured_queries


@on_the_replica
def test_a_dashboard_read_inside_a_transaction_that_wrote_is_served_by_the_primary(
    replica,
    world,
    figures,  # noqa: F811
):
    """A request that writes a dropout and reads the indicators in the same transaction sees
    its own, uncommitted dropout: the block started inside the transaction stays on the
    primary (a replica could only give 3 ÷ 16)."""
    user = world.user("xian_staff")
    with transaction.atomic():
        child = student(figures["a1"], enrolled_on=datetime.date(Y - 1, 9, 1), grade=4)
        entry(child, on=datetime.date(Y, 10, 20))
        with CaptureQueriesContext(connections[replica]) as on_replica:
            result = indicators.indicators(
                user, indicators.home_place(user), indicators.period_of(Y)
            )
    assert (result.dropout_rate.numerator, result.dropout_rate.denominator) == (4, 17)
    assert not on_replica.captured_queries


@on_the_replica
def test_a_replica_that_does_not_answer_leaves_the_reads_on_the_primary(
    replica, world, monkeypatch
):
    connections[replica].close()
    monkeypatch.setitem(connections[replica].settings_dict, "PORT", "1")
    try:
        with reading() as alias:
            assert alias == DEFAULT_DB_ALIAS
            assert Session.objects.count() == 0
    finally:
        monkeypatch.undo()
        connections[replica].close()
    # Passed over for a while, so that each block does not wait for it again.
    with reading() as alias:
        assert alias == DEFAULT_DB_ALIAS
    replicas.skipped.clear()
    with reading() as alias:
        assert alias == replica


def test_replicas_are_refused_unless_primary_and_replica_are_postgresql(tmp_path):
    """A replica URL beside the quick start's SQLite, or a replica that is not PostgreSQL,
    stops the settings from loading, naming the variable."""
    for primary, replica in (
        (f"sqlite:///{tmp_path}/db.sqlite3", "postgres://postgres@127.0.0.1:5433/kongchuo"),
        ("postgres://postgres@127.0.0.1:5432/kongchuo", f"sqlite:///{tmp_path}/r.sqlite3"),
    ):
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kongchuo.settings.local",
            "KONGCHUO_DATA_DIR": str(tmp_path),
            "DATABASE_URL": primary,
            "DATABASE_REPLICA_URLS": replica,
        }
        # A fixed interpreter and a fixed script: nothing here comes from outside the test.
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", "import django; django.setup()"],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0 and "DATABASE_REPLICA_URLS" in result.stderr


def test_without_replicas_every_read_is_on_the_primary(settings):
    settings.DATABASE_REPLICA_READS = False
    with reading() as alias, reading() as inner:
        assert alias == inner == DEFAULT_DB_ALIAS == read_alias()
    assert replicas.current_block() is None


def test_no_migration_runs_on_a_replica_and_bookkeeping_stays_on_the_primary():
    router = ReplicaRouter()
    assert router.allow_migrate("replica", "students") is False
    assert router.allow_migrate("replica2", "students") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "students") is None
    from accounts.models import AuditEvent, Job

    for model in (Job, AuditEvent):
        assert router.db_for_write(model) == DEFAULT_DB_ALIAS


def test_the_heavy_reads_are_marked_for_the_replica():
    """The entry points of the dashboards, the exports, the report workbooks and the
    comparisons' reads each run as one reading() block."""
    for function in (
        indicators.indicators,
        student_exports.run_roster_export,
        ledger_exports.export_entries,
        return_exports.export_cases,
        comparison_exports.export_mismatches,
        monthly_jobs.run_county_workbook,
        engine.find,
        comparison_selectors.three_way,
    ):
        assert getattr(function, "reads_from_replica", False), function.__qualname__
