"""The list pages and API (issue 13 "Interfaces"): upload in two steps (kind and file; the
mapping pre-filled with the file's first rows shown; the list then taken in by a background
job), the list of lists, one list with its downloadable error list, and
POST /api/v1/comparisons/sources/ with a file or JSON rows — the same service, the same
jurisdiction."""

import datetime
import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import Job
from comparisons.choices import RunStatus
from comparisons.models import ColumnMapping, Run, Source, SourceRow
from comparisons.source_views import PENDING
from tests.students.factories import id_number

pytestmark = pytest.mark.django_db

STAFF = "xian_staff"
BIRTH = datetime.date(2017, 3, 14)
UPLOAD = "/comparisons/sources/upload/"


def csv_upload(rows=None, *, headings=("姓名", "证件号码", "出生日期", "户籍地"), name="户籍.csv"):
    rows = rows if rows is not None else [["李小明", id_number(BIRTH), "2017-03-14", "新政村"]]
    lines = [",".join(headings), *(",".join(row) for row in rows)]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode("gbk"), "text/csv")


def step_one(client, file=None, kind="household"):
    return client.post(UPLOAD, {"kind": kind, "file": file or csv_upload()})


def token_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].split("upload=")[1]


MAPPING = {"name": "姓名", "id_number": "证件号码", "birth_date": "出生日期", "region": "户籍地"}


def confirm(client, token, mapping=None) -> Job:
    """Step 2 accepted: the page queues the upload job and sends the user to its page."""
    response = client.post(f"{UPLOAD}?upload={token}", mapping or MAPPING)
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse(
        "job-detail", args=[job.pk]
    )
    return job


def run(job: Job) -> Job:
    jobs.job_run(job.pk)
    job.refresh_from_db()
    return job


def upload(client, file=None) -> Job:
    return run(confirm(client, token_of(step_one(client, file))))


def test_upload_in_two_steps_queues_a_job_that_stages_the_list_and_starts_the_comparison(world):
    """Issue 13 "they can leave and come back": the page only queues the upload; nothing is
    written until the job runs, which takes the list in, starts the run and links to it."""
    client = world.client(STAFF)
    page = client.get(UPLOAD)
    assert page.status_code == 200 and "第 1 步" in page.content.decode()
    token = token_of(step_one(client))
    path = client.session[PENDING][token]["path"]
    assert default_storage.exists(path) and "户籍" not in path  # a random name
    mapping_page = client.get(f"{UPLOAD}?upload={token}")
    html = mapping_page.content.decode()
    assert "文件已读取" in html and "GB18030" in html
    form = mapping_page.context["form"]
    # Pre-filled from the headings' synonyms (证件号码 → 身份证号).
    assert {k: v for k, v in form.initial.items() if v} == MAPPING
    assert mapping_page.context["preview_rows"][0][0] == {"heading": "姓名", "value": "李小明"}
    job = confirm(client, token)
    queued = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "名单已提交，正在后台读取" in queued and "上传比对名单" in queued
    assert (job.kind, job.status) == (JobKind.COMPARISON_UPLOAD, JobStatus.QUEUED)
    assert job.params["mapping"] == MAPPING and job.params["name"] == "户籍.csv"
    # Nothing written yet; the file is the job's (off the session, still stored).
    assert not Source.objects.exists() and not Run.objects.exists()
    assert default_storage.exists(path) and token not in client.session.get(PENDING, {})

    job = run(job)
    source = Source.objects.get()
    run_ = Run.objects.get(source=source)
    assert run_.status == RunStatus.QUEUED
    assert job.status == JobStatus.DONE and job.percent == 100
    assert "已上传" in job.message and "比对已开始" in job.message
    assert (job.params["source"], job.params["run"]) == (source.pk, run_.pk)
    assert source.name == "户籍.csv" and SourceRow.objects.filter(source=source).count() == 1
    assert ColumnMapping.objects.get(county=source.county, kind="household").mapping == MAPPING
    done = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert f'href="/comparisons/runs/{run_.pk}/"' in done and "查看比对进度" in done
    assert f'href="/comparisons/sources/{source.pk}/"' in done
    assert not default_storage.exists(path)  # deleted once the job finished


