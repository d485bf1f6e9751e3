"""Issue 19 §2: the tables that grow by the day are partitioned on PostgreSQL — roll calls and
marks by school year, audit events and notifications by month — new partitions are made
ahead, the nightly 疑似辍学 scan reads only the school year it needs, and a finished school
year is archived to files and restored."""

import csv
import datetime
import gzip
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.choices import NotificationKind
from accounts.models import AuditEvent, Notification, Region
from accounts.notifications import notify
from attendance import rule
from attendance.choices import Mark
from attendance.models import AttendanceMark, RollCall
from kongchuo import partitions
from ledger.models import LedgerEntry
from tests.attendance.conftest import COUNTY, PRINCIPAL, absent, take

pytestmark = pytest.mark.postgres

ROLLS, MARKS = RollCall._meta.db_table, AttendanceMark._meta.db_table


def partition_of(model, pk) -> str:
    with connection.cursor() as cursor:
        table = model._meta.db_table
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_growing_tables_are_partitioned_with_partitions_ahead(db):
    assert {s.table: (s.column, s.period) for s in partitions.schemes()} == {
        ROLLS: ("date", partitions.YEAR),
        MARKS: ("date", partitions.YEAR),
        AuditEvent._meta.db_table: ("at", partitions.MONTH),
        Notification._meta.db_table: ("created_at", partitions.MONTH),
    }
    today = timezone.localdate()
    year = partitions.school_year(today)
    month = today.replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    for scheme in partitions.schemes():
        names = set(partitions.partitions_of(scheme.table))
        if scheme.period == partitions.YEAR:
            ahead = {f"{scheme.table}_y{year}", f"{scheme.table}_y{year + 1}"}
        else:
            ahead = {f"{scheme.table}_m{month:%Y%m}", f"{scheme.table}_m{following:%Y%m}"}
        assert ahead | {f"{scheme.table}_default"} <= names, scheme.table


def test_periods_follow_the_school_year_and_the_month():
    assert partitions.school_year(datetime.date(2026, 8, 31)) == 2025
    assert partitions.school_year(datetime.date(2026, 9, 1)) == 2026
    assert [p.suffix for p in partitions.periods(partitions.YEAR, datetime.date(2025, 8, 31),
                                                 datetime.date(2026, 9, 1))] == [
        "y2024", "y2025", "y2026"
    ]  # fmt: skip
    months = partitions.periods(partitions.MONTH, datetime.date(2026, 11, 30),
                                datetime.date(2027, 1, 1))  # fmt: skip
    assert [(p.suffix, p.lower, p.upper) for p in months] == [
        ("m202611", datetime.date(2026, 11, 1), datetime.date(2026, 12, 1)),
        ("m202612", datetime.date(2026, 12, 1), datetime.date(2027, 1, 1)),
        ("m202701", datetime.date(2027, 1, 1), datetime.date(2027, 2, 1)),
    ]


def test_a_row_beyond_the_partitions_waits_in_the_default_one_and_moves(world, klass, pupils):
    # A date no partition covers (the service refuses future days: stored directly).
    day = datetime.date(2030, 10, 8)
    by = world.user(PRINCIPAL)
    roll = RollCall.objects.create(
        klass=klass, school=klass.school, date=day, submitted_by=by, changed_by=by
    )
    mark = AttendanceMark.objects.create(
        roll=roll, student=pupils[0], date=day, status=Mark.UNEXCUSED
    )
    assert partition_of(RollCall, roll.pk) == f"{ROLLS}_default"
    created = partitions.ensure(day)
    assert f"{ROLLS}_y2030" in created and f"{MARKS}_y2030" in created
    assert partition_of(RollCall, roll.pk) == f"{ROLLS}_y2030"
    assert partition_of(AttendanceMark, mark.pk) == f"{MARKS}_y2030"
    # The same rows, still found through Django.
    assert RollCall.objects.get(pk=roll.pk).marks.get().student == pupils[0]
    # Running it again creates nothing.
    assert partitions.ensure(day) == []


def test_an_audit_event_moves_out_of_the_default_partition_and_stays_append_only(db):
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (at, actor_name, action, object_type, object_id, object_repr,"  # noqa: S608
            " changes, detail, region_code) VALUES ('2031-05-05 10:00+08', 'x', 'update', '',"
            " '', '', '{}', '', '') RETURNING id"
        )
        pk = cursor.fetchone()[0]
    assert partition_of(AuditEvent, pk) == f"{table}_default"
    assert f"{table}_m203105" in partitions.ensure(datetime.date(2031, 5, 5))
    assert partition_of(AuditEvent, pk) == f"{table}_m203105"
    # The move set the trigger aside for itself only.
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608


