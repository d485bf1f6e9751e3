"""Issue 19 §5: the bulk sync stream of every student of the province, as ``sheng_dudao``.

GET /api/v1/sync/students.ndjson read to its end through Django's test client (the same view,
middleware and streaming as behind gunicorn; no socket), in rows per second, beside
PostgreSQL's own ``COPY (…) TO STDOUT`` of the same rows: the stream's scoped query of the
students, and of their guardians, written to nowhere (target ≥ 30,000 rows/s).

The process's CPU time is printed too: on a shared machine the wall time counts the others'
work. One more read of a few thousand rows with ``limit`` and one resumed ``after`` its cursor checks
that the two parts join (not timed)."""

import json
import time

from .common import record

TARGET_ROWS_PER_S = 30_000.0
USER = "sheng_dudao"
URL = "/api/v1/sync/students.ndjson"


class _Sink:
    """A file that COPY writes to and that keeps only the count of lines."""

    def __init__(self):
        self.lines = 0

    def write(self, data):
        self.lines += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")
        return len(data)


def _client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def _stream(client, **params) -> tuple[int, dict, int]:
    """Read one stream to its end: its records, its end line and its bytes."""
    response = client.get(URL, params)
    assert response.status_code == 200, response.content[:300]
    rows, size, tail = 0, 0, b""
    for piece in response.streaming_content:
        size += len(piece)
        rows += piece.count(b"\n")
        tail = (tail + piece)[-400:]
    end = json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
    return rows - 1, end, size


def _copy_seconds(user) -> tuple[float, int]:
    """COPY of the stream's own queries (students in the cursor's order, their guardians)."""
    from django.db import connection

    from students.api.sync import StudentSync
    from students.models import Guardian

    view = StudentSync()
    view.request = type("Request", (), {"user": user})()
    students = view.get_queryset().order_by("updated_at", "pk")
    guardians = Guardian.objects.filter(student__in=students.values("pk")).order_by("pk")
    sink, started = _Sink(), time.perf_counter()
    with connection.cursor() as cursor:
        for queryset in (students.prefetch_related(None), guardians):
            sql, params = queryset.query.sql_with_params()
            statement = cursor.mogrify(sql, params).decode()
            cursor.copy_expert(f"COPY ({statement}) TO STDOUT", sink)
        rows = students.count()
    return time.perf_counter() - started, rows


def run() -> None:
    from django.db import connection

    from accounts.models import User

    if connection.vendor != "postgresql":
        print("sync: skipped (COPY needs PostgreSQL)")
        return
    user = User.objects.get(username=USER)
    client = _client(user)
    _stream(client, limit=1000)  # warm-up: connection, first queries
    started, cpu = time.perf_counter(), time.process_time()
    rows, end, size = _stream(client)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert end["end"] and end["rows"] == rows, end
    copy_seconds, copied = _copy_seconds(user)
    assert copied == rows, (copied, rows)
    print(
        f"sync: {rows:,} students, {size / 1e6:.0f} MB of NDJSON in {seconds:.1f} s "
        f"({cpu:.1f} s of this process's CPU: {rows / cpu:,.0f} rows per CPU second); "
        f"COPY of the same rows and their guardians {copy_seconds:.1f} s",
        flush=True,
    )
    record(
        f"GET {URL} as province ({rows:,} rows)",
        rows / seconds,
        rows / copy_seconds,
        "r/s",
        target=f"≥ {TARGET_ROWS_PER_S:,.0f} rows/s",
        met=rows / seconds >= TARGET_ROWS_PER_S,
    )
    # The two parts of a resumed read are the whole (not timed).
    part = min(5000, rows // 2)
    first, first_end, _ = _stream(client, limit=part)
    rest, _, _ = _stream(client, after=first_end["next"])
    assert first + rest == rows, (first, rest, rows)
