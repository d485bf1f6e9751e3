"""One child through the ledger as its users see it (issue 4): the school reports and
confirms, the county names the township, the township records the return, the school
proposes 销号 with an evidence file, the county approves — and the child comes back in as a
rebound linked to the closed entry."""

import re

import pytest

from ledger.models import LedgerEntry
from students.choices import Status
from tests.browser.conftest import choose, login
from tests.ledger.conftest import make_student

pytestmark = [pytest.mark.browser]


def field(page, label: str):
    """The input labelled exactly ``label`` (a required field's label ends in *)."""
    return page.get_by_label(re.compile(rf"^{label}\*?$"))


def act(page, button: str, fields: dict[str, str] | None = None, submit: str = "保存"):
    page.get_by_role("link", name=button, exact=True).click()
    for label, value in (fields or {}).items():
        field(page, label).fill(value)
    page.get_by_role("button", name=submit).click()
    page.wait_for_load_state()


def switch_user(page, world, username):
    page.context.clear_cookies()
    login(page, username, world.password)


def open_entry(page, entry):
    page.goto(f"/ledger/{entry.pk}/")


def state(page) -> str:
    return page.get_by_test_id("entry-state").inner_text()


def test_a_child_from_school_report_to_closure_and_back_as_a_rebound(page, live_world):
    child = make_student(live_world)
    login(page, "xz1_xx1_guanli", live_world.password)

    page.goto(f"/students/{child.pk}/")
    page.get_by_role("link", name="上报疑似辍学/辍学").click()
    page.get_by_label("主要辍学原因").select_option(label="家庭经济困难")
    field(page, "人员现状").select_option(label="外出务工")
    page.get_by_role("button", name="登记").click()
    assert state(page) == "疑似辍学 · 待核实"
    entry = LedgerEntry.objects.get(student=child)

    act(page, "确认辍学", {"核实情况": "班主任家访，学生随父母外出务工。"})
    assert state(page) == "辍学 · 已确认辍学"
    child.refresh_from_db()
    assert child.status == Status.DROPPED_OUT

    switch_user(page, live_world, "xian_staff")
    page.goto("/ledger/")
    page.get_by_test_id("entries").get_by_role("link", name=child.name).click()
    page.get_by_role("link", name="落实劝返主体").click()
    choose(page, "负责劝返的乡镇", entry.township.name, entry.township.code)
    page.get_by_role("button", name="保存").click()
    assert state(page) == "辍学 · 劝返中"

    switch_user(page, live_world, "xz1_ganbu")
    open_entry(page, entry)
    act(page, "登记复学", {"复学情况": "已返回原班随班就读。"})
    assert state(page) == "辍学 · 已复学（跟踪）"

    switch_user(page, live_world, "xz1_xx1_guanli")
    open_entry(page, entry)
    page.get_by_role("link", name="申请销号").click()
    page.get_by_label("销号原因").select_option(label="已复学")
    page.get_by_label("证明材料文件").set_input_files(
        {"name": "复学证明.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 demo"}
    )
    page.get_by_role("button", name="保存").click()
    assert state(page) == "辍学 · 销号待审核"
    assert page.get_by_role("link", name="批准销号").count() == 0  # not the proposer's call

    switch_user(page, live_world, "xian_staff")
    open_entry(page, entry)
    act(page, "批准销号", {"审核意见": "复学证明齐全，同意销号。"})
    assert state(page) == "辍学 · 已销号"
    timeline = page.get_by_test_id("timeline").inner_text()
    for step in ("新增", "确认辍学", "落实劝返主体", "登记复学", "申请销号", "批准销号"):
        assert step in timeline
    assert page.get_by_role("link", name="下载证明材料").count() == 1

    switch_user(page, live_world, "xz1_xx1_guanli")
    page.goto(f"/students/{child.pk}/")
    page.get_by_role("link", name="上报疑似辍学/辍学").click()
    page.get_by_label("类别").select_option(label="辍学")
    page.get_by_role("button", name="登记").click()
    assert state(page) == "辍学 · 已确认辍学"
    assert "反弹" in page.get_by_test_id("rebound").inner_text()
    page.goto("/ledger/?rebound=1")
    rows = page.get_by_test_id("entries").locator("tbody tr")
    assert rows.count() == 1
    assert "反弹" in rows.first.inner_text()
