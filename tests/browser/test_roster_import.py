"""The roster import as school staff see it: a file with bad rows, the errors on the job page,
the corrected file, 导入完成."""

import datetime
import io

import pytest
from openpyxl import Workbook

from accounts.models import Job, School
from students.models import Student
from students.roster import HEADINGS
from tests.browser.conftest import login
from tests.students.factories import id_number

pytestmark = [pytest.mark.browser]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def roster(school, phones) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append(list(HEADINGS))
    for n, phone in enumerate(phones, start=1):
        birth = datetime.date(2017, 3, n)
        values = {
            "姓名": f"学生{n}",
            "性别": "男",
            "出生日期": birth,
            "民族": "汉族",
            "身份证号": id_number(birth, "M"),
            "学校标识码": school.code,
            "年级": 3,
            "班级": "1班",
            "监护人姓名": "家长",
            "监护人关系": "父亲",
            "监护人电话": phone,
        }
        sheet.append([values.get(heading, "") for heading in HEADINGS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(page, content):
    page.goto("/students/import/")
    page.get_by_label("花名册文件").set_input_files(
        {"name": "花名册.xlsx", "mimeType": XLSX_TYPE, "buffer": content}
    )
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url("**/jobs/*/")


@pytest.fixture
def eager(settings):
    # Celery reads the Django settings object on each access, so the override reaches the
    # app. The live server's requests really commit: delay_on_commit then runs the job in
    # the request thread, before the redirect. No worker runs in the tests, so a job page
    # that shows a finished job proves the job ran inline.
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_school_staff_fix_a_roster_after_seeing_its_errors(page, live_world, eager):
    school = School.objects.get(name="南涧镇中心学校", township__code__startswith="532926")
    login(page, "xz1_xx1_guanli", live_world.password)

    upload(page, roster(school, ["13812345678", "12345", "13912345678"]))
    # Eager: the job finished before the redirect, so the page is final without a refresh.
    assert page.get_by_test_id("job-status").inner_text() == "失败"
    assert page.get_by_test_id("job-message").inner_text() == "发现 1 行错误，未导入任何数据"
    cells = page.get_by_test_id("job-errors").locator("tbody tr").first.locator("td")
    assert cells.all_inner_texts()[:2] == ["3", "监护人电话"]
    assert "不是有效的电话号码" in cells.nth(2).inner_text()
    assert page.get_by_role("link", name="下载 花名册错误说明").count() == 1
    assert Student.objects.count() == 0

    page.get_by_role("link", name="改正后重新上传").click()
    upload(page, roster(school, ["13812345678", "13712345678", "13912345678"]))
    assert page.get_by_test_id("job-status").inner_text() == "已完成"
    assert page.get_by_test_id("job-message").inner_text() == "导入完成：新增 3 名，更新 0 名"
    assert Student.objects.filter(school=school).count() == 3
    assert list(Job.objects.values_list("status", flat=True)) == ["done", "failed"]
