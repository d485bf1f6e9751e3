"""The dashboards and the indicators API (issue 14): the page with its definitions, charts'
data and tables, each table's XLSX download read back (and logged), the API with the
dashboard's filters and jurisdiction, bad input, and the vendored ECharts being the pinned
one."""

import hashlib
import json
import re

import pytest
from django.conf import settings

from accounts.choices import AuditAction, JobKind
from accounts.models import AuditEvent, Job
from tests import export_jobs
from tests.reports.test_indicators import Y, figures  # noqa: F401 - the shared fixture

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ECHARTS = settings.BASE_DIR / "static" / "vendor" / "echarts"
URL = "/reports/dashboard/"
API = "/api/v1/indicators/"


def _embedded(response) -> dict:
    html = response.content.decode()
    found = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_vendored_echarts_is_the_pinned_version():
    readme = (ECHARTS / "README.md").read_text()
    version = re.search(r"\*\*echarts (\d+\.\d+\.\d+)\*\*", readme).group(1)
    recorded = re.search(r"`echarts\.min\.js` \| .*? \| `([0-9a-f]{64})`", readme).group(1)
    content = (ECHARTS / "echarts.min.js").read_bytes()
    assert hashlib.sha256(content).hexdigest() == recorded
    assert f'version:"{version}"'.encode() in content
    assert (ECHARTS / "LICENSE").read_text().lstrip().startswith("Apache License")


def test_county_dashboard_shows_the_figures_definitions_and_tables(world, figures):  # noqa: F811
    response = world.client("xian_staff").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "18.75%" in html and "3 ÷ 16" in html
    assert "学年内辍学学生总数 ÷ 上学年初在校学生数" in html
    assert "目标 98.5%（003 南涧县 2024 年目标）" in html and "目标 99.5%" in html
    assert "尚未上传公安户籍适龄人口名单" in html
    assert 'data-chart="by_month"' in html
    # No inline script: every <script> loads a file, but the figures' JSON (json_script).
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag or tag == '<script id="dashboard-data" type="application/json">'
    data = _embedded(response)
    assert data["dropout_rate"]["percent"] == 18.75
    assert sum(row["count"] for row in data["counts"]["by_month"]) == 3
    assert data["ranking"]["rows"][0]["code"] == figures["township1"].prefix


def test_a_township_sees_its_own_rank_and_not_another_township(world, figures):  # noqa: F811
    client = world.client("xz2_ganbu")
    own = client.get(URL)
    assert "排第 2 名（共 2 个）" in own.content.decode()
    other = client.get(URL, {"area": figures["township1"].code})
    assert other.status_code == 404
    api = world.client("xz2_ganbu").get(API, {"area": figures["township1"].code})
    assert api.status_code == 404
    assert "20.0" not in api.content.decode()


def test_bad_filters_get_a_chinese_message_naming_the_field(world, figures):  # noqa: F811
    client = world.client("xian_staff")
    page = client.get(URL, {"school_year": Y + 1})
    assert page.status_code == 400 and "学年应在" in page.content.decode()
    page = client.get(URL, {"term": "autumn", "month": 10})
    assert page.status_code == 400 and "只能选择其中一个" in page.content.decode()
    api = client.get(API, {"month": 13})
    assert api.status_code == 400 and "month" in api.json()["errors"]
    api = client.get(API, {"school_year": Y + 1})
    assert api.status_code == 400 and "school_year" in api.json()["errors"]


