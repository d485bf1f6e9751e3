"""The 劝返 case export (issue 12): the list's filtered cases as XLSX, ID numbers masked, every
export in the audit trail, and a value that looks like a formula written as text. Read back
with openpyxl."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent
from ledger.models import LedgerEntry
from returns.choices import Department, Method, Step
from returns.exports import HEADINGS
from tests import export_jobs
from tests.ledger.conftest import head_class, make_student, township
from tests.returns.conftest import COUNTY_USER, OFFICIAL, open_case, visit, working
from tests.returns.test_list import overdue

pytestmark = pytest.mark.django_db


def sheet(world, username, **params):
    job, content = export_jobs.export(world.client(username), "/returns/export/", params)
    assert job.kind == JobKind.RETURN_CASE_EXPORT
    assert job.result_name.startswith("returns-") and job.result_name.endswith(".xlsx")
    return load_workbook(io.BytesIO(content)).active


def rows(world, username, **params) -> list[dict]:
    values = list(sheet(world, username, **params).iter_rows(values_only=True))
    assert values[0] == tuple(HEADINGS)
    return [dict(zip(HEADINGS, row, strict=True)) for row in values[1:]]


def test_export_is_the_filtered_list_with_masked_ids_and_an_audit_line(world, child):
    late = overdue(world, child)
    other = open_case(world, make_student(world, grade=1, name="钱二", klass=head_class(world)))
    found = rows(world, COUNTY_USER)
    assert [row["姓名"] for row in found] == [late.entry.name, other.entry.name]  # overdue first
    first = found[0]
    assert first["身份证号"] == late.entry.masked_id_number
    assert late.entry.id_number not in [row["身份证号"] for row in found]
    assert first["责任乡镇"] == township(world).name and first["状态"] == "劝返中"
    assert first["劝返步骤"] == Step.ORDER.label and first["是否逾期"] == "是"
    assert found[1]["状态"] == "待签收" and found[1]["是否逾期"] == "否"
    assert AuditEvent.objects.filter(action="export", detail="导出劝返案件，共2行").exists()
    only = rows(world, COUNTY_USER, overdue="1")
    assert [row["姓名"] for row in only] == [late.entry.name]


def test_export_of_my_cases_follows_the_list_default_and_is_logged_as_such(world, child):
    case = working(world, child)
    assert [row["姓名"] for row in rows(world, OFFICIAL)] == [case.entry.name]
    assert AuditEvent.objects.filter(action="export", detail="导出我的劝返案件，共1行").exists()
    assert rows(world, "c2_xian_staff") == []  # another county exports nothing of it


def test_export_writes_a_name_that_looks_like_a_formula_as_text(world, child):
    case = working(world, child)
    LedgerEntry.objects.filter(pk=case.entry_id).update(name="=HYPERLINK(1)")
    cells = [c for c in sheet(world, COUNTY_USER)["B"] if c.value == "=HYPERLINK(1)"]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_export_counts_the_actions_and_the_joint_persuasions(world, child):
    case = working(world, child)
    visit(world, case)
    visit(world, case, method=Method.JOINT, departments=[Department.POLICE])
    (row,) = rows(world, COUNTY_USER)
    assert row["劝返次数"] == 2 and row["联合劝返次数"] == 1
    assert row["最近劝返日期"] is not None and row["签收日期"] is not None


def test_export_queries_do_not_grow_with_rows(world):
    client = world.client(COUNTY_USER)
    klass = head_class(world)

    def queries() -> int:
        # The export's queries are the job's: counted while it runs.
        job = export_jobs.start(client, "/returns/export/")
        with CaptureQueriesContext(connection) as captured:
            assert export_jobs.run(job).status == JobStatus.DONE
        return len(captured)

    working(world, make_student(world, grade=1, klass=klass, name="甲"))
    few = queries()
    for name in "乙丙丁":
        visit(world, working(world, make_student(world, grade=1, klass=klass, name=name)))
    assert queries() == few


def test_export_is_a_job_only_its_requester_downloads_with_the_row_count_logged(world, child):
    """Exports are jobs (issue 15 §6): the page answers with the job's page, the file is the
    requester's alone, and the audit line carries the row count."""
    case = working(world, child)
    client = world.client(COUNTY_USER)
    job, content = export_jobs.export(client, "/returns/export/", {"overdue": "0"})
    assert job.requested_by.username == COUNTY_USER and (job.done, job.total) == (1, 1)
    assert job.message == "已导出 1 个劝返案件。"
    (row,) = [dict(zip(HEADINGS, r, strict=True)) for r in export_jobs.rows(content)[1:]]
    assert row["姓名"] == case.entry.name and row["身份证号"] == case.entry.masked_id_number
    assert AuditEvent.objects.filter(action="export", detail="导出劝返案件，共1行").exists()
    export_jobs.refused_to_others(job, world.client(OFFICIAL), world.client("c2_xian_staff"))
    assert client.get("/returns/export/").status_code == 405


def test_export_keeps_the_list_filters_and_reads_them_again_when_it_runs(world, child):
    case = working(world, child)
    client = world.client(COUNTY_USER)
    job = export_jobs.start(client, "/returns/export/", {"q": case.entry.name, "mine": "0"})
    assert job.params["filters"]["query"] == case.entry.name
    assert job.params["filters"]["mine"] is False
    LedgerEntry.objects.filter(pk=case.entry_id).update(name="改名后")
    job = export_jobs.run(job)
    assert export_jobs.rows(export_jobs.download(client, job))[1:] == []
