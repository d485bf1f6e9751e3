"""Ledger pages (issue 4 §6): the county list with filters and counts, the entry page with
its timeline and the actions the user may take, the add form with the 学籍 check step, the
export, the consistency list — each through the same services and jurisdiction."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent, Region, School
from ledger import services
from ledger.choices import ClosureReason, State
from ledger.exports import HEADINGS
from ledger.models import EntryEvent, LedgerEntry
from students import services as student_services
from students.choices import EventKind
from tests import export_jobs
from tests.ledger.conftest import (
    add_term,
    create_entry,
    entry_data,
    make_student,
    school_of,
    unenrolled_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(world, child):
    return services.entry_create(by=world.user("xz1_xx1_guanli"), data=entry_data(child))


def test_county_list_shows_counts_by_state_and_filters(world, entry):
    other = make_student(world, name="王小红", grade=5)
    services.entry_confirm(
        by=world.user("xian_staff"),
        entry=services.entry_create(by=world.user("xian_staff"), data=entry_data(other)),
    )
    client = world.client("xian_staff")
    page = client.get("/ledger/").content.decode()
    assert entry.name in page and "王小红" in page
    counts = client.get("/ledger/").context["counts"]
    assert (State.PENDING.value, State.PENDING.label, 1) in counts
    assert (State.CONFIRMED.value, State.CONFIRMED.label, 1) in counts
    filtered = client.get("/ledger/", {"grade": "5"}).context["object_list"]
    assert [e.name for e in filtered] == ["王小红"]
    pending = client.get("/ledger/", {"state": "pending"}).context["object_list"]
    assert [e.pk for e in pending] == [entry.pk]
    confirmed = client.get("/ledger/", {"state": "confirmed"}).context["object_list"]
    assert [e.name for e in confirmed] == ["王小红"]


def test_list_and_entry_page_mask_the_id_number(world, entry):
    page = world.client("xian_staff").get(f"/ledger/{entry.pk}/").content.decode()
    assert entry.masked_id_number in page and entry.id_number not in page
    listing = world.client("xian_staff").get("/ledger/").content.decode()
    assert entry.id_number not in listing


def test_a_school_of_another_county_gets_404_for_the_entry(world, entry):
    assert world.client("c2_xz1_xx1_guanli").get(f"/ledger/{entry.pk}/").status_code == 404
    assert entry.name not in world.client("c2_xian_staff").get("/ledger/").content.decode()


def test_entry_page_offers_only_the_actions_the_user_may_take(world, entry):
    school = world.client("xz1_xx1_guanli").get(f"/ledger/{entry.pk}/").context["actions"]
    assert [a.value for a in school] == ["exclude", "confirm", "review", "update"]
    township = world.client("xz1_ganbu").get(f"/ledger/{entry.pk}/").context["actions"]
    assert [a.value for a in township] == ["review", "update"]
    supervisor = world.client("shi_dudao").get(f"/ledger/{entry.pk}/").context["actions"]
    assert supervisor == []


def test_action_page_refuses_a_role_with_403_and_a_wrong_state_with_the_reason(world, entry):
    assert world.client("xz1_ganbu").get(f"/ledger/{entry.pk}/confirm/").status_code == 403
    response = world.client("xian_staff").get(f"/ledger/{entry.pk}/approve/", follow=True)
    assert "不能执行“批准销号”" in response.content.decode()


def test_exclusion_without_a_reason_shows_the_error_and_changes_nothing(world, entry):
    response = world.client("xz1_xx1_guanli").post(f"/ledger/{entry.pk}/exclude/", {"note": ""})
    assert response.status_code == 200
    assert "该字段是必填项" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == State.PENDING


def test_report_from_the_student_page_and_confirm_records_the_dropout(world, child):
    client = world.client("xz1_xx1_guanli")
    assert child.name in client.get(f"/ledger/new/?student={child.pk}").content.decode()
    response = client.post(
        f"/ledger/new/?student={child.pk}",
        {"student": child.pk, "kind": "dropout", "source": "school_report", "reason": "work",
         "whereabouts": "working"},
    )  # fmt: skip
    entry = LedgerEntry.objects.get(student=child)
    assert response["Location"] == f"/ledger/{entry.pk}/"
    assert entry.state == State.CONFIRMED
    child.refresh_from_db()
    assert child.status == "dropped_out"


def test_report_finds_the_student_by_id_number_only_inside_the_area(world, child):
    other = make_student(world, "c2_xz1_xx1_guanli")
    form = {"kind": "suspected", "source": "school_report", "reason": "work",
            "whereabouts": "working"}  # fmt: skip
    client = world.client("xz1_xx1_guanli")
    response = client.post("/ledger/new/", {**form, "student_key": other.id_number})
    assert "找不到该身份证号或学籍号的学生" in response.content.decode()
    client.post("/ledger/new/", {**form, "student_key": child.id_number})
    assert LedgerEntry.objects.filter(student=child).exists()
    assert not LedgerEntry.objects.filter(student=other).exists()


def test_not_enrolled_child_needs_the_no_record_fields_on_the_form(world):
    client = world.client("xian_staff")
    township = world.user("xz1_ganbu").region
    form = {
        "kind": "not_enrolled", "source": "manual", "reason": "poverty",
        "whereabouts": "at_home", "record_check": "none", "name": "赵未入",
        "gender": "F", "birth_date": "2017-05-01", "hukou_region": township.code,
        "person_status": "在家务农", "family_situation": "父母外出",
        "department_opinion": "乡政府已登记",
    }  # fmt: skip
    response = client.post("/ledger/new/", form)
    assert response.status_code == 200
    assert "须填写父母联系方式" in response.content.decode()
    assert not LedgerEntry.objects.exists()
    # Every missing field of the check is named at once, each beside its field.
    bare = {k: v for k, v in form.items() if k not in ("person_status", "family_situation")}
    errors = client.post("/ledger/new/", bare).context["form"].errors
    assert {"person_status", "family_situation", "parent_contact"} <= set(errors)
    response = client.post("/ledger/new/", {**form, "parent_contact": "13812345678"})
    entry = LedgerEntry.objects.get()
    assert response["Location"] == f"/ledger/{entry.pk}/"
    assert (entry.kind, entry.student, entry.township) == ("not_enrolled", None, township)
    page = client.get(f"/ledger/{entry.pk}/").content.decode()
    assert "138****5678" in page and "13812345678" not in page  # §10: phones masked


def _to_proposal(world, entry, evidence=None):
    county, school = world.user("xian_staff"), world.user("xz1_xx1_guanli")
    entry = services.entry_confirm(by=school, entry=entry)
    return services.entry_propose_closure(
        by=school,
        entry=entry,
        reason=ClosureReason.DECEASED,
        evidence_text="" if evidence else "死亡证明",
        evidence_file=evidence,
    ), county


def test_closure_proposal_page_takes_an_evidence_file_and_refuses_other_types(world, entry):
    services.entry_confirm(by=world.user("xz1_xx1_guanli"), entry=entry)
    client = world.client("xz1_xx1_guanli")
    bad = SimpleUploadedFile("证明.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        f"/ledger/{entry.pk}/propose/", {"closure_reason": "deceased", "evidence_file": bad}
    )
    assert "证明材料只接受" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED
    good = SimpleUploadedFile("死亡证明.pdf", b"%PDF-1.4", content_type="application/pdf")
    client.post(
        f"/ledger/{entry.pk}/propose/", {"closure_reason": "deceased", "evidence_file": good}
    )
    event = EntryEvent.objects.get(entry=entry, action="propose")
    download = world.client("xian_staff").get(f"/ledger/evidence/{event.pk}/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4"
    assert world.client("c2_xian_staff").get(f"/ledger/evidence/{event.pk}/").status_code == 404
    # A file the storage has lost is said on the entry's page, not a server error.
    event.evidence.storage.delete(event.evidence.name)
    lost = world.client("xian_staff").get(f"/ledger/evidence/{event.pk}/", follow=True)
    assert lost.redirect_chain == [(f"/ledger/{entry.pk}/", 302)]
    assert "证明材料文件已丢失" in lost.content.decode()


def test_county_approves_on_the_page_but_not_its_own_proposal(world, entry):
    entry, county = _to_proposal(world, entry)
    response = world.client("xian_staff").post(f"/ledger/{entry.pk}/approve/", {"comment": "同意"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.state == State.CLOSED
    entry.student.refresh_from_db()
    assert entry.student.status == "deceased"

    other = make_student(world, name="周小刚")
    own = services.entry_create(by=county, data=entry_data(other))
    services.entry_confirm(by=county, entry=own)
    services.entry_propose_closure(by=county, entry=own, reason="error", evidence_text="重复")
    assert "approve" not in [
        a.value for a in world.client("xian_staff").get(f"/ledger/{own.pk}/").context["actions"]
    ]
    response = world.client("xian_staff").post(
        f"/ledger/{own.pk}/approve/", {"comment": ""}, follow=True
    )
    assert response.redirect_chain == [(f"/ledger/{own.pk}/", 302)]
    assert "不能审批自己提交的销号申请" in response.content.decode()
    own.refresh_from_db()
    assert own.state == State.PROPOSED


def _sheet(client, data=None):
    _, content = export_jobs.export(client, "/ledger/export/", data)
    return export_jobs.rows(content)


def test_export_is_a_job_of_the_filtered_list_masked_logged_and_only_for_its_requester(
    world, entry
):
    """Exports are jobs (issue 15 §6): the page queues the list as filtered, the file is the
    requester's alone, and the audit line carries the row count."""
    services.entry_create(
        by=world.user("xian_staff"), data=entry_data(make_student(world, name="=SUM(1)", grade=6))
    )
    client = world.client("xian_staff")
    job, content = export_jobs.export(client, "/ledger/export/")
    assert job.kind == JobKind.LEDGER_EXPORT and job.requested_by.username == "xian_staff"
    assert (job.done, job.total) == (2, 2)
    rows = export_jobs.rows(content)
    assert rows[0] == tuple(HEADINGS)
    ids = [row[HEADINGS.index("身份证号")] for row in rows[1:]]
    assert entry.masked_id_number in ids and entry.id_number not in ids
    sheet = load_workbook(io.BytesIO(content)).active
    formula = [c for c in sheet["B"] if c.value == "=SUM(1)"]
    assert len(formula) == 1 and formula[0].data_type == "s"
    assert AuditEvent.objects.filter(action="export", detail="导出控辍保学台账，共2行").exists()
    export_jobs.refused_to_others(job, world.client("xian_admin"), world.client("xz1_ganbu"))
    only = _sheet(client, {"grade": "6"})
    assert [row[1] for row in only[1:]] == ["=SUM(1)"]
    assert AuditEvent.objects.filter(action="export", detail="导出控辍保学台账，共1行").exists()


