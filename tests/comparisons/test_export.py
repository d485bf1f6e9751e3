"""The mismatch export (issue 13, Interfaces: "XLSX export of mismatches (masked, logged)"):
what the list shows, read back from the real file, with ID numbers masked, text never a
formula, and every export in the audit trail."""

import io

import pytest
from openpyxl import load_workbook

from accounts.models import AuditEvent
from comparisons import services
from comparisons.exports import HEADINGS
from tests.comparisons.results import COUNTY_B, first_school, make_mismatch, make_run, make_source

pytestmark = pytest.mark.django_db

EXPORT = "/comparisons/mismatches/export/"


def rows(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_export_is_the_filtered_list_masked_and_logged(world):
    run = make_run(make_source())
    weak = make_mismatch(run, key="w", strength="weak")
    plain = make_mismatch(run, key="p", name="赵小刚")
    services.explain(by=world.user("xian_staff"), mismatch=plain, note="已核实在外省就读")
    table = rows(world.client("xian_staff").get(EXPORT))
    assert table[0] == HEADINGS and len(table) == 3
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

    table = rows(world.client("xian_staff").get(EXPORT, {"handled": "0"}))
    assert [row[HEADINGS.index("姓名")] for row in table[1:]] == [weak.name]


def test_the_export_holds_the_users_area_only_and_no_formula(world):
    """Rule 6, and formula safety: a name from a list that starts with = stays text."""
    run = make_run(make_source())
    make_mismatch(run, key="school", school=first_school(), township=None, name="=HYPERLINK(1)")
    make_mismatch(run, key="township")
    make_mismatch(make_run(make_source(COUNTY_B)), key="b")
    table = rows(world.client("xz1_xx1_guanli").get(EXPORT))
    assert len(table) == 2
    sheet = load_workbook(io.BytesIO(world.client("xz1_xx1_guanli").get(EXPORT).content)).active
    cell = sheet.cell(row=2, column=HEADINGS.index("姓名") + 1)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
    [_, theirs] = rows(world.client("c2_xian_staff").get(EXPORT))
    assert theirs[HEADINGS.index("身份证号")].startswith(COUNTY_B)
