"""A comparison in the browser (issue 13, "done when"): the county uploads a household list
— taken in by a background job whose page follows it — watches the run's progress bar
finish — the job and then the run wait in the queue until a real Celery worker on Redis
picks them up, and static/js/comparisons.js moves the bar without a reload — and opens a
未入学 ledger entry from the mismatch the run found."""

import datetime
import os
import re

import pytest
from celery.contrib.testing.worker import start_worker

from accounts.choices import JobKind
from accounts.models import Job, Region
from comparisons.models import Mismatch, Run
from kongchuo.celery import app
from ledger.models import LedgerEntry
from tests.browser.conftest import login
from tests.students.factories import id_number

pytestmark = [pytest.mark.browser, pytest.mark.redis]

COUNTY_USER = "xian_staff"


def shot(page, name: str) -> None:
    """A full-page screenshot, when KONGCHUO_SCREENSHOTS names a folder."""
    folder = os.environ.get("KONGCHUO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"comparisons-{name}.png"), full_page=True)


def fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def household_csv(township: Region) -> tuple[bytes, str]:
    """A 户籍 list of one school-age child (6 by 31 August) that no student record has."""
    birth = datetime.date(datetime.date.today().year - 8, 3, 1)
    number = id_number(birth, "F", township.code[:6])
    lines = [
        "姓名,身份证号,出生日期,性别,户籍地,监护人",
        f"李小梅,{number},{birth.isoformat()},女,{township.code},李大山",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8"), number


def test_upload_a_list_watch_the_run_finish_and_open_a_not_enrolled_entry(phone, live_world):
    township = Region.objects.get(code="532926101")
    content, number = household_csv(township)
    app.control.purge()  # no task of an earlier test run waits in this test queue

    login(phone, COUNTY_USER, live_world.password)
    phone.goto("/comparisons/")
    phone.get_by_role("link", name="上传名单并比对").tap()
    phone.get_by_label("名单类型").select_option(label="公安户籍适龄人口")
    phone.get_by_label("名单文件").set_input_files(
        {"name": "户籍适龄人口.csv", "mimeType": "text/csv", "buffer": content}
    )
    with phone.expect_navigation():
        phone.get_by_role("button", name="下一步：核对列对应").tap()
    assert fits(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="确认上传并比对").tap()

    # The upload job's page: queued, nothing written, until the worker takes it.
    job = Job.objects.get(kind=JobKind.COMPARISON_UPLOAD)
    phone.wait_for_url(f"**/jobs/{job.pk}/")
    assert "名单已提交" in phone.locator(".messages").inner_text()
    assert phone.get_by_test_id("job-status").inner_text() == "排队中"
    assert not Run.objects.exists()
    assert fits(phone)
    shot(phone, "upload-queued")
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        # The job page reloads itself until the list is in, then links to the run.
        phone.get_by_test_id("job-next").wait_for(timeout=20_000)
        assert "比对已开始" in phone.get_by_test_id("job-message").inner_text()
        assert fits(phone)
        shot(phone, "upload-done")
        run = Run.objects.get()
        with phone.expect_navigation():
            phone.get_by_test_id("job-next").tap()
        phone.wait_for_url(f"**/comparisons/runs/{run.pk}/")
        # comparisons.js polls the progress and loads the page again once the run is done.
        phone.get_by_test_id("run-message").wait_for(timeout=20_000)
    assert phone.get_by_test_id("run-status").inner_text() == "已完成"
    assert "发现1条不一致" in phone.get_by_test_id("run-message").inner_text()
    assert fits(phone)
    shot(phone, "run-done")

    # From the counts to the mismatch, and from the mismatch to the ledger.
    phone.get_by_test_id("by-kind").get_by_role("link").first.tap()
    phone.wait_for_url("**/comparisons/mismatches/?run=*")
    mismatch = Mismatch.objects.get()
    row = phone.locator(f'[data-mismatch="{mismatch.pk}"]')
    assert "李小梅" in row.inner_text() and number not in row.inner_text()  # masked
    assert fits(phone)
    shot(phone, "mismatches")
    row.get_by_test_id("open-entry").tap()
    phone.wait_for_url(f"**/comparisons/mismatches/{mismatch.pk}/open-entry/**")
    assert phone.get_by_label("姓名").input_value() == "李小梅"
    assert phone.get_by_label("身份证号").input_value() == number
    assert phone.get_by_label("出生日期").input_value() == mismatch.birth_date.isoformat()
    phone.get_by_label("学籍核查结果").select_option(label="无学籍")
    phone.get_by_label("主要辍学原因").select_option(label="家庭经济困难")
    phone.get_by_label(re.compile(r"^人员现状\*?$")).select_option(label="在家")
    phone.get_by_label("人员现状说明").fill("在家帮忙照看弟弟")
    phone.get_by_label("家庭情况").fill("父母外出务工，随祖父母生活")
    phone.get_by_label("父母联系方式").fill("13812345678")
    phone.get_by_label("相关部门意见").fill("村委会建议秋季入学")
    assert fits(phone)
    shot(phone, "entry-form")
    with phone.expect_navigation():
        phone.get_by_role("button", name="登记未入学台账").tap()

    entry = LedgerEntry.objects.get()
    phone.wait_for_url(f"**/ledger/{entry.pk}/")
    assert "已登记到台账（未入学，来源：数据比对）" in phone.locator(".messages").inner_text()
    assert (entry.kind, entry.source, entry.id_number) == ("not_enrolled", "comparison", number)
    assert Mismatch.objects.get().handled.entry == entry
    assert fits(phone)

    # Dealt with: the list says by whom, and the 三统一 view fits the phone too.
    phone.goto("/comparisons/mismatches/?handled=1")
    assert "已登记未入学台账" in phone.get_by_test_id("handled").inner_text()
    assert fits(phone)
    phone.goto("/comparisons/three-way/")
    assert phone.get_by_test_id(f"township-{township.code}").is_visible()
    assert fits(phone)
    shot(phone, "three-way")