def test_export_is_read_again_as_the_requester_when_the_job_runs(world, entry):
    """The job reads the entries through jurisdiction at run time: an entry that left the
    requester's area after they asked is not in the file."""
    client = world.client("xz1_ganbu")
    job = export_jobs.start(client, "/ledger/export/")
    LedgerEntry.objects.filter(pk=entry.pk).update(
        township=world.user("xz2_ganbu").region, school=world.user("xz2_xx1_guanli").school
    )
    job = export_jobs.run(job)
    assert export_jobs.rows(export_jobs.download(client, job))[1:] == []


def test_export_page_takes_a_post_only(world, entry):
    assert world.client("xian_staff").get("/ledger/export/").status_code == 405


def test_export_with_full_ids_only_for_roles_that_may_reveal(world, entry):
    rows = _sheet(world.client("xian_staff"), {"reveal": "1"})
    assert entry.id_number in [row[HEADINGS.index("身份证号")] for row in rows[1:]]
    assert AuditEvent.objects.filter(action="reveal").exists()
    job = export_jobs.run(
        export_jobs.start(world.client("xz1_ganbu"), "/ledger/export/", {"reveal": "1"})
    )
    assert job.status == JobStatus.FAILED and "无权导出完整身份证号" in job.message
    assert not job.result