def test_a_refused_mapping_keeps_the_file_so_it_can_be_corrected(world):
    """Bad input: a mapping that does not fit the list is refused on the form at once — no
    job queued, nothing lost; the message says what to do."""
    client = world.client(STAFF)
    token = token_of(step_one(client))
    url = f"{UPLOAD}?upload={token}"
    missing = client.post(url, {**MAPPING, "id_number": ""})
    assert missing.status_code == 200 and "请选择名单中哪一列是身份证号" in missing.content.decode()
    twice = client.post(url, {**MAPPING, "birth_date": "姓名"})
    assert twice.status_code == 200 and "被对应到了多个字段" in twice.content.decode()
    assert not Job.objects.exists() and not Source.objects.exists()
    assert token in client.session[PENDING]
    run(confirm(client, token))
    assert Source.objects.count() == 1


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (None, "都有错误，未导入任何数据"),
        (bytes(range(256)) * 10, "乱码"),
    ],
    ids=["every-row-wrong", "garbage"],
)
def test_a_list_refused_as_a_whole_fails_the_job_writes_nothing_and_deletes_the_file(
    world, replace, message
):
    """A list refused as a whole in the job (every row wrong; a file that no longer reads):
    the job fails with the reason, nothing is written, the stored file is deleted."""
    client = world.client(STAFF)
    bad = [["李小明", "123", "", "新政村"], ["王芳", "", "", ""]]
    token = token_of(step_one(client, csv_upload(bad)))
    path = client.session[PENDING][token]["path"]
    job = confirm(client, token)
    if replace is not None:
        default_storage.delete(path)
        default_storage.save(path, ContentFile(replace))
    job = run(job)
    assert job.status == JobStatus.FAILED and message in job.message
    assert not Source.objects.exists() and not SourceRow.objects.exists()
    assert not Run.objects.exists() and not default_storage.exists(path)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert message in page and "改正后重新上传" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 10, "乱码"),
        (b"", "文件是空的"),
        ("姓名,身份证号\n".encode(), "没有数据行"),
    ],
    ids=["garbage", "empty", "headings-only"],
)
def test_step_one_refuses_a_bad_file_with_a_clear_message(world, content, message):
    client = world.client(STAFF)
    response = step_one(client, SimpleUploadedFile("名单.csv", content))
    assert response.status_code == 200 and message in response.content.decode()
    assert not client.session.get(PENDING)  # nothing stored


def test_step_one_refuses_a_file_over_the_limit_by_its_size(world, settings):
    settings.COMPARISON_MAX_BYTES = 10
    response = step_one(world.client(STAFF))
    assert "超过" in response.content.decode() and "上限" in response.content.decode()


def test_the_same_file_twice_leads_to_the_existing_list(world):
    client = world.client(STAFF)
    content = csv_upload().read()
    for _ in range(2):
        last = upload(client, SimpleUploadedFile("户籍.csv", content))
    source = Source.objects.get()
    assert last.status == JobStatus.DONE and "已经上传过" in last.message
    assert (last.params["source"], last.params["run"]) == (source.pk, None)
    page = client.get(reverse("job-detail", args=[last.pk])).content.decode()
    assert f'href="/comparisons/sources/{source.pk}/"' in page and "查看比对进度" not in page


def test_an_expired_upload_token_starts_over(world):
    response = world.client(STAFF).get(f"{UPLOAD}?upload=nothing", follow=True)
    assert "请重新选择文件" in response.content.decode()


