"""Issue 13 rule 4: merging two records of the same child. Events, guardians, ledger entries,
attendance, 劝返 cases and comparison mismatches end up with the kept record; the merge is
audited and explained by a MergeRecord; nothing is lost (every related table is counted
before and after); refusals say why."""

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, SchoolClass
from attendance.choices import Mark
from attendance.models import AttendanceMark
from attendance.selectors import on_roll
from comparisons.choices import Disposition, MismatchKind, SourceKind
from comparisons.models import Mismatch, MismatchDisposition, Run, Source
from kongchuo.errors import AppError
from ledger.models import EntryEvent, LedgerEntry
from returns.models import ReturnCase
from students import merge, services
from students.choices import EventKind, Status
from students.models import EnrollmentEvent, Guardian, MergeRecord, Student, Transfer
from students.services import GuardianData
from tests.attendance.conftest import MON, TUE, WED, klass, take, terms  # noqa: F401
from tests.ledger.conftest import create_entry
from tests.returns.conftest import open_case
from tests.students.factories import student_data

SCHOOL_USER = "xz1_xx1_guanli"
COUNTY_USER = "xian_staff"
REASON = "同一孩子重复建档，已电话核实"
TABLES = (
    Student,
    Guardian,
    EnrollmentEvent,
    Transfer,
    LedgerEntry,
    EntryEvent,
    AttendanceMark,
    ReturnCase,
    Mismatch,
    MismatchDisposition,
    MergeRecord,
)


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in TABLES}


def child(world, klass, *, klass_of=None, **overrides) -> Student:  # noqa: F811
    """A new student of ``klass`` (or ``klass_of``), registered by the school's staff."""
    data = student_data(
        klass.school,
        grade=klass.grade,
        klass=klass_of or klass,
        **{"student_number": "", **overrides},
    )
    return services.student_create(by=world.user(SCHOOL_USER), data=data)


def other_class(klass) -> SchoolClass:  # noqa: F811
    return SchoolClass.objects.create(
        school=klass.school, grade=klass.grade, name="9班", school_year=klass.school_year
    )


def mismatch_about(world, student) -> Mismatch:
    """A comparison's disagreement about ``student`` and a disposition made on it."""
    user = world.user(COUNTY_USER)
    county = user.region
    source = Source.objects.create(
        county=county,
        kind=SourceKind.POVERTY,
        name="扶贫名单.xlsx",
        sha256="0" * 64,
        size=1,
        uploaded_by=user,
    )
    run = Run.objects.create(county=county, kind=SourceKind.POVERTY, source=source)
    found = Mismatch.objects.create(
        run=run,
        county=county,
        kind=MismatchKind.POVERTY_FLAG,
        key="k",
        fingerprint="f",
        student=student,
        school=student.school,
        township=student.school.township,
        name=student.name,
    )
    MismatchDisposition.objects.create(
        county=county,
        key="k",
        fingerprint="f",
        mismatch=found,
        disposition=Disposition.EXPLAINED,
        student=student,
        by=user,
    )
    return found


@pytest.fixture
def scene(world, klass):  # noqa: F811
    """``keep``: the child registered without an ID number in the head teacher's class;
    ``merged``: the same child again, with ID number and 学籍号, in another class of the
    school, with a transfer sent back, a confirmed dropout entry with a 劝返 case, three
    attendance marks (two on days the kept record has attendance) and a mismatch."""
    keep = child(world, klass, with_id=False, name="李小明")
    second = other_class(klass)
    merged = child(
        world,
        klass,
        name="李 小明",
        klass_of=second,
        student_number="G5329262000001",
        guardians=[
            GuardianData(name="李大山", relation="父亲", phone="13812345678"),
            GuardianData(name="王小花", relation="母亲", phone="13900001111"),
        ],
    )
    take(world, klass, MON)  # the kept record present
    take(world, second, MON, {merged: Mark.UNEXCUSED})
    take(world, klass, TUE, {keep: Mark.SICK})
    take(world, second, TUE, {merged: Mark.PERSONAL})
    take(world, second, WED, {merged: Mark.UNEXCUSED})
    transfer = services.event_record(
        by=world.user(SCHOOL_USER),
        student=merged,
        kind=EventKind.TRANSFER_OUT,
        date=timezone.localdate(),
        reason="随父母迁居",
        to_school=world.user("xz2_xx1_guanli").school,
    )
    services.transfer_decide(by=world.user("xz2_xx1_guanli"), transfer=transfer, accept=False)
    case = open_case(world, merged)
    found = mismatch_about(world, merged)
    return {"keep": keep, "merged": merged, "case": case, "mismatch": found}


