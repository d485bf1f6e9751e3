"""Issue 12 rule 7, the stored documents: a print of a case's document is kept with the case
(the PDF, its SHA-256, its template version), each print is on the case's timeline and the
audit trail, the case's state decides which kinds can be printed, those who work the case and
the county print, anyone who sees the case downloads (logged), and the county prints one kind
for many cases at once as a background job that hands back a ZIP."""

import hashlib
import io
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from accounts import jobs
from accounts.choices import AuditAction, JobKind, JobStatus
from accounts.models import AuditEvent, Job
from kongchuo.errors import AppError
from returns import documents, services
from returns.choices import Action, Duty, Placement, Step
from returns.jobs import batch_generate
from returns.models import CaseDocument, CaseEvent
from tests.ledger.conftest import head_class, make_student, township
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    confirmed,
    days,
    open_case,
    visit,
    working,
)

pytestmark = pytest.mark.django_db

Kind = documents.Kind
PRINCIPAL = "xz1_xx1_xiaozhang"  # the child's school: sees the case, does not work it
OTHER_COUNTY = "c2_xian_staff"


def _said(response) -> str:
    """The last message the page told the user."""
    return str(list(get_messages(response.wsgi_request))[-1])


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def _stored_bytes(document: CaseDocument) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def _footprint(case) -> tuple:
    return (
        CaseDocument.objects.filter(case=case).count(),
        CaseEvent.objects.filter(case=case).count(),
        AuditEvent.objects.count(),
    )


def _ordered(world, case):
    return services.step_advance(
        by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(10)
    )


def test_a_print_is_stored_with_its_hash_template_version_timeline_and_audit_line(world, child):
    case = working(world, child)
    document = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.SURVEY)
    data = _stored_bytes(document)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size == len(data)
    assert document.template_version == documents.KINDS[Kind.SURVEY].version
    assert (document.kind, document.title) == (Kind.SURVEY, "辍学学生基本情况调查表")
    assert document.generated_by == world.user(OFFICIAL)
    text = _text(data)
    assert child.name in text and "辍学学生基本情况调查表" in text
    # The file is named by the case and the hash, never by the child.
    assert document.file.name.startswith("returns/documents/")
    assert child.name not in document.file.name
    assert f"case{case.pk}-survey-{document.sha256[:16]}" in document.file.name
    event = case.events.order_by("-at", "-id").first()
    assert (event.action, event.actor) == (Action.DOCUMENT, world.user(OFFICIAL))
    assert event.get_action_display() == "生成文书"
    assert "辍学学生基本情况调查表" in event.note
    line = AuditEvent.objects.filter(object_type="returns.CaseDocument").get()
    assert line.action == AuditAction.CREATE and document.sha256 in line.detail
    assert list(documents.stored(case)) == [document]


def test_prints_are_append_only_each_print_a_new_row(world, child):
    case = working(world, child)
    first = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.ACTION_RECORD)
    visit(world, case, result="监护人答应周一送学")
    second = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.ACTION_RECORD)
    assert first.pk != second.pk and first.sha256 != second.sha256
    assert "监护人答应周一送学" in _text(_stored_bytes(second))
    assert "监护人答应周一送学" not in _text(_stored_bytes(first))
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        CaseDocument.objects.filter(pk=first.pk).delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE returns_casedocument SET sha256 = 'x' WHERE id = %s", [first.pk])


def _available(case) -> list[str]:
    return [kind.key for kind in documents.available(case)]


def test_the_case_state_decides_which_documents_can_be_printed(world, child):
    """复学通知书 while the child is out of school; 责令限期改正通知书 from 责令改正 with its
    deadline; the survey and the record always."""
    case = open_case(world, child)
    assert _available(case) == [Kind.SURVEY, Kind.RETURN_NOTICE, Kind.ACTION_RECORD]
    case = services.case_acknowledge(by=world.user(OFFICIAL), case=case)
    assert Kind.CORRECTION_ORDER not in _available(case)
    case = _ordered(world, case)
    assert _available(case) == list(documents.KINDS)
    case = services.case_return(by=world.user(OFFICIAL), case=case, placement=Placement.REGULAR)
    assert _available(case) == [Kind.SURVEY, Kind.CORRECTION_ORDER, Kind.ACTION_RECORD]


def test_a_step_skipped_past_the_order_has_no_deadline_so_no_correction_order(world, child):
    case = services.step_advance(
        by=world.user(OFFICIAL),
        case=working(world, child),
        step=Step.PENALTY,
        reason="监护人已被约谈多次",
    )
    assert Kind.CORRECTION_ORDER not in _available(case)


@pytest.mark.parametrize(
    ("kind", "message"),
    [(Kind.CORRECTION_ORDER, "责令改正"), ("invitation", "不支持的文书类型")],
)
def test_a_document_the_case_does_not_allow_is_refused_nothing_changes(world, child, kind, message):
    case = working(world, child)
    before = _footprint(case)
    with pytest.raises(AppError, match=message) as refused:
        documents.generate(by=world.user(OFFICIAL), case=case, kind=kind)
    assert "kind" in refused.value.errors
    assert _footprint(case) == before


