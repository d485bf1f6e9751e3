"""Roster export (issue 3 §6): same columns as the import, masked by default, filtered,
scoped, logged, formula-safe, and importable again."""

import io

import pytest
from openpyxl import load_workbook

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent, Job
from students import roster, services
from students.imports import import_roster
from tests.students.factories import student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def pupils(world):
    staff = world.user("xz1_xx1_guanli")
    a = services.student_create(by=staff, data=student_data(staff.school, name="=HYPERLINK(1)"))
    b = services.student_create(
        by=staff,
        data=student_data(
            staff.school, name="李四", grade=5, key_groups={"left_behind"}, with_id=False
        ),
    )
    other = world.user("c2_xz1_xx1_guanli")
    c = services.student_create(by=other, data=student_data(other.school, name="外县生"))
    return a, b, c


def export(world, username, **params):
    job = jobs.job_start(by=world.user(username), kind=JobKind.ROSTER_EXPORT, params=params)
    jobs.job_run(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.DONE, job.message
    with job.result.open("rb") as handle:
        content = handle.read()
    return content, list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_export_has_the_import_columns_masked_ids_and_only_the_area(world, pupils):
    a, b, c = pupils
    _, rows = export(world, "xz1_xx1_guanli")
    assert rows[0] == roster.HEADINGS
    names = [row[0] for row in rows[1:]]
    assert sorted(names) == sorted(["=HYPERLINK(1)", "李四"])
    ids = {row[roster.HEADINGS.index("身份证号")] for row in rows[1:]}
    assert a.masked_id_number in ids and a.id_number not in ids
    phones = {row[roster.HEADINGS.index("监护人电话")] for row in rows[1:]}
    assert phones == {"138****5678"}
    event = AuditEvent.objects.get(action="export")
    assert event.detail == "导出学生花名册，共2行"


def test_formula_looking_values_are_written_as_text(world, pupils):
    content, _ = export(world, "xz1_xx1_guanli")
    sheet = load_workbook(io.BytesIO(content)).active
    names = [sheet.cell(row=r, column=1) for r in (2, 3)]
    assert any(c.value == "=HYPERLINK(1)" and c.data_type == "s" for c in names)


def test_export_follows_the_list_filters(world, pupils):
    _, rows = export(world, "xz1_xx1_guanli", filters={"key_group": "left_behind"})
    assert [row[0] for row in rows[1:]] == ["李四"]


def test_full_ids_only_for_roles_that_may_see_them_and_logged_as_reveal(world, pupils):
    a, _, _ = pupils
    _, rows = export(world, "xz1_xx1_guanli", reveal=True)
    assert a.id_number in {row[roster.HEADINGS.index("身份证号")] for row in rows[1:]}
    assert AuditEvent.objects.filter(action="reveal").exists()
    job = jobs.job_start(
        by=world.user("api_xian"), kind=JobKind.ROSTER_EXPORT, params={"reveal": True}
    )
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "无权" in job.message


def test_a_revealed_export_imports_back_unchanged(world, pupils):
    content, _ = export(world, "xz1_xx1_guanli", reveal=True)
    result = import_roster(by=world.user("xz1_xx1_guanli"), content=content, filename="花名册.xlsx")
    assert result.ok and (result.created, result.updated) == (0, 0)


def test_export_page_starts_a_job_with_the_filters(world, pupils):
    client = world.client("xz1_xx1_guanli")
    response = client.post("/students/export/", {"key_group": "left_behind", "grade": "5"})
    job = Job.objects.get(kind=JobKind.ROSTER_EXPORT)
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.params["filters"]["grade"] == 5 and job.params["reveal"] is False
    assert world.client("xz1_ganbu").post("/students/export/").status_code == 403
