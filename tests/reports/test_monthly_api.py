"""The 月报表 API (/api/v1/reports/monthly/): the pages' services and jurisdiction — list,
detail, open, draft, sign, correct, XLSX — with the same refusals in Chinese (400/403/404)."""

import io

import openpyxl
import pytest
from django.utils import timezone

from accounts import jobs
from accounts.choices import AuditAction
from accounts.models import AuditEvent
from kongchuo.masking import mask_id_number
from ledger.choices import State
from reports.models import MonthlyReport, ReportVersion
from reports.monthly_xlsx import HEADINGS
from tests.ledger.conftest import entry_in, make_student

STAFF = "xz1_xx1_guanli"
PRINCIPAL = "xz1_xx1_xiaozhang"
URL = "/api/v1/reports/monthly/"


@pytest.fixture
def opened(world):
    entry = entry_in(world, State.CONFIRMED, make_student(world, name="张一"))
    today = timezone.localdate()
    client = world.token_client(STAFF)
    response = client.post(
        URL,
        {"school": world.user(STAFF).school_id, "year": today.year, "month": today.month},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json(), entry


def test_api_opens_lists_and_details_the_report_with_masked_ids(world, opened):
    report, entry = opened
    rows = report["versions"][0]["rows"]
    assert [row["name"] for row in rows] == ["张一"]
    assert rows[0]["id_number"] == mask_id_number(entry.id_number)
    listed = world.token_client("xian_staff").get(URL).json()["results"]
    assert [item["id"] for item in listed] == [report["id"]] and listed[0]["signed"] is False
    assert world.token_client("c2_xian_staff").get(f"{URL}{report['id']}/").status_code == 404
    revealed = world.token_client(PRINCIPAL).get(f"{URL}{report['id']}/?reveal=1").json()
    assert revealed["versions"][0]["rows"][0]["id_number"] == entry.id_number
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()
    # The detail reveals every version: the audit row names the report, not one version.
    revealed_row = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert revealed_row.object_type == "reports.MonthlyReport"
    assert revealed_row.object_id == str(report["id"])
    assert revealed_row.detail == "查看月报表全部版本的完整身份证号"
    refused = world.token_client("xz1_ganbu").get(f"{URL}{report['id']}/?reveal=1")
    assert refused.status_code == 400 and "无权查看完整身份证号" in refused.json()["detail"]


def test_api_draft_sign_and_correct_with_the_services_refusals(world, opened):
    report, _ = opened
    pk = report["id"]
    staff, principal = world.token_client(STAFF), world.token_client(PRINCIPAL)
    row = report["versions"][0]["rows"][0]["id"]
    too_long = staff.post(
        f"{URL}{pk}/draft/",
        {"filled_by": "王老师", "phone": "", "measures": [{"row": row, "measures": "家" * 501}]},
        format="json",
    )
    assert too_long.status_code == 400 and f"measures_{row}" in too_long.json()["errors"]
    assert "第1行（张一）" in too_long.json()["detail"]
    saved = staff.post(
        f"{URL}{pk}/draft/",
        {
            "filled_by": "王老师",
            "phone": "0872-1",
            "measures": [{"row": row, "measures": "已家访"}],
        },
        format="json",
    )
    assert saved.json()["versions"][0]["rows"][0]["measures"] == "已家访"
    refused = staff.post(f"{URL}{pk}/sign/")
    assert refused.status_code == 403 and "校长" in refused.json()["detail"]
    assert not ReportVersion.objects.filter(signed_at__isnull=False).exists()
    done = principal.post(f"{URL}{pk}/sign/").json()
    assert done["signed"] is True and done["versions"][0]["signed_by_name"]
    again = staff.post(f"{URL}{pk}/draft/", {"filled_by": "x", "phone": ""}, format="json")
    assert again.status_code == 400 and "已由校长签发" in again.json()["detail"]
    no_reason = staff.post(f"{URL}{pk}/correct/", {"correction_reason": ""}, format="json")
    assert no_reason.status_code == 400 and "更正原因" in no_reason.json()["detail"]
    corrected = staff.post(f"{URL}{pk}/correct/", {"correction_reason": "漏报"}, format="json")
    assert [v["number"] for v in corrected.json()["versions"]] == [2, 1]
    assert MonthlyReport.objects.get(pk=pk).versions.count() == 2


def test_api_xlsx_of_a_version(world, opened):
    report, entry = opened
    client = world.token_client("xian_staff")
    response = client.get(f"{URL}{report['id']}/xlsx/?version=1")
    # Issue 15 §6: a job of the caller's, polled at its address, then downloaded.
    assert response.status_code == 202
    job = response.json()
    assert response["Location"].endswith(f"/api/v1/jobs/{job['id']}/")
    assert (job["kind"], job["status"], job["download"]) == ("report_version", "queued", None)
    jobs.job_run(job["id"])
    done = client.get(f"/api/v1/jobs/{job['id']}/").json()
    assert done["status"] == "done" and done["percent"] == 100
    assert done["download"].endswith(f"/api/v1/jobs/{job['id']}/download/")
    for other in ("xian_admin", "xz1_xx1_xiaozhang"):
        stranger = world.token_client(other)
        assert stranger.get(f"/api/v1/jobs/{job['id']}/").status_code == 404
        assert stranger.get(f"/api/v1/jobs/{job['id']}/download/").status_code == 404
        assert job["id"] not in [j["id"] for j in stranger.get("/api/v1/jobs/").json()["results"]]
    file = client.get(done["download"])
    content = b"".join(file.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert tuple(sheet.cell(3, c).value for c in range(1, 11)) == HEADINGS
    assert sheet["C4"].value == "张一" and sheet["G4"].value == mask_id_number(entry.id_number)
    missing = client.get(f"{URL}{report['id']}/xlsx/?version=9")
    assert missing.status_code == 400 and "没有第9版" in missing.json()["detail"]


def test_api_refuses_a_future_month(world):
    today = timezone.localdate()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    response = world.token_client(STAFF).post(
        URL, {"school": world.user(STAFF).school_id, "year": year, "month": month}, format="json"
    )
    assert response.status_code == 400 and "尚未到填报时间" in response.json()["detail"]
    assert not MonthlyReport.objects.exists()