def test_a_month_begins_at_midnight_in_beijing(db):
    partitions.ensure(datetime.date(2031, 3, 5))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE relname = %s",
            [f"{Notification._meta.db_table}_m203103"],
        )
        bound = cursor.fetchone()[0]
    assert "2031-02-28 16:00:00+00" in bound and "2031-03-31 16:00:00+00" in bound


def _scanned(as_of: datetime.date) -> set[str]:
    """The partitions of marks and roll calls that the nightly scan's query reads."""
    with CaptureQueriesContext(connection) as queries:
        rule.check_county(Region.objects.get(code=COUNTY), as_of)
    sql = next(q["sql"] for q in queries.captured_queries if "WITH often AS" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    found = set()

    def walk(node):
        name = node.get("Relation Name", "")
        if name.startswith((ROLLS, MARKS)):
            found.add(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def test_rule_nightly_scan_reads_only_the_current_school_years_partitions(world, klass, pupils):
    # DOMAIN.md §4's rule, at province scale: the scan must not grow with the years kept.
    for day in (datetime.date(2024, 10, 1), datetime.date(2027, 10, 1)):
        partitions.ensure(day)
    # From January on only the current school year's partitions.
    assert _scanned(datetime.date(2027, 3, 15)) == {f"{ROLLS}_y2026", f"{MARKS}_y2026"}
    # In the autumn the last year's too: a run of absences can span the summer break.
    assert _scanned(datetime.date(2026, 10, 15)) == {
        f"{ROLLS}_y2025", f"{ROLLS}_y2026", f"{MARKS}_y2025", f"{MARKS}_y2026"
    }  # fmt: skip


def test_rule_a_run_across_the_summer_break_still_counts(world, klass, pupils):
    # Last days of the spring term and the first of the autumn one, in two partitions.
    partitions.ensure(datetime.date(2025, 10, 1))
    child = pupils[0]
    absent(world, klass, [datetime.date(2026, 7, 9), datetime.date(2026, 7, 10)], child)
    assert not LedgerEntry.objects.filter(student=child).exists()
    absent(world, klass, [datetime.date(2026, 9, 1)], child)
    entry = LedgerEntry.objects.get(student=child)
    assert entry.found_on == datetime.date(2026, 9, 1)
    assert partition_of(RollCall, RollCall.objects.get(klass=klass, date="2026-07-10").pk) == (
        f"{ROLLS}_y2025"
    )


def _rows(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as source:
        return list(csv.DictReader(io.StringIO(source.read())))


def test_archive_school_year_moves_a_finished_year_to_files_and_back(
    world, klass, pupils, tmp_path
):
    partitions.ensure(datetime.date(2025, 10, 1))
    old_day, new_day = datetime.date(2026, 3, 10), datetime.date(2026, 10, 13)
    take(world, klass, old_day, {pupils[0]: Mark.UNEXCUSED})
    take(world, klass, new_day, {pupils[1]: Mark.SICK})
    old_roll = RollCall.objects.get(date=old_day)
    old_mark = old_roll.marks.get()
    principal = world.user(PRINCIPAL)
    notify([principal], kind=NotificationKind.GENERAL, title="旧通知")
    old_notice = Notification.objects.get(title="旧通知")
    Notification.objects.filter(pk=old_notice.pk).update(
        created_at=datetime.datetime(2026, 5, 20, 9, tzinfo=datetime.UTC)
    )
    kept = Notification.objects.exclude(pk=old_notice.pk).count()
    audit = AuditEvent.objects.count()

    # The current school year cannot be archived.
    with pytest.raises(CommandError, match="2026学年（2026-09-01至2027-08-31）尚未结束"):
        call_command("archive_school_year", "2026", dir=str(tmp_path / "now"))

    out = io.StringIO()
    call_command("archive_school_year", "2025", dir=str(tmp_path / "2025"), stdout=out)
    assert "已归档2025学年：通知 1 行、考勤 1 行、缺勤记录 1 行" in out.getvalue()
    assert not RollCall.objects.filter(date=old_day).exists()
    assert not AttendanceMark.objects.filter(pk=old_mark.pk).exists()
    assert not Notification.objects.filter(pk=old_notice.pk).exists()
    # The current year, the newer notifications and the audit trail stay.
    assert RollCall.objects.get(date=new_day).marks.get().student == pupils[1]
    assert Notification.objects.count() == kept and AuditEvent.objects.count() >= audit
    assert f"{ROLLS}_y2025" not in partitions.partitions_of(ROLLS)
    # The files hold the rows, as the database had them.
    (roll_row,) = _rows(tmp_path / "2025" / f"{ROLLS}_y2025.csv.gz")
    assert (roll_row["id"], roll_row["date"], roll_row["klass_id"]) == (
        str(old_roll.pk), "2026-03-10", str(klass.pk)
    )  # fmt: skip
    (mark_row,) = _rows(tmp_path / "2025" / f"{MARKS}_y2025.csv.gz")
    assert (mark_row["student_id"], mark_row["status"]) == (str(pupils[0].pk), Mark.UNEXCUSED)
    notice_file = tmp_path / "2025" / f"{Notification._meta.db_table}_m202605.csv.gz"
    assert [row["title"] for row in _rows(notice_file)] == ["旧通知"]

    # Archiving into the same folder again refuses, and overwrites nothing.
    with pytest.raises(CommandError, match="已存在"):
        call_command("archive_school_year", "2025", dir=str(tmp_path / "2025"))
    assert len(_rows(notice_file)) == 1

    out = io.StringIO()
    call_command("archive_school_year", restore=str(tmp_path / "2025"), stdout=out)
    assert "恢复 3 行" in out.getvalue()
    assert RollCall.objects.get(pk=old_roll.pk).marks.get().student == pupils[0]
    assert Notification.objects.get(pk=old_notice.pk).title == "旧通知"
    with pytest.raises(CommandError, match="仍在数据库中"):
        call_command("archive_school_year", restore=str(tmp_path / "2025"))


def test_a_dedupe_key_holds_across_months(world):
    principal = world.user(PRINCIPAL)
    (first,) = notify([principal], kind=NotificationKind.GENERAL, title="提醒", dedupe_key="k:1")
    Notification.objects.filter(pk=first.pk).update(
        created_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    )
    assert notify([principal], kind=NotificationKind.GENERAL, title="提醒", dedupe_key="k:1") == []
    assert Notification.objects.filter(dedupe_key="k:1").count() == 1


def test_convert_keeps_rows_indexes_constraints_triggers_and_ids(db):
    # What the migrations do to a table that already holds rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE demo_growing (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
            " day date NOT NULL, code varchar(10) NOT NULL CHECK (code <> ''),"
            " CONSTRAINT demo_once UNIQUE (code, day));"
            " CREATE INDEX demo_code ON demo_growing (code);"
            " CREATE FUNCTION demo_refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'refused'; END $$;"
            " CREATE TRIGGER demo_refuse BEFORE DELETE ON demo_growing"
            " FOR EACH ROW EXECUTE FUNCTION demo_refuse();"
            " INSERT INTO demo_growing (day, code) VALUES ('2024-10-01', 'a'), ('2026-11-01', 'b')"
        )
        with connection.schema_editor() as editor:
            partitions.convert(editor, "demo_growing", "day", partitions.YEAR)
        cursor.execute("SELECT tableoid::regclass::text, id, code FROM demo_growing ORDER BY id")
        assert cursor.fetchall() == [("demo_growing_y2024", 1, "a"), ("demo_growing_y2026", 2, "b")]
        cursor.execute(
            "INSERT INTO demo_growing (day, code) VALUES ('2026-12-01', 'c') RETURNING id"
        )
        assert cursor.fetchone()[0] == 3
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'demo_growing'::regclass ORDER BY conname"
        )
        constraints = dict(cursor.fetchall())
        assert constraints["demo_growing_pkey"] == "PRIMARY KEY (id, day)"
        assert constraints["demo_once"] == "UNIQUE (code, day)"
        assert any("<> ''" in definition for definition in constraints.values())
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'demo_growing'")
        assert "demo_code" in {name for (name,) in cursor.fetchall()}
        cursor.execute("SAVEPOINT before_delete")
        with pytest.raises(Exception, match="refused"):
            cursor.execute("DELETE FROM demo_growing WHERE code = 'a'")
        cursor.execute("ROLLBACK TO SAVEPOINT before_delete")


def test_the_nightly_task_makes_the_next_months_partition(db, settings):
    from accounts.tasks import create_partitions

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.create_partitions" in tasks
    table = Notification._meta.db_table
    today = timezone.localdate()
    following = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    name = f"{table}_m{following:%Y%m}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {name}")
    assert name not in partitions.partitions_of(table)
    assert name in create_partitions.apply().get()
    assert name in partitions.partitions_of(table)
    assert create_partitions.apply().get() == []


def test_an_archive_file_that_cannot_be_read_restores_nothing(world, tmp_path):
    partitions.ensure(datetime.date(2025, 10, 1))
    call_command("archive_school_year", "2024", dir=str(tmp_path))
    assert f"{ROLLS}_y2024" not in partitions.partitions_of(ROLLS)
    # One good (empty) file and one cut short: neither comes back.
    broken = tmp_path / f"{MARKS}_y2024.csv.gz"
    broken.write_bytes(gzip.compress(b"id,date\n1,not a date\n"))
    with pytest.raises(
        CommandError, match=f"恢复失败，未做任何改动：{MARKS}_y2024.csv.gz 无法读取"
    ):
        call_command("archive_school_year", restore=str(tmp_path))
    assert f"{ROLLS}_y2024" not in partitions.partitions_of(ROLLS)
    assert f"{MARKS}_y2024" not in partitions.partitions_of(MARKS)