def test_consistency_page_lists_mismatches_for_the_county_only(world, child):
    student_services.event_record(
        by=world.user("xz1_xx1_guanli"),
        student=child,
        kind=EventKind.DROP_OUT,
        date=child.entry_date or timezone.localdate(child.created_at),
        reason="外出务工",
    )
    page = world.client("xian_staff").get("/ledger/consistency/").content.decode()
    assert "学籍为辍学但台账无在册记录" in page and child.name in page
    assert world.client("xz1_xx1_guanli").get("/ledger/consistency/").status_code == 403


@pytest.mark.parametrize("path", ["/ledger/", "/ledger/export/"])
def test_list_page_and_export_queries_do_not_grow_with_rows(world, path):
    # The export's queries are the job's: counted while it runs.
    """Overdue flags, reviewed terms and the term filter come from one read of the calendars,
    whatever the number of entries, schools and calendars (a school here overrides)."""
    today = timezone.localdate()
    add_term(Region.objects.get(code="532926"), today - datetime.timedelta(days=40), today)
    add_term(school_of(world, "xz1_xx4_guanli"), today - datetime.timedelta(days=30), today)
    services.entry_create(by=world.user("xian_staff"), data=unenrolled_data(world))
    client = world.client("xian_staff")

    def add(count):
        for _ in range(count):
            create_entry(world, make_student(world))
            create_entry(world, make_student(world, "xz1_xx4_guanli", grade=8), "xz1_xx4_guanli")

    def queries(params) -> int:
        if path == "/ledger/export/":
            job = export_jobs.start(client, path, params)
            with CaptureQueriesContext(connection) as captured:
                assert export_jobs.run(job).status == JobStatus.DONE
            return len(captured)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, params)
        assert response.status_code == 200
        return len(captured)

    for params in ({}, {"term": today.isoformat(), "overdue": "1", "key_group": "left_behind"}):
        add(1)
        few = queries(params)
        add(4)
        assert queries(params) == few, params