def test_lists_page_and_a_list_with_its_error_workbook(world):
    client = world.client(STAFF)
    bad = [["李小明", id_number(BIRTH), "2017-03-14", "新政村"], ["王芳", "", "", ""]]
    upload(client, csv_upload(bad))
    source = Source.objects.get()
    listing = client.get("/comparisons/sources/").content.decode()
    assert "户籍.csv" in listing and "1 行" in listing and "查看最近一次比对" in listing
    detail = client.get(f"/comparisons/sources/{source.pk}/").content.decode()
    assert "1 行有误未导入" in detail and "身份证号或出生日期" in detail
    response = client.get(f"/comparisons/sources/{source.pk}/errors.xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(content)).active.values)
    assert rows[1][:3] == (3, "证件号码", "错误（未导入）")


def test_the_lists_page_counts_a_list_s_reminders_without_loading_them(world):
    """A list with warnings only (no refused row) shows how many, counted in SQL."""
    from tests.comparisons.results import make_source

    source = make_source()
    warning = {"row": 2, "field": "户籍地", "message": "未知区划", "level": "warning"}
    with_warnings = Source.objects.create(
        county=source.county,
        kind=source.kind,
        name="提醒名单.csv",
        sha256="a" * 64,
        size=10,
        errors=[warning, {**warning, "row": 3}, {**warning, "row": 4}],
        uploaded_by=source.uploaded_by,
    )
    listing = world.client(STAFF).get("/comparisons/sources/").content.decode()
    assert f'href="/comparisons/sources/{with_warnings.pk}/errors.xlsx">3 条提醒' in listing


def test_jurisdiction_other_counties_get_404_and_schools_may_not_upload(world):
    """Rule 6: county B's staff get 404 on county A's list and on its upload job (a job is
    its requester's only); a school account cannot upload."""
    client = world.client(STAFF)
    job = upload(client)
    source = Source.objects.get()
    for username in ("c2_xian_staff", "xz1_xx1_guanli", "xz1_ganbu"):
        other = world.client(username)
        assert other.get(reverse("job-detail", args=[job.pk])).status_code == 404
        assert other.get(f"/comparisons/sources/{source.pk}/").status_code == 404
        assert other.get(f"/comparisons/sources/{source.pk}/errors.xlsx").status_code == 404
        assert "户籍.csv" not in other.get("/comparisons/sources/").content.decode()
    school = world.client("xz1_xx1_guanli")
    assert school.get(UPLOAD).status_code == 403
    assert step_one(school).status_code == 403
    assert Source.objects.count() == 1 and Job.objects.count() == 1


# -- API -------------------------------------------------------------------------------------


def api(world, username=STAFF) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def test_api_upload_of_a_file_with_a_mapping(world):
    client = api(world)
    content = csv_upload().read()
    data = {
        "kind": "household",
        "file": SimpleUploadedFile("户籍.csv", content),
        "mapping": json.dumps(MAPPING),
    }
    response = client.post("/api/v1/comparisons/sources/", data, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] is True and body["run"] == Run.objects.get().pk
    assert body["source"]["row_count"] == 1 and body["source"]["mapping"] == MAPPING
    again = client.post(
        "/api/v1/comparisons/sources/",
        {"kind": "household", "file": SimpleUploadedFile("again.csv", content)},
        format="multipart",
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["source"]["id"] == body["source"]["id"]


def test_api_upload_of_json_rows_and_reading_back(world):
    client = api(world)
    good = id_number(BIRTH)
    rows = [
        {"name": "李小明", "id_number": good, "region": "新政村"},
        {"name": "王芳", "id_number": good[:-1] + ("0" if good[-1] != "0" else "1")},
    ]
    response = client.post(
        "/api/v1/comparisons/sources/", {"kind": "household", "rows": rows}, format="json"
    )
    assert response.status_code == 201, response.json()
    source = response.json()["source"]
    assert source["encoding"] == "JSON" and source["error_count"] == 0
    assert [e["level"] for e in source["errors"]] == ["warning"]
    listed = client.get("/api/v1/comparisons/sources/").json()["results"]
    assert [s["id"] for s in listed] == [source["id"]] and "errors" not in listed[0]
    detail = client.get(f"/api/v1/comparisons/sources/{source['id']}/").json()
    assert detail["errors"][0]["row"] == 2
    assert (
        api(world, "c2_xian_staff").get(f"/api/v1/comparisons/sources/{source['id']}/").status_code
        == 404
    )


def test_the_county_s_api_account_uploads_a_list_and_starts_its_run(world):
    """Another department's system sends its list through the county's API account."""
    rows = [{"name": "李小明", "id_number": id_number(BIRTH), "region": "新政村"}]
    client = api(world, "api_xian")
    response = client.post(
        "/api/v1/comparisons/sources/", {"kind": "household", "rows": rows}, format="json"
    )
    assert response.status_code == 201, response.json()
    source = Source.objects.get(pk=response.json()["source"]["id"])
    assert source.county.code == "532926" and source.uploaded_by.username == "api_xian"
    started = client.post("/api/v1/comparisons/runs/", {"source": source.pk}, format="json")
    assert started.status_code == 201, started.json()


def test_api_refusals_are_400_with_the_reason_and_403_for_schools(world):
    client = api(world)
    garbled = client.post(
        "/api/v1/comparisons/sources/",
        {"kind": "household", "file": SimpleUploadedFile("x.csv", bytes(range(256)) * 4)},
        format="multipart",
    )
    assert garbled.status_code == 400 and "乱码" in garbled.json()["detail"]
    missing = client.post(
        "/api/v1/comparisons/sources/",
        {"kind": "xueji", "rows": [{"name": "李小明", "id_number": id_number(BIRTH)}]},
        format="json",
    )
    assert missing.status_code == 400 and "学籍状态" in missing.json()["errors"]["mapping"][0]
    assert client.post("/api/v1/comparisons/sources/", {}, format="json").status_code == 400
    school = api(world, "xz1_xx1_guanli").post(
        "/api/v1/comparisons/sources/",
        {"kind": "household", "rows": [{"name": "李小明"}]},
        format="json",
    )
    assert school.status_code == 403
    assert not Source.objects.exists()


def test_the_schema_documents_both_ways_of_uploading(world):
    schema = api(world).get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/comparisons/sources/"]["post"]
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"200", "201", "400", "403"} <= set(operation["responses"])
