"""Declarative partitioning of the tables that grow by the day (issue 19 §2), on PostgreSQL.

Roll calls and attendance marks are partitioned by school year (1 September to 31 August,
DOMAIN.md §3): they are read by term, the nightly 疑似辍学 scan reads the current year's
partition (and, in autumn, the summer's end of the last), and a finished year is archived
whole. Audit events and notifications are partitioned by calendar month (Beijing time).

Each partitioned table has a default partition for a row that no partition covers yet;
``ensure`` (nightly, accounts.tasks.create_partitions) creates the partitions of the current
and the next period and moves any such rows into them. ``archive`` detaches a finished school
year's partitions, writes them out and drops them (attendance's ``archive_school_year``
command).

A partitioned table's primary key and unique indexes must hold the partition column: in the
database the primary key is (id, column), while Django still knows the id alone (a sequence
keeps it unique), and the foreign keys that point at such a table have no database constraint
(``db_constraint=False``; Django's deletion collector does their cascade).

SQLite (``make run``) has no partitioning: there every function here does nothing.
"""

import datetime
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
from django.conf import settings
from django.db import connection, migrations, transaction
from django.utils import timezone

YEAR = "year"
MONTH = "month"
# Partitions made ahead of today, so that a row is rarely left to the default partition.
AHEAD = 1


@dataclass(frozen=True)
class Scheme:
    table: str
    column: str
    period: str
    # Whether ``archive`` moves a finished school year of it out of the database.
    archived: bool = True


_SCHEMES: dict[str, Scheme] = {}


def register(model, column: str, period: str, *, archived: bool = True) -> None:
    """Declare ``model``'s table partitioned by ``column`` per ``period`` (YEAR or MONTH): its
    migration converts it (``convert``), ``ensure`` and ``archive`` then look after it."""
    table = model._meta.db_table
    _SCHEMES[table] = Scheme(table, column, period, archived)


def schemes() -> list[Scheme]:
    return list(_SCHEMES.values())


def school_year(day: datetime.date) -> int:
    """The school year a day belongs to, by the year it starts (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


@dataclass(frozen=True)
class Period:
    suffix: str
    lower: datetime.date
    upper: datetime.date


def periods(period: str, first: datetime.date, last: datetime.date) -> list[Period]:
    """The partitions of ``period`` that cover the days from ``first`` to ``last``."""
    if period == YEAR:
        return [
            Period(f"y{year}", datetime.date(year, 9, 1), datetime.date(year + 1, 9, 1))
            for year in range(school_year(first), school_year(last) + 1)
        ]
    result = []
    start = first.replace(day=1)
    while start <= last:
        upper = (start + datetime.timedelta(days=32)).replace(day=1)
        result.append(Period(f"m{start:%Y%m}", start, upper))
        start = upper
    return result


def _bound(period: str, day: datetime.date) -> str:
    # A month starts at midnight in Beijing, whatever the connection's time zone.
    if period == MONTH:
        zone = ZoneInfo(settings.TIME_ZONE)
        return datetime.datetime.combine(day, datetime.time(), zone).isoformat()
    return day.isoformat()


def _ahead(period: str, today: datetime.date) -> datetime.date:
    days = 366 if period == YEAR else 31
    return today + datetime.timedelta(days=days * AHEAD)


def _partitioned(cursor, table: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
    return cursor.fetchone() is not None


def _children(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits"
        " WHERE inhparent = to_regclass(%s) ORDER BY 1",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def partitions_of(table: str) -> list[str]:
    """The names of ``table``'s partitions, the default one included."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        return _children(cursor, table)


def _add_partitions(cursor, scheme: Scheme, wanted: list[Period]) -> list[str]:
    # A partition cannot be attached or detached while rows written earlier in the
    # transaction still owe their deferred foreign-key checks.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    existing = set(_children(cursor, scheme.table))
    created = []
    table, column = scheme.table, scheme.column
    for part in wanted:
        name = f"{table}_{part.suffix}"
        if name in existing:
            continue
        lower, upper = _bound(scheme.period, part.lower), _bound(scheme.period, part.upper)
        # Rows that reached the default partition before this one existed move into it (the
        # audit trail's append-only trigger stands aside for the move).
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(f"ALTER TABLE {table}_default DISABLE TRIGGER USER")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {table}_default WHERE {column} >= %s"  # noqa: S608 - our own table names
            f" AND {column} < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [lower, upper],
        )
        cursor.execute(f"ALTER TABLE {table}_default ENABLE TRIGGER USER")
        cursor.execute(
            f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [lower, upper],
        )
        created.append(name)
    return created


def ensure(today: datetime.date | None = None) -> list[str]:
    """Create every registered table's partitions of the current and the next period (moving
    rows out of the default partition); returns the partitions created. Running it twice
    creates nothing more."""
    if connection.vendor != "postgresql":
        return []
    today = today or timezone.localdate()
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        # Two workers running it at once: the second waits, then finds the partitions made.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('kongchuo.partitions'))")
        for scheme in schemes():
            if _partitioned(cursor, scheme.table):
                wanted = periods(scheme.period, today, _ahead(scheme.period, today))
                created += _add_partitions(cursor, scheme, wanted)
    return created


