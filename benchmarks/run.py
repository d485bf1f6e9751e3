"""Benchmarks, run by `make bench`. Each prints its figures beside a plain baseline measured
in the same run, as a ratio.

Data is generated at county and province scale into a database of its own: with
``BENCH_DATABASE_URL`` (PostgreSQL recommended, the database is dropped and re-created) or a
fresh SQLite file under data/. ``BENCH_COUNTIES`` sets the province size (default 129, all of Yunnan).
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url is None:
        path = ROOT / "data" / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg2
        from psycopg2 import sql

        base, _, name = url.rpartition("/")
        conn = psycopg2.connect(base + "/postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
    return url


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def report(name: str, samples: list[float], baseline: list[float]) -> None:
    ours, base = p95(samples), p95(baseline)
    print(
        f"{name:<46} p95 {ours:8.2f} ms   baseline p95 {base:8.2f} ms   ratio {ours / base:5.2f}×"
    )


def bench_scoped_lists(counties: int) -> None:
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from accounts.api.serializers import SchoolClassSerializer
    from accounts.models import SchoolClass, User

    start = time.perf_counter()
    call_command(
        "seed_demo", counties=counties, townships=10, schools=12, classes_per_grade=2, verbosity=0
    )
    print(
        f"generated {counties} counties, {SchoolClass.objects.count()} classes, "
        f"{User.objects.count()} accounts in {time.perf_counter() - start:.1f} s"
    )

    def plain_page():
        # Baseline: the same page size, unscoped, serialised the same way.
        rows = list(SchoolClass.objects.order_by("id")[:50])
        SchoolClassSerializer(rows, many=True).data  # noqa: B018 — evaluating is the work

    baseline = timed(plain_page, 200)
    for username in (
        "sheng_dudao",
        "xian_admin",
        "xz1_ganbu",
        "xz1_xx1_xiaozhang",
        "xz1_xx1_banzhuren",
    ):
        client = APIClient()
        client.force_authenticate(User.objects.get(username=username))

        def scoped_page(client=client):
            response = client.get("/api/v1/classes/", {"page_size": 50})
            assert response.status_code == 200

        report(f"GET /api/v1/classes/ as {username}", timed(scoped_page, 200), baseline)


def main() -> None:
    os.environ["DATABASE_URL"] = prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kongchuo.settings.test")
    os.environ["ALLOWED_HOSTS"] = "testserver"  # DRF's in-process client
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    bench_scoped_lists(int(os.environ.get("BENCH_COUNTIES", "129")))


if __name__ == "__main__":
    main()