def do_merge(world, keep, merged, username=SCHOOL_USER):
    return services.student_merge(by=world.user(username), keep=keep, merge=merged, reason=REASON)


def test_rule_4_merge_moves_every_related_row_and_loses_nothing(world, scene):
    keep, merged = scene["keep"], scene["merged"]
    number, student_number = merged.id_number, merged.student_number
    merged_events = list(merged.events.values_list("pk", flat=True))
    before = counts()

    record = do_merge(world, keep, merged)

    after = counts()
    # Rows are moved, not deleted: only the guardian the kept record already had and the two
    # marks of days the kept record has attendance go, and both are kept in the MergeRecord.
    assert after == {
        **before,
        "Guardian": before["Guardian"] - 1,
        "AttendanceMark": before["AttendanceMark"] - 2,
        "EnrollmentEvent": before["EnrollmentEvent"] + 1,  # the merge's 学籍 event
        "MergeRecord": 1,
    }
    assert record.moved == {
        "监护人": 1,
        "转学申请": 1,
        "台账记录": 1,
        "缺勤记录": 1,
        "劝返案件": 1,
        "比对不一致": 1,
    }
    keep.refresh_from_db()
    merged.refresh_from_db()
    assert not Guardian.objects.filter(student=merged).exists()
    assert sorted(keep.guardians.values_list("name", flat=True)) == ["李大山", "王小花"]
    assert [g["name"] for g in record.snapshot["guardians"]] == ["李大山", "王小花"]
    assert Transfer.objects.get().student == keep
    assert LedgerEntry.objects.get().student == keep
    assert ReturnCase.objects.get().entry.student == keep
    assert Mismatch.objects.get().student == keep
    # Dispositions are append-only: they stay on the merged record, which resolves to keep.
    assert MismatchDisposition.objects.get().student == merged
    # Attendance: the kept record's own, and the merged one's day the kept one lacked.
    assert list(keep.marks.values_list("date", "status")) == [
        (TUE, Mark.SICK),
        (WED, Mark.UNEXCUSED),
    ]
    assert not merged.marks.exists()
    assert any(f"{MON:%Y-%m-%d}" in note and "旷课" in note for note in record.notes)
    assert any(f"{TUE:%Y-%m-%d}" in note and "事假" in note for note in record.notes)
    # The events stay on the merged record (append-only) and are part of keep's history.
    history = set(merge.history(keep).values_list("pk", flat=True))
    assert set(merged_events) < history
    assert merged.events.last().kind == EventKind.MERGE
    # Fields the kept record lacked come from the merged one; numbers stay unique.
    assert (keep.id_number, keep.student_number) == (number, student_number)
    assert (merged.id_number, merged.student_number) == (None, None)
    assert "身份证号" in record.filled and "学籍号" in record.filled
    assert record.snapshot["id_number"] == number and record.snapshot["name"] == "李 小明"
    # The merged record is kept, marked, and points to the kept one.
    assert merged.status == Status.MERGED and merged.merged_into == keep
    assert (record.kept, record.merged, record.by.username, record.reason) == (
        keep,
        merged,
        SCHOOL_USER,
        REASON,
    )


def test_rule_4_merge_is_audited_without_the_id_number(world, scene):
    keep, merged = scene["keep"], scene["merged"]
    number = merged.id_number
    do_merge(world, keep, merged)
    kept = AuditEvent.objects.get(
        object_type="students.Student", object_id=str(keep.pk), detail__contains="合并重复记录"
    )
    assert REASON in kept.detail
    assert kept.changes["id_number"] == ["", "[已隐藏]"]
    gone = AuditEvent.objects.filter(
        object_type="students.Student", object_id=str(merged.pk), detail__contains="已合并到"
    )
    assert gone.exists()
    entry = LedgerEntry.objects.get()
    assert AuditEvent.objects.filter(
        object_type="ledger.LedgerEntry", object_id=str(entry.pk), detail__contains="学生记录合并"
    ).exists()
    assert not AuditEvent.objects.filter(changes__icontains=number).exists()
    assert not AuditEvent.objects.filter(detail__contains=number).exists()


