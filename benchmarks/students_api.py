"""Issue 3: the student list filtered by school, one page of 50, at province scale.

Baseline: the same page by one plain SQL query on the same connection."""

from .common import record_percentiles, timed

TARGET_MS = 100.0


def _schools(user) -> list[int]:
    from accounts.models import School

    return list(School.objects.for_user(user).order_by("id").values_list("id", flat=True))


def run(requests: int) -> None:
    from django.db import connection

    from accounts.models import User
    from students.models import Student

    columns = ", ".join(connection.ops.quote_name(f.column) for f in Student._meta.concrete_fields)
    plain_sql = (
        f"SELECT {columns} FROM {Student._meta.db_table} WHERE school_id = %s ORDER BY id LIMIT 50"  # noqa: S608
    )
    for username, role in (("xian_admin", "county admin"), ("xz1_xx1_guanli", "school staff")):
        _measure(User.objects.get(username=username), role, plain_sql, requests)


def _measure(user, role: str, plain_sql: str, requests: int) -> None:
    from django.db import connection
    from rest_framework.test import APIClient

    schools = _schools(user)
    client = APIClient()
    client.force_authenticate(user)
    turn = [0]

    def next_school() -> int:
        turn[0] += 1
        return schools[turn[0] % len(schools)]

    def api_page():
        school = next_school()
        response = client.get("/api/v1/students/", {"school": school, "page_size": 50})
        assert response.status_code == 200, response.content[:300]
        assert response.json()["results"], f"school {school} has no students"

    def plain_page():
        with connection.cursor() as cursor:
            cursor.execute(plain_sql, [next_school()])
            cursor.fetchall()

    timed(api_page, 5)  # warm-up: connection, first queries
    turn[0] = 0
    ours = timed(api_page, requests)
    turn[0] = 0  # the same schools in the same order
    baseline = timed(plain_page, requests)
    name = f"GET /api/v1/students/?school= as {role} ({len(schools)} schools)"
    record_percentiles(name, ours, baseline, TARGET_MS)


def explain(username: str = "xian_admin") -> str:
    """The plan of the API's page query, for finding why it is slow."""
    from django.db import connection

    from accounts.models import User
    from students.models import Student

    user = User.objects.get(username=username)
    school = _schools(user)[0]
    queryset = (
        Student.objects.for_user(user)
        .select_related("school", "hukou_region")
        .filter(school_id=school)
        .order_by("id")[:51]
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        cursor.execute(prefix + sql, params)
        plan = "\n".join(str(row[0] if len(row) == 1 else row) for row in cursor.fetchall())
    return plan
