"""The comparisons' result pages (issue 13, "what users get" 2–4): the runs with a progress
bar, a run's counts by kind and township and what changed since the previous run, the
mismatch list with its filters and one-click follow-ups, the 三统一 view; every page saying
what happened and what to do next, and each user seeing their own area only (rule 6)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import home
from comparisons import services
from comparisons.choices import Disposition, MismatchKind, RunStatus, SourceKind, Strength
from comparisons.models import Mismatch
from ledger.choices import EntryKind
from ledger.models import LedgerEntry
from students.choices import EventKind
from students.models import Student
from students.services import event_record
from tests.comparisons.results import (
    COUNTY_B,
    first_school,
    make_mismatch,
    make_row,
    make_run,
    make_source,
    not_enrolled,
)
from tests.comparisons.test_services import COMPLETION
from tests.ledger.conftest import create_entry, make_student

pytestmark = pytest.mark.django_db

COUNTY, SCHOOL, TOWNSHIP, TEACHER = "xian_staff", "xz1_xx1_guanli", "xz1_ganbu", "xz1_xx1_banzhuren"
LIST = "/comparisons/mismatches/"


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def handled(mismatch) -> str | None:
    found = Mismatch.objects.select_related("handled").get(pk=mismatch.pk).handled
    return found.disposition if found else None


# -- runs ----------------------------------------------------------------------------------------


def test_the_run_list_shows_a_progress_bar_for_a_run_under_way(world):
    running = make_run(make_source(), status=RunStatus.RUNNING)
    done = make_run(make_source(kind=SourceKind.POVERTY))
    html = page(world.client(COUNTY).get("/comparisons/"))
    assert f'data-run-progress="/comparisons/runs/{running.pk}/progress/"' in html
    assert 'value="40"' in html and "已完成 4 / 10 步" in html
    assert "js/comparisons.js" in html and "<noscript>" in html  # works without JS too
    assert f'href="/comparisons/mismatches/?run={done.pk}"' in html
    assert "可以离开本页，稍后回来查看结果" in html


def test_the_progress_endpoint_answers_json_for_the_area_only(world):
    run = make_run(make_source(), status=RunStatus.RUNNING)
    progress = world.client(COUNTY).get(f"/comparisons/runs/{run.pk}/progress/").json()
    assert progress["percent"] == 40 and progress["finished"] is False
    assert progress["status_label"] == "比对中"
    other = make_run(make_source(COUNTY_B), status=RunStatus.RUNNING)
    assert world.client(COUNTY).get(f"/comparisons/runs/{other.pk}/progress/").status_code == 404


def test_the_run_page_counts_by_kind_and_township_and_tells_what_changed(world):
    source = make_source()
    first = make_run(source)
    second = make_run(source, previous=first)
    second.changes = {"new": 1, "same": 1, "changed": 0, "gone": 2}
    second.save()
    make_mismatch(second, key="a", change="new")
    mismatch = make_mismatch(second, key="b", change="same")
    html = page(world.client(COUNTY).get(f"/comparisons/runs/{second.pk}/"))
    assert (
        f"/comparisons/mismatches/?run={second.pk}&amp;kind={MismatchKind.NOT_ENROLLED.value}"
    ) in html
    assert f"?run={second.pk}&amp;township={mismatch.township.code}" in html
    assert f"?run={second.pk}&amp;change=new" in html and "已消除：2 条" in html
    assert f'href="/comparisons/runs/{first.pk}/"' in html


def test_a_running_run_can_be_cancelled_from_its_page(world):
    run = make_run(make_source(), status=RunStatus.QUEUED)
    client = world.client(COUNTY)
    assert 'data-testid="run-cancel"' in page(client.get(f"/comparisons/runs/{run.pk}/"))
    response = client.post(f"/comparisons/runs/{run.pk}/cancel/", follow=True)
    assert "已取消比对" in said(response)[0]
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    # A township official sees no runs (they are the county's) and cannot cancel one.
    assert world.client(TOWNSHIP).post(f"/comparisons/runs/{run.pk}/cancel/").status_code == 404


# -- the mismatch list ---------------------------------------------------------------------------


def test_the_list_offers_each_mismatch_its_follow_ups(world):
    student = make_student(world)
    run = make_run(make_source(kind=SourceKind.POVERTY))
    unenrolled = make_mismatch(run, kind=MismatchKind.POVERTY_NOT_IN_LEDGER)
    flag = make_mismatch(
        run, kind=MismatchKind.POVERTY_FLAG, student=student, strength=Strength.ID, key="flag"
    )
    html = page(world.client(COUNTY).get(LIST))
    assert f"/comparisons/mismatches/{unenrolled.pk}/open-entry/?back=" in html
    assert f'action="/comparisons/mismatches/{flag.pk}/correct-flag/"' in html
    assert f"/comparisons/mismatches/{flag.pk}/open-entry/" not in html
    assert f"/comparisons/mismatches/{flag.pk}/explain/" in html
    # A township official may open the entry and explain, but keeps no 学籍.
    township_html = page(world.client(TOWNSHIP).get(LIST))
    assert f"/comparisons/mismatches/{unenrolled.pk}/open-entry/" in township_html
    assert f"/comparisons/mismatches/{flag.pk}/correct-flag/" not in township_html
    # A class teacher sees the school's mismatches but does not handle them.
    assert "/explain/" not in page(world.client(TEACHER).get(LIST))


def test_the_list_filters_and_masks_id_numbers(world):
    run = make_run(make_source())
    weak = make_mismatch(run, key="w", strength=Strength.WEAK)
    plain = make_mismatch(run, key="p")
    client = world.client(COUNTY)
    html = page(client.get(LIST, {"strength": "weak"}))
    assert weak.masked_id_number in html and plain.masked_id_number not in html
    assert weak.id_number not in html
    assert "待确认是否同一人" in html
    html = page(client.get(LIST, {"q": plain.id_number}))
    assert plain.masked_id_number in html and weak.masked_id_number not in html
    html = page(client.get(LIST, {"township": weak.township.code, "handled": "0"}))
    assert "共 2 条" in html
    assert "共 0 条" in page(client.get(LIST, {"township": "999999999"}))


def test_a_school_lists_only_its_own_mismatches(world):
    """Rule 6: a school its own, a township its own, the county all."""
    run = make_run(make_source())
    school = first_school()
    mine = make_mismatch(run, key="mine", school=school, township=None)
    township_only = make_mismatch(run, key="township")
    listed = {m.pk for m, _, _ in world.client(SCHOOL).get(LIST).context["rows"]}
    assert listed == {mine.pk}
    listed = {m.pk for m, _, _ in world.client(COUNTY).get(LIST).context["rows"]}
    assert listed == {mine.pk, township_only.pk}
    assert world.client("c2_xian_staff").get(LIST).context["paginator"].count == 0


def test_explaining_from_the_list_goes_back_to_the_same_filtered_list(world):
    mismatch = not_enrolled()
    client = world.client(TOWNSHIP)
    back = f"{LIST}?kind=not_enrolled&handled=0"
    form = page(client.get(f"/comparisons/mismatches/{mismatch.pk}/explain/", {"back": back}))
    assert "说明为什么这条不一致不需要" in form
    refused = client.post(f"/comparisons/mismatches/{mismatch.pk}/explain/", {"note": ""})
    assert "这个字段是必填项" in page(refused) or "必填" in page(refused)
    response = client.post(
        f"/comparisons/mismatches/{mismatch.pk}/explain/",
        {"note": "已随父母到昆明就读，提供了在读证明", "back": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert handled(mismatch) == Disposition.EXPLAINED
    followed = client.get(back)
    assert "下次比对时，数据不变的这条不一致仍为已处理" in said(followed)[0]
    # Somewhere else than the list is never a way back.
    other = not_enrolled()
    response = client.post(
        f"/comparisons/mismatches/{other.pk}/explain/",
        {"note": "核实无误", "back": "https://example.com/comparisons/mismatches/"},
    )
    assert response["Location"] == LIST


def test_opening_an_entry_starts_from_the_list_and_lands_on_the_entry(world):
    mismatch = not_enrolled()
    row = mismatch.source_row
    client = world.client(TOWNSHIP)
    url = f"/comparisons/mismatches/{mismatch.pk}/open-entry/"
    form = client.get(url).context["form"]
    assert form.initial["name"] == row.name and form.initial["id_number"] == row.id_number
    assert form.initial["hukou_region"] == row.region
    assert "student" not in form.fields and "kind" not in form.fields
    body = {
        "name": row.name,
        "gender": row.gender,
        "birth_date": row.birth_date.isoformat(),
        "id_number": row.id_number,
        "hukou_region": row.region.code,
        **COMPLETION,
    }
    missing = client.post(url, {**body, "person_status": ""})
    assert "须填写人员现状" in page(missing)
    response = client.post(url, body, follow=True)
    entry = LedgerEntry.objects.get()
    assert response.redirect_chain[-1][0] == f"/ledger/{entry.pk}/"
    assert "已登记到台账（未入学，来源：数据比对）" in said(response)[0]
    assert entry.kind == EntryKind.NOT_ENROLLED and handled(mismatch) == Disposition.ENTRY_OPENED


def test_correcting_a_flag_and_confirming_a_weak_match_from_the_list(world):
    student = make_student(world)
    run = make_run(make_source(kind=SourceKind.POVERTY))
    flag = make_mismatch(
        run,
        kind=MismatchKind.POVERTY_FLAG,
        student=student,
        strength=Strength.ID,
        key="f",
        school=student.school,
    )
    client = world.client(SCHOOL)
    response = client.post(
        f"/comparisons/mismatches/{flag.pk}/correct-flag/", {"back": LIST}, follow=True
    )
    assert f"已更正{student.name}的学生标识，现为：建档立卡/脱贫家庭" in said(response)[0]
    assert Student.objects.get(pk=student.pk).poverty_registered

    other = make_student(world, name="赵小刚")
    weak = make_mismatch(
        run, student=other, strength=Strength.WEAK, key="weak", school=other.school
    )
    html = page(client.get(LIST))
    assert f"确认是{other.name}" in html
    response = client.post(
        f"/comparisons/mismatches/{weak.pk}/link-student/", {"student": other.pk, "back": LIST}
    )
    assert response.status_code == 302 and handled(weak) == Disposition.LINKED


def test_a_weak_flag_match_asks_for_confirmation_on_its_page(world):
    student = make_student(world)
    run = make_run(make_source(kind=SourceKind.POVERTY))
    weak = make_mismatch(run, kind=MismatchKind.POVERTY_FLAG, student=student, strength="weak")
    client = world.client(COUNTY)
    assert f"/comparisons/mismatches/{weak.pk}/correct-flag/?back=" in page(client.get(LIST))
    refused = client.post(f"/comparisons/mismatches/{weak.pk}/correct-flag/", {})
    assert "请先核对确认是同一个孩子" in page(refused)
    client.post(f"/comparisons/mismatches/{weak.pk}/correct-flag/", {"confirmed": "on"})
    assert handled(weak) == Disposition.FLAG_CORRECTED


def test_a_follow_up_page_refuses_who_may_not_and_hides_what_is_elsewhere(world):
    mismatch = not_enrolled()
    url = f"/comparisons/mismatches/{mismatch.pk}/explain/"
    assert world.client(TEACHER).get(url).status_code == 404  # not assigned to the school
    assert world.client("shi_dudao").get(url).status_code == 403
    assert world.client("c2_xian_staff").get(url).status_code == 404
    correct = f"/comparisons/mismatches/{mismatch.pk}/correct-flag/"
    assert world.client(TOWNSHIP).get(correct).status_code == 403


# -- 三统一 ----------------------------------------------------------------------------------------


def test_three_way_puts_ledger_dropouts_and_poverty_list_side_by_side(world):
    """DOMAIN.md §5 (000): per township, every disagreement a link."""
    dropout = make_student(world)
    event_record(
        by=world.user(SCHOOL),
        student=dropout,
        kind=EventKind.DROP_OUT,
        date=datetime.date.today(),
        reason="外出务工",
    )
    in_ledger = make_student(world, name="钱小红")
    entry = create_entry(world, in_ledger, kind=EntryKind.SUSPECTED)
    source = make_source(kind=SourceKind.POVERTY)
    poor = make_row(source, name="孙小兵")
    make_row(source, name=in_ledger.name, id_number=in_ledger.id_number)  # has a 学籍
    missing = make_mismatch(make_run(source), kind=MismatchKind.POVERTY_NOT_IN_LEDGER, row=poor)
    township = missing.township

    html = page(world.client(COUNTY).get("/comparisons/three-way/"))
    row = html.split(f'data-testid="township-{township.code}"')[1].split("</tr>")[0]
    assert '<a href="/ledger/?open=1&amp;township=' in row and f">{1}</a>" in row
    assert 'data-testid="dropouts">1<' in row and 'data-testid="poverty">1<' in row
    assert f'href="/students/{dropout.pk}/"' in row and "学籍为辍学，台账无在册记录" in row
    assert (
        f"/comparisons/mismatches/?kind=poverty_not_in_ledger&amp;township={township.code}" in row
    )
    assert entry.township == township
    summary = html.split('data-testid="three-way-summary">')[1].split("</p>")[0]
    assert "有 1 个乡镇存在不一致" in summary
    assert "合计：台账在册 1 人，学籍辍学 1 人，扶贫名单失学 1 人。" in summary


# -- the home page -------------------------------------------------------------------------------


WED = datetime.date(2026, 9, 9)


def _home_items(world, username):
    return {item.key: item for item in home.work(home.desk(world.user(username), WED))}


def test_home_counts_the_open_mismatches_by_kind_for_the_county_and_per_county_above(world):
    run = make_run(make_source())
    make_mismatch(run, key="a")
    make_mismatch(run, key="b", kind=MismatchKind.ELSEWHERE_UNRECORDED)
    done = make_mismatch(run, key="c")
    mine = make_mismatch(run, key="d", school=first_school(), township=None)
    services.explain(by=world.user(COUNTY), mismatch=done, note="已核实")
    item = _home_items(world, COUNTY)["comparisons-open"]
    assert item.count == 3 and item.url == "/comparisons/mismatches/?handled=0"
    assert [(line.label, line.status) for line in item.lines] == [
        (MismatchKind.NOT_ENROLLED.label, "2条"),
        (MismatchKind.ELSEWHERE_UNRECORDED.label, "1条"),
    ]
    assert item.lines[0].url == "/comparisons/mismatches/?handled=0&kind=not_enrolled"
    # A school its own; a township with nothing assigned sees no item at all.
    assert _home_items(world, SCHOOL)["comparisons-open"].count == 1
    assert "comparisons-open" not in _home_items(world, "xz2_ganbu")
    assert "comparisons-open" not in _home_items(world, TEACHER)
    # Above the county, per county.
    above = _home_items(world, "sheng_dudao")["comparisons-open"]
    assert above.by_county == {run.county_id: 3}
    assert mine.school is not None


def test_the_lists_cost_the_same_queries_however_many_rows_they_show(world):
    """No N+1 (issue 10, item 9): the mismatch list with students, handled ones and actions,
    and the run list."""
    source = make_source(kind=SourceKind.POVERTY)
    run = make_run(source)
    client = world.client(COUNTY)

    def add(n):
        for _ in range(n):
            student = make_student(world)
            flag = make_mismatch(
                run, kind=MismatchKind.POVERTY_FLAG, student=student, strength=Strength.ID
            )
            services.explain(by=world.user(COUNTY), mismatch=make_mismatch(run), note="已核实")
            assert flag.pk
            make_run(source, status=RunStatus.RUNNING)

    def queries(url) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add(1)
    few = (queries(LIST), queries("/comparisons/"))
    add(4)
    assert (queries(LIST), queries("/comparisons/")) == few


def test_three_way_above_the_county_asks_for_a_county_first(world):
    client = world.client("sheng_dudao")
    response = client.get("/comparisons/three-way/")
    assert "请先选择一个县" in page(response) and response.context["rows"] == []
    county = first_school(COUNTY_B).township.parent
    response = client.get("/comparisons/three-way/", {"county": county.code})
    townships = {row.township.parent_id for row in response.context["rows"]}
    assert townships == {county.pk}