def test_rule_4_the_merged_pk_resolves_to_the_kept_record_and_is_not_listed(world, scene):
    keep, merged = scene["keep"], scene["merged"]
    do_merge(world, keep, merged)
    client = world.client(SCHOOL_USER)
    answer = client.get(f"/students/{merged.pk}/")
    assert answer.status_code == 302 and answer["Location"] == f"/students/{keep.pk}/"
    page = client.get(f"/students/{keep.pk}/").content.decode()
    assert 'data-testid="student-merges"' in page and REASON in page
    assert "合并重复记录" in page  # the merged record's events are in the kept one's history
    listed = client.get("/students/?q=李").context["object_list"]
    assert keep in listed and merged not in listed
    assert merged in client.get("/students/?status=merged").context["object_list"]


def test_rule_4_a_sync_client_reads_the_merge_status_merged_and_the_kept_record(world, scene):
    """The API keeps listing a merged record (a syncing system must hear of the change) with
    its status and the record it was merged into."""
    keep, merged = scene["keep"], scene["merged"]
    do_merge(world, keep, merged)
    client = world.token_client(SCHOOL_USER)
    shown = client.get(f"/api/v1/students/{merged.pk}/").json()
    assert (shown["status"], shown["merged_into"]) == ("merged", keep.pk)
    assert client.get(f"/api/v1/students/{keep.pk}/").json()["merged_into"] is None


def test_rule_4_a_merged_record_takes_no_writes(world, scene):
    keep, merged = scene["keep"], scene["merged"]
    do_merge(world, keep, merged)
    merged.refresh_from_db()
    user = world.user(SCHOOL_USER)
    with pytest.raises(AppError, match="已合并"):
        services.event_record(
            by=user, student=merged, kind=EventKind.DROP_OUT, date=WED, reason="测试"
        )
    with pytest.raises(AppError, match="疑似重复学生"):
        services.event_record(by=user, student=keep, kind=EventKind.MERGE, date=WED, reason="测试")
    with pytest.raises(AppError, match="已合并"):
        do_merge(world, keep, merged)


def test_rule_4_a_chain_of_merges_resolves_to_the_last_kept_record(world, klass):  # noqa: F811
    first = child(world, klass, with_id=False, name="赵一")
    second = child(world, klass, with_id=False, name="赵一")
    third = child(world, klass, name="赵一")
    do_merge(world, second, first)
    do_merge(world, third, second)
    first.refresh_from_db()
    assert first.merged_into == third
    assert set(first.events.values_list("pk", flat=True)) < set(
        merge.history(third).values_list("pk", flat=True)
    )
    assert set(merge.merges(third).values_list("merged", flat=True)) == {first.pk, second.pk}


def test_rule_4_two_open_ledger_entries_refuse_the_merge_and_nothing_changes(world, klass):  # noqa: F811
    """The ledger's rule: one child, one open entry — close the duplicate one first (信息错误/重复)."""
    keep = child(world, klass, name="钱二")
    merged = child(world, klass, with_id=False, name="钱二")
    create_entry(world, keep)
    create_entry(world, merged)
    before = counts()
    with pytest.raises(AppError, match="信息错误/重复"):
        do_merge(world, keep, merged)
    assert counts() == before
    merged.refresh_from_db()
    assert merged.status == Status.ENROLLED and merged.merged_into is None


