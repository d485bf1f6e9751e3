"""The home page at province scale (issue 11): GET / as county staff, a city and the province
supervisor, whose to-do list counts every kind of waiting work, per county above the county.

Measured on two school days: the last day of the generated attendance (every class has its
roll) and the next school day (no roll yet: every class is missing, the morning's worst case).
The baseline is the SQL floor of the same counts, hand-written: the entries per county and
state, the schools with a class owing the day's roll per county, and the latest 人账相符 run
per county, three queries (target p95 < 200 ms).
"""

import datetime
from unittest import mock

from .common import record_percentiles, timed

TARGET_MS = 200
USERS = ("xian_staff", "shi_dudao", "sheng_dudao")

_BASELINE_SQL = (
    """
    SELECT t.parent_id, e.state, count(*) FROM ledger_ledgerentry e
    JOIN accounts_region t ON t.id = e.township_id
    WHERE t.code LIKE %(prefix)s GROUP BY 1, 2
    """,
    """
    SELECT t.parent_id, count(DISTINCT c.school_id) FROM accounts_schoolclass c
    JOIN accounts_school s ON s.id = c.school_id
    JOIN accounts_region t ON t.id = s.township_id
    WHERE t.code LIKE %(prefix)s
      AND EXISTS (SELECT 1 FROM students_student st WHERE st.klass_id = c.id
                  AND st.status IN ('enrolled', 'home_taught'))
      AND NOT EXISTS (SELECT 1 FROM students_rollcall r WHERE r.klass_id = c.id
                      AND r.date = %(day)s)
    GROUP BY 1
    """,
    """
    SELECT DISTINCT ON (r.county_id) r.county_id, r.problem_count FROM ledger_consistencyrun r
    JOIN accounts_region c ON c.id = r.county_id
    WHERE c.code LIKE %(prefix)s ORDER BY r.county_id, r.ran_at DESC, r.id DESC
    """,
)


def _baseline(prefix: str, day: datetime.date) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in _BASELINE_SQL:
            cursor.execute(sql, {"prefix": f"{prefix}%", "day": day})
            cursor.fetchall()


def _days() -> tuple[datetime.date, datetime.date]:
    """The last day with rolls, and the next school day after it."""
    from accounts.choices import RegionLevel
    from accounts.models import Region
    from attendance.models import RollCall
    from students import calendar

    county = Region.objects.filter(level=RegionLevel.COUNTY).order_by("id").first()
    cal = calendar.county_calendar(county)
    last = RollCall.objects.order_by("-date").values_list("date", flat=True).first()
    if last is None:
        last = cal.previous_school_days(datetime.date.today(), 1)[0]
    following = cal.school_days(last + datetime.timedelta(days=1), last + datetime.timedelta(30))
    return last, following[0]


def run(requests: int) -> None:
    from django.test import Client

    from accounts.models import User

    requests = min(requests, 60)
    for day, when in zip(_days(), ("rolls taken", "no roll yet"), strict=True):
        for username in USERS:
            user = User.objects.select_related("region").get(username=username)
            client = Client()
            client.force_login(user)
            prefix = user.region.code[: {1: 2, 2: 4}.get(user.region.level, 6)]

            def page(client=client):
                response = client.get("/")
                assert response.status_code == 200, response.status_code

            with mock.patch("django.utils.timezone.localdate", return_value=day):
                page()  # warm the caches a first request fills
                ours = timed(page, requests)
            baseline = timed(lambda prefix=prefix, day=day: _baseline(prefix, day), requests)
            record_percentiles(f"GET / as {username} ({when})", ours, baseline, TARGET_MS)
