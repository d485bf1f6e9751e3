"""Issue 18 on the import page: a national file is shown first — how each column is read —
and imported once confirmed, through the same background job."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import Job
from students.import_views import PENDING
from students.models import IdType, Student
from tests.students.test_import import IMPORTER
from tests.students.test_national import gbk_csv, row, xlsx

pytestmark = pytest.mark.django_db


def upload(client, content, name="学生信息.xlsx"):
    return client.post("/students/import/", {"file": ContentFile(content, name=name)})


def test_a_national_file_is_previewed_column_by_column_then_imported_on_confirm(world):
    client = world.client(IMPORTER)
    page = client.get("/students/import/").content.decode()
    # The page lists the recognised national columns and their codes.
    assert (
        "全国学籍系统导出格式可识别的列" in page and "1 居民身份证、6 香港特区护照/身份证明" in page
    )
    response = upload(client, xlsx([row(身份证件类型="6", 身份证件号="H12345678", 学籍号="")]))
    page = response.content.decode()
    assert response.status_code == 200 and not Job.objects.exists()
    assert "确认导入：全国学籍系统导出格式" in page and "共 1 行学生" in page
    # 性别 "1" is read as 男, 身份证件类型 "6" as its name.
    assert '<td data-label="示例">1</td>' in page and '<td data-label="读作">男</td>' in page
    assert "香港特区护照/身份证明" in page and "确认并导入" in page
    pending = client.session[PENDING]
    assert default_storage.exists(pending["path"])

    response = client.post("/students/import/", {"confirm": "1"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == JobKind.ROSTER_IMPORT and job.params["filename"] == "学生信息.xlsx"
    assert not default_storage.exists(pending["path"]) and PENDING not in client.session
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.message == "导入完成：新增 1 名，更新 0 名"
    assert Student.objects.get().id_type == IdType.HONG_KONG


def test_a_confirm_without_a_pending_file_says_so(world):
    client = world.client(IMPORTER)
    response = client.post("/students/import/", {"confirm": "1"}, follow=True)
    assert "没有待确认的文件" in response.content.decode() and not Job.objects.exists()


def test_a_gbk_csv_is_previewed_and_a_file_of_neither_format_refused_on_the_page(world):
    client = world.client(IMPORTER)
    page = upload(client, gbk_csv([row()]), name="学生信息.csv").content.decode()
    assert "确认导入：全国学籍系统导出格式" in page and '<td data-label="读作">彝族</td>' in page
    bad = gbk_csv([{"姓名": "李小明"}], headings=("姓名", "备注"))
    page = upload(client, bad, name="名单.csv").content.decode()
    assert "既不是本系统花名册模板，也不是全国学籍系统导出格式" in page
    assert not Job.objects.exists()


def test_another_user_cannot_confirm_someone_elses_file(world):
    upload(world.client(IMPORTER), xlsx([row()]))
    other = world.client("xz1_xx2_guanli")
    response = other.post("/students/import/", {"confirm": "1"}, follow=True)
    assert "没有待确认的文件" in response.content.decode() and not Job.objects.exists()


def test_the_student_list_exports_in_the_national_layout(world):
    """学生 → 按全国学籍系统格式导出: the roster export job writes the national headings."""
    import io

    from openpyxl import load_workbook

    from students.national import NATIONAL_HEADINGS

    client = world.client(IMPORTER)
    page = client.get("/students/").content.decode()
    assert 'data-testid="export-national"' in page
    response = client.post("/students/export/", {"layout": "national"})
    job = Job.objects.get(kind=JobKind.ROSTER_EXPORT)
    assert response.status_code == 302 and job.params["layout"] == "national"
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    with job.result.open("rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).active
        headings = next(sheet.iter_rows(values_only=True))
    assert tuple(h for h in headings if h) == NATIONAL_HEADINGS