def _definitions(cursor, table: str) -> tuple[str, list[tuple[str, str, str]], list[str]]:
    """``table``'s primary key name, its other constraints (name, type, definition), and the
    statements that make its indexes that back no constraint and its triggers (the audit
    trail's append-only trigger, kongchuo.append_only)."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE confrelid = to_regclass(%s) AND contype = 'f'",
        [table],
    )
    pointing = [name for (name,) in cursor.fetchall()]
    if pointing:
        raise ValueError(
            f"{table} is the target of foreign keys {pointing}: give them db_constraint=False"
        )
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f', 'c') ORDER BY conname",
        [table],
    )
    constraints = cursor.fetchall()
    primary = next(name for name, kind, _ in constraints if kind == "p")
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        " WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid) ORDER BY 1",
        [table],
    )
    indexes = [definition for (definition,) in cursor.fetchall()]
    cursor.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger"
        " WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal ORDER BY tgname",
        [table],
    )
    triggers = [definition for (definition,) in cursor.fetchall()]
    return primary, [c for c in constraints if c[1] != "p"], indexes + triggers


def operation(table: str, column: str, period: str) -> migrations.RunPython:
    """A migration operation converting ``table`` (``convert``); it cannot be undone."""

    def apply(apps, schema_editor):
        convert(schema_editor, table, column, period)

    return migrations.RunPython(apply)


def convert(schema_editor, table: str, column: str, period: str) -> None:
    """A migration's step: make ``table`` partitioned by ``column`` per ``period``, keeping its
    rows, columns, defaults, constraints and indexes (the primary key becomes (id, column));
    partitions from its oldest row to the next period, and a default one."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _partitioned(cursor, table):
            return
        primary, constraints, statements = _definitions(cursor, table)
        cursor.execute(f"SELECT min({column}), coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our own table name
        oldest, last_id = cursor.fetchone()
        old = f"{table}__unpartitioned"
        cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({column})"
        )
        cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        today = timezone.localdate()
        if isinstance(oldest, datetime.datetime):
            oldest = oldest.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        first = min(oldest or today, today)
        scheme = Scheme(table, column, period)
        _add_partitions(cursor, scheme, periods(period, first, _ahead(period, today)))
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 - our own table names
        cursor.execute(f"DROP TABLE {old}")
        # The identity column's sequence went with the old table: a plain one takes over.
        cursor.execute(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
        cursor.execute(f"SELECT setval('{table}_id_seq', %s, %s)", [max(last_id, 1), last_id > 0])
        cursor.execute(f"ALTER TABLE {table} ALTER id SET DEFAULT nextval('{table}_id_seq')")
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {primary} PRIMARY KEY (id, {column})")
        for name, _, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for statement in statements:
            cursor.execute(statement)


def school_year_days(year: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the school year starting in ``year``."""
    return datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31)


def archive(year: int, folder: Path) -> dict[str, int]:
    """Move the school year ``year``'s partitions of the archived tables out of the database:
    each is detached, written to ``folder`` as ``<partition>.csv.gz`` (PostgreSQL's CSV with a
    header, gzip; ``restore`` reads it back) and dropped. Returns the rows written per table.
    A file already in ``folder`` is never overwritten; on failure nothing changes and the
    files written are removed."""
    first, last = school_year_days(year)
    chosen = [(s, periods(s.period, first, last)) for s in schemes() if s.archived]
    paths = {
        f"{s.table}_{part.suffix}": folder / f"{s.table}_{part.suffix}.csv.gz"
        for s, parts in chosen
        for part in parts
    }
    taken = [path for path in paths.values() if path.exists()]
    if taken:
        raise ValueError(f"{taken[0]} 已存在：该学年已归档到此目录，请换一个目录")
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for scheme, parts in chosen:
                # The year's rows left in the default partition get theirs first.
                _add_partitions(cursor, scheme, parts)
                counts[scheme.table] = 0
                for part in parts:
                    name = f"{scheme.table}_{part.suffix}"
                    cursor.execute(f"ALTER TABLE {scheme.table} DETACH PARTITION {name}")
                    with gzip.open(paths[name], "wb") as out:
                        cursor.copy_expert(f"COPY {name} TO STDOUT WITH (FORMAT csv, HEADER)", out)
                    cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 - our own table name
                    counts[scheme.table] += cursor.fetchone()[0]
                    cursor.execute(f"DROP TABLE {name}")
    except BaseException:
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    return counts


def _period_of(scheme: Scheme, name: str) -> Period | None:
    suffix = name.removeprefix(f"{scheme.table}_")
    try:
        if scheme.period == YEAR:
            day = datetime.date(int(suffix.removeprefix("y")), 9, 1)
        else:
            day = datetime.datetime.strptime(suffix.removeprefix("m"), "%Y%m").date()
    except ValueError:
        return None
    part = periods(scheme.period, day, day)[0]
    return part if part.suffix == suffix else None


def restore(path: Path) -> int:
    """Put a partition that ``archive`` wrote back into its table; returns its rows."""
    name = path.name.removesuffix(".csv.gz")
    found = [
        (scheme, _period_of(scheme, name))
        for scheme in schemes()
        if scheme.archived and name.startswith(f"{scheme.table}_")
    ]
    scheme, part = next(((s, p) for s, p in found if p is not None), (None, None))
    if part is None:
        raise ValueError(f"{path.name} 不是归档的分区文件")
    with transaction.atomic(), connection.cursor() as cursor:
        if _regclass(cursor, name) is not None:
            raise ValueError(f"分区 {name} 仍在数据库中，无需恢复")
        _add_partitions(cursor, scheme, [part])
        try:
            with gzip.open(path, "rb") as source:
                cursor.copy_expert(f"COPY {name} FROM STDIN WITH (FORMAT csv, HEADER)", source)
        except (OSError, EOFError, zlib.error, psycopg2.Error) as exc:
            # Not gzip, cut short, or rows that are not the partition's: nothing was restored.
            raise ValueError(f"{path.name} 无法读取：{exc}") from exc
        cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 - our own table name
        return cursor.fetchone()[0]


def _regclass(cursor, name: str) -> str | None:
    cursor.execute("SELECT to_regclass(%s)::text", [name])
    return cursor.fetchone()[0]