def test_list_filters_by_township_and_school_take_searched_codes(world, entry):
    """Townships and schools are searched, not listed (an area can hold thousands): the
    filters carry their codes, and one the area does not hold finds nothing, with the reason."""
    other = services.entry_create(
        by=world.user("xz2_xx1_guanli"),
        data=entry_data(make_student(world, "xz2_xx1_guanli", name="王小二")),
    )
    client = world.client("xian_staff")

    def listed(**params):
        response = client.get("/ledger/", params)
        assert response.status_code == 200
        return {e.pk for e in response.context["object_list"]}, response.content.decode()

    assert listed(township=entry.township.code)[0] == {entry.pk}
    assert listed(school=other.school.code)[0] == {other.pk}
    foreign = School.objects.filter(township__code__startswith="530102").first()
    found, page = listed(school=foreign.code)
    assert found == set() and "请从搜索结果中选择" in page
    rows = _sheet(client, {"township": other.township.code})
    assert [row[HEADINGS.index("姓名")] for row in rows[1:]] == ["王小二"]


def test_a_school_may_add_a_not_enrolled_child_on_the_page_as_on_the_api(world):
    """Who opens a 未入学 entry is one rule (issue 10, item 4): every creator may, a school
    included (002: the 中心校 keeps the ledger of children never enrolled); the page offers
    the kind to a school and the API takes it from one."""
    client = world.client("xz1_xx1_guanli")
    form = client.get("/ledger/new/").context["form"]
    assert "not_enrolled" in dict(form.fields["kind"].choices)
    township = world.user("xz1_ganbu").region
    response = client.post(
        "/ledger/new/",
        {
            "kind": "not_enrolled", "source": "school_report", "reason": "poverty",
            "whereabouts": "at_home", "record_check": "none", "name": "赵未入",
            "gender": "F", "birth_date": "2018-05-01", "hukou_region": township.code,
            "person_status": "在家", "family_situation": "父母外出",
            "parent_contact": "13812345678", "department_opinion": "村委会已登记",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    entry = LedgerEntry.objects.get(name="赵未入")
    assert response["Location"] == f"/ledger/{entry.pk}/"
    assert (entry.kind, entry.created_by.username) == ("not_enrolled", "xz1_xx1_guanli")
    assert entry.school == world.user("xz1_xx1_guanli").school  # the finding school keeps it
    api = world.token_client("xz1_xx1_guanli").post(
        "/api/v1/ledger-entries/",
        {
            "kind": "not_enrolled", "source": "school_report", "reason": "poverty",
            "whereabouts": "at_home", "record_check": "out_of_province", "name": "钱未入",
            "gender": "M", "birth_date": "2018-06-01", "hukou_region_code": township.code,
        },
        format="json",
    )  # fmt: skip
    assert api.status_code == 201, api.content
    assert LedgerEntry.objects.get(name="钱未入").kind == "not_enrolled"


# -- the way back to the filtered list (issue 11 §4) ---------------------------------------------


def test_list_above_the_county_shows_the_county_it_is_filtered_by(world, entry):
    """The province's home page links each county to ``/ledger/?county=<code>``: the list's
    筛选 panel holds the county and its summary names it, so the filter is seen and kept."""
    county = entry.township.parent
    client = world.client("sheng_dudao")
    response = client.get("/ledger/", {"state": "pending", "county": county.code})
    page = response.content.decode()
    assert [e.pk for e in response.context["object_list"]] == [entry.pk]
    assert f'data-testid="filter-county">：{county.name}<' in page
    assert f'name="county" value="{county.code}"' in page
    assert "filter-county" not in client.get("/ledger/").content.decode()
    # A county's own staff have no county filter.
    assert 'name="county"' not in world.client("xian_staff").get("/ledger/").content.decode()


def test_list_links_each_entry_with_the_filtered_list_to_come_back_to(world, entry):
    page = world.client("xian_staff").get("/ledger/", {"state": "pending", "page": "1"})
    back = "/ledger/%3Fstate%3Dpending%26page%3D1"
    assert f'href="/ledger/{entry.pk}/?back={back}"' in page.content.decode()


def test_an_action_keeps_the_filtered_list_through_its_form_and_redirect(world, entry):
    """From an entry opened from a filtered list, the action page's form carries ``back``, and
    after saving (or refusing) the entry's page still leads back to that list."""
    client = world.client("xz1_xx1_guanli")
    listed = "/ledger/?state=pending&grade=3"
    query = "back=%2Fledger%2F%3Fstate%3Dpending%26grade%3D3"
    detail = client.get(f"/ledger/{entry.pk}/", {"back": listed}).content.decode()
    assert f'href="/ledger/{entry.pk}/confirm/?{query}"' in detail
    form = client.get(f"/ledger/{entry.pk}/confirm/", {"back": listed}).content.decode()
    assert 'name="back" value="/ledger/?state=pending&amp;grade=3"' in form
    assert f'href="/ledger/{entry.pk}/?{query}" class="button">取消' in form
    done = client.post(f"/ledger/{entry.pk}/confirm/", {"note": "家访核实", "back": listed})
    assert done.status_code == 302 and done["Location"] == f"/ledger/{entry.pk}/?{query}"
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED
    page = client.get(done["Location"]).content.decode()
    assert (
        'data-testid="back-to-list">' in page
        and 'href="/ledger/?state=pending&amp;grade=3"' in (page)
    )
    # An action the entry's state no longer allows goes back to its page, the list kept.
    refused = client.post(f"/ledger/{entry.pk}/confirm/", {"note": "再次", "back": listed})
    assert refused["Location"] == f"/ledger/{entry.pk}/?{query}"
    # Without a list to return to, no parameter is added.
    plain = client.get(f"/ledger/{entry.pk}/review/").content.decode()
    assert 'name="back"' not in plain and f'href="/ledger/{entry.pk}/" class="button">取消' in plain
