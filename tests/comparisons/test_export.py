"""The mismatch export (issue 13, Interfaces: "XLSX export of mismatches (masked, logged)"):
what the list shows, read back from the real file, with ID numbers masked, text never a
formula, and every export in the audit trail."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.choices import JobKind
from accounts.models import AuditEvent
from comparisons import services
from comparisons.exports import HEADINGS
from tests import export_jobs
from tests.comparisons.results import COUNTY_B, first_school, make_mismatch, make_run, make_source

pytestmark = pytest.mark.django_db

EXPORT = "/comparisons/mismatches/export/"


def export(client, data=None):
    """Start the export job from the page, run it and download its file as the requester."""
    job, content = export_jobs.export(client, EXPORT, data)
    assert job.kind == JobKind.MISMATCH_EXPORT and job.result_name.startswith("comparisons-")
    return job, content


def rows(client, data=None) -> list[list]:
    return [list(row) for row in export_jobs.rows(export(client, data)[1])]


def test_the_export_is_the_filtered_list_masked_and_logged(world):
    run = make_run(make_source())
    weak = make_mismatch(run, key="w", strength="weak")
    plain = make_mismatch(run, key="p", name="赵小刚")
    services.explain(by=world.user("xian_staff"), mismatch=plain, note="已核实在外省就读")
    client = world.client("xian_staff")
    job, content = export(client)
    table = [list(row) for row in export_jobs.rows(content)]
    assert table[0] == HEADINGS and len(table) == 3
    assert job.message == "已导出 2 条比对不一致。" and (job.done, job.total) == (2, 2)
    by_name = {row[HEADINGS.index("姓名")]: row for row in table[1:]}
    exported = by_name["赵小刚"]
    assert exported[HEADINGS.index("身份证号")] == plain.masked_id_number
    assert plain.id_number not in str(table)
    assert exported[HEADINGS.index("处理情况")] == "已说明情况"
    assert exported[HEADINGS.index("处理说明")] == "已核实在外省就读"
    assert exported[HEADINGS.index("详情")] == "名单：户籍在本乡镇；系统：无学籍"
    assert by_name[weak.name][HEADINGS.index("处理情况")] == "待处理"
    audit = AuditEvent.objects.get(action="export")
    assert audit.detail == "导出比对不一致，共2行"
    # Exports are jobs (issue 15 §6): the file is the requester's alone.
    export_jobs.refused_to_others(job, world.client("xian_admin"), world.client("xz1_ganbu"))
    assert client.get(EXPORT).status_code == 405

    table = rows(client, {"handled": "0"})
    assert [row[HEADINGS.index("姓名")] for row in table[1:]] == [weak.name]


def test_the_export_holds_the_users_area_only_and_no_formula(world):
    """Rule 6, and formula safety: a name from a list that starts with = stays text."""
    run = make_run(make_source())
    make_mismatch(run, key="school", school=first_school(), township=None, name="=HYPERLINK(1)")
    make_mismatch(run, key="township")
    make_mismatch(make_run(make_source(COUNTY_B)), key="b")
    _, content = export(world.client("xz1_xx1_guanli"))
    assert len(export_jobs.rows(content)) == 2
    sheet = load_workbook(io.BytesIO(content)).active
    cell = sheet.cell(row=2, column=HEADINGS.index("姓名") + 1)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
    [_, theirs] = rows(world.client("c2_xian_staff"))
    assert theirs[HEADINGS.index("身份证号")].startswith(COUNTY_B)


def test_the_export_job_keeps_the_list_filters_and_reads_again_when_it_runs(world):
    """The page stores the list's filters; the job reads the mismatches as the requester
    when it runs, so one handled meanwhile leaves a 待处理 export."""
    run = make_run(make_source())
    mismatch = make_mismatch(run, key="p", name="赵小刚")
    client = world.client("xian_staff")
    job = export_jobs.start(client, EXPORT, {"handled": "0", "q": "赵"})
    assert job.params["filters"]["handled"] is False and job.params["filters"]["query"] == "赵"
    services.explain(by=world.user("xian_staff"), mismatch=mismatch, note="已核实")
    job = export_jobs.run(job)
    assert export_jobs.rows(export_jobs.download(client, job))[1:] == []
    assert AuditEvent.objects.get(action="export").detail == "导出比对不一致，共0行"


def test_the_export_job_queries_do_not_grow_with_its_rows(world):
    """The XLSX of the mismatch list, read back: one query count for the job however many
    rows (moved here from tests/test_list_queries.py when the export became a job)."""
    client = world.client("xian_staff")
    run = make_run(make_source())

    def queries() -> tuple[int, list]:
        job = export_jobs.start(client, EXPORT)
        with CaptureQueriesContext(connection) as captured:
            job = export_jobs.run(job)
        content = export_jobs.download(client, job)
        return len(captured), [cell for row in export_jobs.rows(content) for cell in row]

    make_mismatch(run, key="k0", name="比对0")
    few, _ = queries()
    for n in range(1, 5):
        make_mismatch(run, key=f"k{n}", name=f"比对{n}")
    many, cells = queries()
    assert "比对4" in cells
    assert many == few, f"{few} queries with one row, {many} with five"