def test_the_correction_order_prints_the_deadline(world, child):
    case = _ordered(world, working(world, child))
    document = documents.generate(by=world.user(COUNTY_USER), case=case, kind=Kind.CORRECTION_ORDER)
    text = _text(_stored_bytes(document))
    assert "责令限期改正通知书" in text and child.name in text
    assert (
        f"{case.step_deadline.year}年{case.step_deadline.month}月{case.step_deadline.day}日" in text
    )


def test_who_prints_those_who_work_the_case_and_the_county(world, child):
    case = working(world, child)
    services.member_add(
        by=world.user(OFFICIAL), case=case, user=world.user("xz2_ganbu"), duty=Duty.CADRE
    )
    for username in (OFFICIAL, COUNTY_USER, "xz2_ganbu"):
        documents.generate(by=world.user(username), case=case, kind=Kind.SURVEY)
    before = _footprint(case)
    with pytest.raises(AppError, match="只有办理该劝返案件的人员和县教体局可以生成文书"):
        documents.generate(by=world.user(PRINCIPAL), case=case, kind=Kind.SURVEY)
    with pytest.raises(AppError, match="不在您的管辖范围内"):
        documents.generate(by=world.user(OTHER_COUNTY), case=case, kind=Kind.SURVEY)
    assert _footprint(case) == before


def test_the_schools_own_township_reads_but_does_not_print(world):
    """A child of xz1's school whose 户籍 is xz2: xz2 persuades, xz1 only reads."""
    student = make_student(world, grade=1, hukou_region=township(world, "xz2_ganbu"))
    case = services.case_open(by=world.user(COUNTY_USER), entry=confirmed(world, student))
    with pytest.raises(AppError, match="只有办理"):
        documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.SURVEY)
    document = documents.generate(by=world.user("xz2_ganbu"), case=case, kind=Kind.SURVEY)
    filename, _ = documents.download(by=world.user(OFFICIAL), document=document)
    assert filename.endswith(".pdf")


def test_identifiers_are_masked_unless_revealed_by_someone_allowed_and_logged(world, child):
    case = working(world, child)
    masked = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.SURVEY)
    assert child.id_number not in _text(_stored_bytes(masked))
    with pytest.raises(AppError, match="查看完整身份证号"):
        documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.SURVEY, reveal=True)
    full = documents.generate(by=world.user(COUNTY_USER), case=case, kind=Kind.SURVEY, reveal=True)
    assert child.id_number in _text(_stored_bytes(full))
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL, object_id=str(full.pk)).exists()


def test_download_gives_the_stored_pdf_logged_and_refuses_a_file_that_changed(world, child):
    case = working(world, child)
    document = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.RETURN_NOTICE)
    filename, data = documents.download(by=world.user(PRINCIPAL), document=document)
    assert data == _stored_bytes(document)
    assert filename.startswith("辍学劝返复学通知书-案件") and child.name not in filename
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, object_id=str(document.pk), actor=world.user(PRINCIPAL)
    ).exists()
    with pytest.raises(AppError, match="不在您的管辖范围内"):
        documents.download(by=world.user(OTHER_COUNTY), document=document)
    with open(document.file.path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(AppError, match="校验值不一致"):
        documents.download(by=world.user(PRINCIPAL), document=document)


# -- pages --------------------------------------------------------------------------------------


def _generate_url(case, kind) -> str:
    return reverse("returns-document-generate", args=[case.pk, kind])


def test_page_prints_and_goes_back_to_the_case_saying_what_happened(world, child):
    case = working(world, child)
    response = world.client(OFFICIAL).post(
        _generate_url(case, Kind.RETURN_NOTICE), {"return_by": "2026-09-07"}
    )
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert response.url == reverse("returns-detail", args=[case.pk])
    assert "已生成辍学劝返复学通知书" in _said(response)
    document = CaseDocument.objects.get(case=case)
    assert "2026年9月7日" in _text(_stored_bytes(document))


def test_page_refusal_is_a_message_and_nothing_is_printed(world, child):
    case = working(world, child)
    client = world.client(OFFICIAL)
    response = client.post(_generate_url(case, Kind.CORRECTION_ORDER))
    assert response.status_code == 302
    assert "责令改正" in _said(response)
    response = client.post(_generate_url(case, Kind.RETURN_NOTICE), {"return_by": "9月7日"})
    assert "复学报到日期格式不正确" in _said(response)
    assert not CaseDocument.objects.filter(case=case).exists()
    assert client.get(_generate_url(case, Kind.SURVEY)).status_code == 405


def test_page_outside_the_area_is_404(world, child):
    case = working(world, child)
    document = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.SURVEY)
    outsider = world.client(OTHER_COUNTY)
    assert outsider.post(_generate_url(case, Kind.SURVEY)).status_code == 404
    assert outsider.get(reverse("returns-document", args=[document.pk])).status_code == 404
    assert CaseDocument.objects.filter(case=case).count() == 1