@pytest.mark.parametrize("table", ["rates", "by_month", "by_reason", "ranking", "school_ranking"])
def test_each_table_downloads_as_xlsx_through_a_job_and_is_logged(world, figures, table):  # noqa: F811
    """Exports are jobs (issue 15 §6): the page's download form queues the table with the
    dashboard's filters; the file is the requester's alone, the audit line has its rows."""
    client = world.client("xian_staff")
    job, content = export_jobs.export(client, f"{URL}download/", {"table": table, "month": 11})
    assert job.kind == JobKind.INDICATOR_EXPORT and job.params["filters"]["month"] == "11"
    assert job.result_name.startswith("indicators-") and job.result_name.endswith(".xlsx")
    rows = [list(row) for row in export_jobs.rows(content)]
    if table == "by_month":
        assert rows[0] == ["月份辍学人数", "辍学人数"] and rows[1:] == [[f"{Y}年11月", 2]]
    elif table == "rates":
        assert rows[1][:4] == ["辍学率", 2, 16, "12.5%"]
    elif table == "ranking":
        # November: township 2 has 1 of 6 (16.67%), township 1 has 1 of 10.
        assert rows[1] == [1, figures["township2"].prefix, figures["township2"].name, 1, 6, 16.67]
        assert rows[2][1:] == [figures["township1"].prefix, figures["township1"].name, 1, 10, 10.0]
    elif table == "by_reason":
        assert dict(rows[1:])["外出务工"] == 1
    else:
        assert [row[1] for row in rows[1:3]] == [figures["b1"].code, figures["a1"].code]
    logged = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert logged.actor.username == "xian_staff"
    assert logged.detail.endswith(f"共{len(rows) - 1}行")
    export_jobs.refused_to_others(job, world.client("xian_admin"), world.client("shi_dudao"))


def test_the_dashboard_offers_its_downloads_as_forms_with_its_filters(world, figures):  # noqa: F811
    page = world.client("xian_staff").get(URL, {"month": 11}).content.decode()
    assert 'data-testid="download-rates"' in page and 'method="post"' in page
    assert '<input type="hidden" name="month" value="11">' in page
    assert world.client("xian_staff").get(f"{URL}download/", {"table": "rates"}).status_code == 405


def test_a_download_with_a_wrong_filter_starts_no_job(world, figures):  # noqa: F811
    client = world.client("xian_staff")
    response = client.post(f"{URL}download/", {"table": "rates", "month": 13})
    assert response.status_code == 400 and not Job.objects.exists()
    foreign = client.post(f"{URL}download/", {"table": "rates", "area": figures["other"].code})
    assert foreign.status_code == 404 and not Job.objects.exists()


def test_api_answers_the_dashboards_figures(world, figures):  # noqa: F811
    client = world.client("xian_staff")
    body = client.get(API, {"school_year": Y, "area": figures["township1"].code}).json()
    assert body["place"]["code"] == figures["township1"].code
    assert body["dropout_rate"]["numerator"] == 2 and body["dropout_rate"]["percent"] == 20.0
    assert body["own_rank"] == {"rank": 1, "of": 2, "among": body["own_rank"]["among"]}
    assert body["consolidation_rate"]["percent"] is None
    assert [t["percent"] for t in body["consolidation_rate"]["targets"]] == [95.0, 98.5, 100.0]
    school = client.get(API, {"school": figures["b1"].code, "term": "autumn"}).json()
    assert school["dropout_rate"]["numerator"] == 1 and school["dropout_rate"]["denominator"] == 6


def test_city_and_province_dashboards(world, figures):  # noqa: F811
    for username in ("shi_dudao", "sheng_dudao"):
        response = world.client(username).get(URL)
        assert response.status_code == 200
        assert _embedded(response)["ranking"]["rows"]
    province = _embedded(world.client("sheng_dudao").get(URL))
    assert province["enrolment_rate"]["percent"] == 75.0
    # The province ranks its counties too (001): county A (3 of 16) above county B (none).
    counties = [(row["code"], row["dropouts"]) for row in province["county_ranking"]]
    assert counties == [(figures["county"].code, 3), (figures["other"].code, 0)]
    county = _embedded(world.client("xian_staff").get(URL))
    assert county["county_ranking"] == [] and county["own_rank"]["of"] == 1


def test_a_school_sees_its_own_figures(world, figures):  # noqa: F811
    response = world.client("xz1_xx1_xiaozhang").get(URL)
    assert response.status_code == 200
    data = _embedded(response)
    assert data["place"]["code"] == figures["a1"].code
    assert data["dropout_rate"]["numerator"] == 2


def test_an_unknown_table_is_a_404(world, figures):  # noqa: F811
    response = world.client("xian_staff").post(f"{URL}download/", {"table": "salaries"})
    assert response.status_code == 404 and not Job.objects.exists()
