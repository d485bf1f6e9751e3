"""Issue 3: a 200,000-row roster exported by a county account, in a child process each, so
that peak memory is the export's own.

Baseline: XlsxWriter in constant-memory mode writing the same rows, computed beforehand and
read back from a pickle stream, in a child process too. Data: the demo county of
``c2_xian_admin`` is topped up to the row count by copying its students in SQL (new ID
numbers, same schools, classes and guardians).
"""

import os
import pickle
import tempfile
import time
from pathlib import Path

from .common import progress, record, run_child

USERNAME = "c2_xian_admin"
TARGET_MB = 300.0
TARGET_RATIO = 1.5
ROOT = Path(__file__).resolve().parent.parent


def _county_students(user):
    from students.models import Student

    return Student.objects.for_user(user)


def top_up(user, rows: int) -> int:
    """Copy the county's students until it has ``rows``; returns the count."""
    from django.db import connection, transaction

    from students.models import Guardian, Student

    count = _county_students(user).count()
    table, quote = Student._meta.db_table, connection.ops.quote_name
    columns = [
        f.column
        for f in Student._meta.concrete_fields
        if f.column not in ("id", "id_number", "id_hash", "id_masked", "student_number")
    ]
    listed = ", ".join(quote(c) for c in columns)
    while count < rows:
        ids = list(
            _county_students(user).order_by("id").values_list("id", flat=True)[: rows - count]
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_copy (old_id bigint, new_id bigint)")
            start = 0
            while start < len(ids):
                chunk = ids[start : start + 5000]
                start += len(chunk)
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "INSERT INTO bench_copy SELECT unnest(%s::bigint[]), "
                        f"nextval(pg_get_serial_sequence('{table}', 'id'))",
                        [chunk],
                    )
                else:
                    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM " + table)  # noqa: S608
                    top = max(cursor.fetchone()[0], *(ids[-1:] or [0]))
                    cursor.execute("SELECT COALESCE(MAX(new_id), 0) FROM bench_copy")
                    top = max(top, cursor.fetchone()[0])
                    cursor.executemany(
                        "INSERT INTO bench_copy VALUES (%s, %s)",
                        [(old, top + i) for i, old in enumerate(chunk, start=1)],
                    )
            cursor.execute(
                f"INSERT INTO {table} (id, id_masked, {listed}) "  # noqa: S608
                "SELECT c.new_id, '', "
                + ", ".join(f"s.{quote(c)}" for c in columns)
                + f" FROM bench_copy c JOIN {table} s ON s.id = c.old_id"
            )
            cursor.execute("SELECT new_id FROM bench_copy")
            _number([new_id for (new_id,) in cursor.fetchall()])
            cursor.execute(
                f"INSERT INTO {Guardian._meta.db_table} (student_id, name, relation, phone) "  # noqa: S608
                f"SELECT c.new_id, g.name, g.relation, g.phone FROM bench_copy c "
                f"JOIN {Guardian._meta.db_table} g ON g.student_id = c.old_id"
            )
            cursor.execute("DROP TABLE bench_copy")
        count = _county_students(user).count()
        progress(f"{USERNAME}'s county now has {count} students")
    return count


def _number(ids: list[int]) -> None:
    """Give the copied students an ID number each, sealed as the application seals one:
    'T' and 17 digits, unique, 18 characters like an ID number and masked the same way."""
    from django.db import connection

    from kongchuo.sealed import rewrite
    from students.models import Student

    wanted = set(ids)
    fields = [Student._meta.get_field(name) for name in ("id_number", "id_hash", "id_masked")]

    def compute(row):
        (pk,) = row
        if pk not in wanted:
            return None
        number = f"T{pk:017d}"
        return tuple(
            field.get_db_prep_value(number, None) if i == 0 else field.derive(number)
            for i, field in enumerate(fields)
        )

    rewrite(connection, Student, ["id"], ["id_number", "id_hash", "id_masked"], compute)


def _child(*args: str) -> dict:
    return run_child("benchmarks.export_child", *args)


def run(rows: int) -> None:
    from accounts.models import User
    from students.exports import roster_rows
    from students.roster import HEADINGS

    user = User.objects.get(username=USERNAME)
    count = top_up(user, rows)
    with tempfile.TemporaryDirectory(prefix="kongchuo-bench-") as folder:
        out = os.path.join(folder, "roster.xlsx")
        ours = _child("write_roster", USERNAME, out)
        assert ours["rows"] == count, (ours, count)
        progress(
            f"write_roster: {ours['rows']} rows, {os.path.getsize(out) / 1e6:.1f} MB, "
            f"{ours['seconds']:.1f} s, peak {ours['peak_mb']:.0f} MB"
        )
        os.unlink(out)
        start = time.perf_counter()
        stream = os.path.join(folder, "rows.pickle")
        with open(stream, "wb") as handle:
            pickle.dump(list(HEADINGS), handle)
            batch = []
            for row in roster_rows(user, {}):
                batch.append(row)
                if len(batch) == 1000:
                    pickle.dump(batch, handle, protocol=pickle.HIGHEST_PROTOCOL)
                    batch = []
            if batch:
                pickle.dump(batch, handle, protocol=pickle.HIGHEST_PROTOCOL)
        progress(f"rows computed for the baseline in {time.perf_counter() - start:.1f} s")
        base = _child("baseline", stream, out)
        assert base["rows"] == count, (base, count)
    name = f"write_roster {count} rows as {USERNAME}"
    record(
        f"{name}: wall time (s)",
        ours["seconds"],
        base["seconds"],
        "s",
        target=f"≤ {TARGET_RATIO}× baseline",
        met=ours["seconds"] <= TARGET_RATIO * base["seconds"],
    )
    record(
        f"{name}: peak memory (MB)",
        ours["peak_mb"],
        base["peak_mb"],
        "MB",
        target=f"< {TARGET_MB:.0f} MB",
        met=ours["peak_mb"] < TARGET_MB,
    )