def test_rule_4_one_open_entry_moves_to_a_kept_record_with_a_closed_one(world, klass):  # noqa: F811
    keep = child(world, klass, name="孙三")
    merged = child(world, klass, with_id=False, name="孙三")
    create_entry(world, merged)
    record = do_merge(world, keep, merged)
    assert record.moved["台账记录"] == 1 and keep.ledger_entries.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("id", "身份证号不同"),
        ("number", "学籍号不同"),
        ("transfer", "待接收的转学申请"),
        ("reason", "请填写合并原因"),
        ("county", "管辖范围"),
    ],
)
def test_rule_4_refusals_say_why(world, klass, change, message):  # noqa: F811
    keep = child(world, klass, name="周四", student_number="G5329262000002")
    merged = child(world, klass, name="周四", with_id=change == "id")
    if change != "id":
        merged.id_number = None
        merged.save()
    if change == "number":
        Student.objects.filter(pk=merged.pk).update(student_number="G999")
    if change == "transfer":
        services.event_record(
            by=world.user(SCHOOL_USER),
            student=merged,
            kind=EventKind.TRANSFER_OUT,
            date=timezone.localdate(),
            reason="迁居",
            to_school=world.user("xz2_xx1_guanli").school,
        )
    username = "c2_xian_staff" if change == "county" else SCHOOL_USER
    with pytest.raises(AppError, match=message):
        services.student_merge(
            by=world.user(username),
            keep=keep,
            merge=merged,
            reason="" if change == "reason" else REASON,
        )
    merged.refresh_from_db()
    assert merged.merged_into is None


def test_rule_4_a_county_user_merges_across_the_schools_of_the_county(world, klass):  # noqa: F811
    keep = child(world, klass, name="吴五")
    user = world.user("xz2_xx1_guanli")
    data = student_data(user.school, grade=keep.grade, name="吴五", with_id=False)
    merged = services.student_create(by=user, data=data)
    with pytest.raises(AppError, match="管辖范围"):  # a school user: not across schools
        do_merge(world, keep, merged)
    record = do_merge(world, keep, merged, username=COUNTY_USER)
    assert record.merged == merged and record.by.username == COUNTY_USER


# -- The pages


def test_rule_4_merge_page_confirms_which_record_to_keep_and_tells_what_moved(world, scene):
    keep, merged = scene["keep"], scene["merged"]
    client = world.client(SCHOOL_USER)
    url = f"/students/duplicates/{keep.pk}/{merged.pk}/merge/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "保留哪一条记录" in html and html.count('data-testid="duplicate-side"') == 2
    assert merged.id_number not in html
    missing = client.post(url, {"keep": keep.pk, "reason": ""})
    assert missing.status_code == 200 and not MergeRecord.objects.exists()
    done = client.post(url, {"keep": keep.pk, "reason": REASON}, follow=True)
    assert done.redirect_chain[-1][0] == f"/students/{keep.pk}/"
    text = done.content.decode()
    assert "合并到本记录" in text and "台账记录1条" in text and "缺勤记录1条" in text
    assert MergeRecord.objects.get().kept == keep


def test_rule_4_merge_page_shows_a_refusal_on_the_form(world, klass):  # noqa: F811
    keep = child(world, klass, name="郑六")
    merged = child(world, klass, with_id=False, name="郑六")
    create_entry(world, keep)
    create_entry(world, merged)
    url = f"/students/duplicates/{keep.pk}/{merged.pk}/merge/"
    answer = world.client(SCHOOL_USER).post(url, {"keep": keep.pk, "reason": REASON})
    assert answer.status_code == 200 and "信息错误/重复" in answer.content.decode()


def test_rule_4_merge_page_outside_the_area_is_404_and_for_a_class_teacher_403(world, scene):
    keep, merged = scene["keep"], scene["merged"]
    url = f"/students/duplicates/{keep.pk}/{merged.pk}/merge/"
    assert world.client("c2_xian_staff").get(url).status_code == 404
    assert world.client("xz2_xx1_guanli").get(url).status_code == 404
    assert world.client("xz1_xx1_banzhuren").get(url).status_code == 403
    assert (
        world.client("xz1_xx1_banzhuren").post(url, {"keep": keep.pk, "reason": REASON}).status_code
        == 403
    )
    dismiss = f"/students/duplicates/{keep.pk}/{merged.pk}/dismiss/"
    assert world.client("c2_xian_staff").post(dismiss).status_code == 404
    assert not MergeRecord.objects.exists()


def test_rule_4_merged_records_drop_out_of_the_rolls(world, klass):  # noqa: F811
    keep = child(world, klass, name="冯七")
    merged = child(world, klass, with_id=False, name="冯七")
    assert merged in on_roll(klass)
    do_merge(world, keep, merged)
    assert merged not in on_roll(klass) and keep in on_roll(klass)