def test_page_download_is_the_pdf(world, child):
    case = working(world, child)
    document = documents.generate(by=world.user(OFFICIAL), case=case, kind=Kind.SURVEY)
    response = world.client(PRINCIPAL).get(reverse("returns-document", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response.content == _stored_bytes(document)


# -- the county's batch ---------------------------------------------------------------------------


@pytest.fixture
def township_cases(world):
    """Three worked cases of township xz1, one of them at 责令改正, and one of township xz2."""
    names = ("赵一凡", "钱二淏", "孙三玙")
    cases = [
        working(world, make_student(world, grade=1, klass=head_class(world), name=name))
        for name in names
    ]
    _ordered(world, cases[1])
    other = make_student(world, grade=1, name="周四海", hukou_region=township(world, "xz2_ganbu"))
    services.case_open(by=world.user(COUNTY_USER), entry=confirmed(world, other))
    return cases


def _zip(job: Job) -> dict[str, bytes]:
    with job.result.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_county_batch_prints_every_case_of_a_township_into_one_zip(world, township_cases):
    county = world.user(COUNTY_USER)
    job = batch_generate(by=county, kind=Kind.SURVEY, township=township(world).pk)
    assert job.kind == JobKind.RETURN_DOCUMENTS
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert (job.done, job.total) == (3, 3)
    assert job.result_name.endswith(".zip") and "3 份辍学学生基本情况调查表" in job.message
    files = _zip(job)
    assert len(files) == 3
    names = {case.entry.name for case in township_cases}
    printed = set()
    for filename, data in files.items():
        assert filename.endswith(".pdf") and not any(name in filename for name in names)
        text = _text(data)
        assert "辍学学生基本情况调查表" in text
        printed |= {name for name in names if name in text}
    assert printed == names
    # Each print is stored with its case and logged like any other.
    for case in township_cases:
        document = CaseDocument.objects.get(case=case)
        assert _stored_bytes(document) in files.values()
        assert case.events.filter(action=Action.DOCUMENT).count() == 1


def test_county_batch_prints_only_the_cases_the_kind_is_available_for(world, township_cases):
    job = batch_generate(by=world.user(COUNTY_USER), kind=Kind.CORRECTION_ORDER)
    jobs.job_run(job.pk)
    job.refresh_from_db()
    files = _zip(job)
    assert len(files) == 1
    assert township_cases[1].entry.name in _text(next(iter(files.values())))


def test_batch_is_for_the_county_and_needs_matching_cases(world, township_cases):
    with pytest.raises(AppError, match="县教体局"):
        batch_generate(by=world.user(OFFICIAL), kind=Kind.SURVEY)
    with pytest.raises(AppError, match="没有符合条件"):
        batch_generate(
            by=world.user(COUNTY_USER),
            kind=Kind.CORRECTION_ORDER,
            township=township(world).pk,
            step=Step.PERSUASION,
        )
    with pytest.raises(AppError, match="不支持的文书类型"):
        batch_generate(by=world.user(COUNTY_USER), kind="invitation")
    assert not Job.objects.filter(kind=JobKind.RETURN_DOCUMENTS).exists()


def test_the_list_page_starts_the_batch_for_the_list_as_filtered(world, township_cases):
    client = world.client(COUNTY_USER)
    code = township(world).code
    page = client.get("/returns/", {"township": code}).content.decode()
    assert 'data-testid="document-batch"' in page and f"township={code}" in page
    response = client.post(
        reverse("returns-document-batch"),
        {"filters": f"township={code}", "kind": Kind.SURVEY},
        follow=True,
    )
    job = Job.objects.get(kind=JobKind.RETURN_DOCUMENTS)
    assert response.redirect_chain[-1][0] == reverse("job-detail", args=[job.pk])
    assert "已开始批量生成文书" in response.content.decode()
    assert job.params["filters"]["township"] == township(world).pk
    jobs.job_run(job.pk)
    job.refresh_from_db()
    # The township's three cases, not the other township's.
    assert (job.status, job.total) == (JobStatus.DONE, 3)


def test_the_batch_page_is_the_countys_and_a_refusal_goes_back_to_the_list(world, township_cases):
    response = world.client(OFFICIAL).post(
        reverse("returns-document-batch"), {"filters": "", "kind": Kind.SURVEY}
    )
    assert response.status_code == 403
    assert (
        'data-testid="document-batch"'
        not in world.client(OFFICIAL).get("/returns/").content.decode()
    )
    client = world.client(COUNTY_USER)
    response = client.post(
        reverse("returns-document-batch"), {"filters": "step=4", "kind": Kind.SURVEY}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/returns/?step=4"
    assert "没有符合条件" in response.content.decode()
    assert not Job.objects.filter(kind=JobKind.RETURN_DOCUMENTS).exists()
