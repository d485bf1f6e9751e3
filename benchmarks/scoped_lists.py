"""The jurisdiction-scoped class list: one page as each role, beside the same page unscoped."""

from .common import p95, record, timed


def run(requests: int) -> None:
    from rest_framework.test import APIClient

    from accounts.api.serializers import SchoolClassSerializer
    from accounts.models import SchoolClass, User

    def plain_page():
        # Baseline: the same page size, unscoped, serialised the same way.
        rows = list(SchoolClass.objects.order_by("id")[:50])
        SchoolClassSerializer(rows, many=True).data  # noqa: B018 — evaluating is the work

    baseline = p95(timed(plain_page, requests))
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

        record(
            f"GET /api/v1/classes/ p95 as {username}",
            p95(timed(scoped_page, requests)),
            baseline,
            "ms",
        )
