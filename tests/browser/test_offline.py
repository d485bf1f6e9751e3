"""Offline on the phone (issue 17), with the browser context set offline: a roll taken
offline is sent once the connection returns and the 疑似辍学 rule runs on it; replaying it
gives one roll; a conflict on a class-day and on a case is shown with both versions and
resolved without loss; logging out (after the warning about unsent items) wipes the cache and
the outbox."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Region, SchoolClass, User
from attendance.choices import Mark
from attendance.models import AttendanceMark, OfflineRoll, RollCall
from ledger.models import LedgerEntry
from returns.models import CaseAction
from students import calendar
from students.calendar import day_set, term_save
from students.models import DayKind
from tests.attendance.conftest import COUNTY, PRINCIPAL, TEACHER, open_to_teachers, pupil, take
from tests.browser.conftest import login
from tests.returns.conftest import OFFICIAL, visit, working
from tests.returns.test_offline import PNG

pytestmark = [pytest.mark.browser]


@pytest.fixture
def today_class(live_world):
    """County A in session today (a term around today, today a working day), past days
    open to the class teacher, the teacher's class with three pupils."""
    county = Region.objects.get(code=COUNTY)
    admin = User.objects.get(role="county_admin", region=county)
    today = timezone.localdate()
    term_save(
        by=admin,
        owner=county,
        name="离线测试学期",
        start=today - datetime.timedelta(days=20),
        end=today + datetime.timedelta(days=20),
    )
    if today.weekday() >= 5:
        day_set(by=admin, owner=county, date=today, kind=DayKind.WORKDAY, note="调休")
    open_to_teachers()
    klass = SchoolClass.objects.get(head_teacher__username=TEACHER)
    return klass, [pupil(live_world, klass) for _ in range(3)]


def controlled(page, path: str) -> None:
    """Open ``path`` until the service worker controls it and has kept it (the first visit
    installs the worker, the second goes through it)."""
    page.goto(path)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.reload()
    page.wait_for_load_state()
    assert is_kept(page, path)


def is_kept(page, path: str) -> bool:
    """Whether the worker has kept ``path`` (polled for up to 10 s: it keeps pages after
    answering them)."""
    return page.evaluate(
        """async (path) => {
          for (let i = 0; i < 100; i++) {
            const cache = await caches.open("kongchuo-pages");
            if (await cache.match(path, {ignoreVary: true})) return true;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          return false;
        }""",
        path,
    )


def outbox(page):
    return page.get_by_test_id("outbox")


def roll_url(klass) -> str:
    return f"/attendance/{klass.pk}/{timezone.localdate().isoformat()}/"


def mark(page, name: str, label: str) -> None:
    page.get_by_test_id("roll-row").filter(has_text=name).get_by_role("radio", name=label).tap()


def test_a_roll_taken_offline_is_sent_online_runs_the_rule_and_a_replay_gives_one_roll(
    phone, live_world, today_class
):
    klass, pupils = today_class
    child = pupils[0]
    today = timezone.localdate()
    for day in calendar.calendar_for(klass.school_id).previous_school_days(today, 2):
        take(live_world, klass, day, {child: Mark.UNEXCUSED})
    login(phone, TEACHER, live_world.password)
    controlled(phone, roll_url(klass))

    phone.context.set_offline(True)
    phone.goto(roll_url(klass))  # from the phone's cache
    assert phone.get_by_test_id("roll-row").count() == 3
    mark(phone, child.name, "旷课")
    mark(phone, pupils[1].name, "病假")
    phone.get_by_role("button", name="提交考勤").tap()
    assert "已保存在手机上" in phone.get_by_test_id("offline-saved").inner_text()
    assert outbox(phone).get_by_test_id("outbox-count").inner_text() == "待上传 1 条"
    assert not RollCall.objects.filter(klass=klass, date=today).exists()
    sent = phone.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("kongchuo-offline");
          open.onsuccess = () => {
            const all = open.result.transaction("outbox").objectStore("outbox").getAll();
            all.onsuccess = () => resolve(all.result[0]);
          };
        })"""
    )

    phone.context.set_offline(False)
    done = outbox(phone).get_by_test_id("outbox-done")
    done.wait_for()
    text = done.inner_text()
    assert "考勤：已提交（缺勤/请假2人）" in text
    assert f"{child.name}已连续旷课，已登记为疑似辍学" in text
    assert outbox(phone).get_by_test_id("outbox-count").count() == 0
    roll = RollCall.objects.get(klass=klass, date=today)
    assert dict(AttendanceMark.objects.filter(roll=roll).values_list("student", "status")) == {
        child.pk: Mark.UNEXCUSED,
        pupils[1].pk: Mark.SICK,
    }
    assert LedgerEntry.objects.filter(student=child).count() == 1

    # The same submission sent twice more (a phone that never heard the answer).
    answers = phone.evaluate(
        """async (item) => {
          const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
          const send = () => fetch(item.url, {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token},
            body: JSON.stringify(item.fields)}).then((r) => r.json());
          return [await send(), await send()];
        }""",
        sent,
    )
    assert [a["replayed"] for a in answers] == [True, True]
    assert {a["roll"] for a in answers} == {roll.pk}
    assert RollCall.objects.filter(klass=klass, date=today).count() == 1
    assert OfflineRoll.objects.count() == 1
    assert LedgerEntry.objects.filter(student=child).count() == 1


def offline_roll(phone, live_world, klass, pupil, status: str) -> None:
    """The class teacher, offline on a page opened once online, marks ``pupil`` and submits:
    the roll waits in the outbox."""
    login(phone, TEACHER, live_world.password)
    controlled(phone, roll_url(klass))
    phone.context.set_offline(True)
    phone.goto(roll_url(klass))
    mark(phone, pupil.name, status)
    phone.get_by_role("button", name="提交考勤").tap()
    outbox(phone).get_by_test_id("outbox-count").wait_for()


def test_a_class_day_changed_meanwhile_is_shown_with_both_versions_and_mine_is_kept(
    phone, live_world, today_class
):
    klass, pupils = today_class
    offline_roll(phone, live_world, klass, pupils[2], "事假")
    # Meanwhile the principal takes the roll on the school's computer.
    take(live_world, klass, timezone.localdate(), {pupils[0]: Mark.LATE}, user=PRINCIPAL)

    phone.context.set_offline(False)
    conflict = outbox(phone).get_by_test_id("conflict")
    conflict.wait_for()
    item = outbox(phone).get_by_test_id("outbox-item")
    assert "请选择保留哪一份" in conflict.inner_text()
    assert f"{pupils[2].name}：事假" in item.inner_text()  # mine
    assert f"{pupils[0].name}：迟到" in item.inner_text()  # the server's
    assert outbox(phone).get_by_test_id("outbox-count").inner_text() == "待上传 1 条"
    roll = RollCall.objects.get(klass=klass, date=timezone.localdate())
    assert list(roll.marks.values_list("student", "status")) == [(pupils[0].pk, Mark.LATE)]

    item.get_by_test_id("keep-mine").tap()
    outbox(phone).get_by_test_id("outbox-done").wait_for()
    assert "考勤：已修改" in outbox(phone).get_by_test_id("outbox-done").inner_text()
    assert list(roll.marks.values_list("student", "status")) == [(pupils[2].pk, Mark.PERSONAL)]


def test_a_visit_recorded_offline_with_a_photo_conflicts_with_a_change_and_is_kept(
    phone, live_world, tmp_path
):
    from tests.ledger.conftest import head_class, make_student

    child = make_student(live_world, grade=1, klass=head_class(live_world))
    case = working(live_world, child)
    login(phone, OFFICIAL, live_world.password)
    controlled(phone, "/returns/?mine=1")
    form_url = f"/returns/{case.pk}/action/"
    # "我的劝返案件" and the visit form of each of the cadre's cases are kept.
    assert is_kept(phone, form_url)

    phone.context.set_offline(True)
    phone.goto("/returns/?mine=1")
    phone.get_by_test_id("case-row").filter(has_text=child.name).get_by_test_id("visit-link").tap()
    phone.wait_for_load_state()
    photo = tmp_path / "visit.png"
    photo.write_bytes(PNG)
    phone.get_by_label("劝返情况及结果").fill("离线上门：家长答应下周一送孩子返校")
    phone.locator("input[type=file]").set_input_files(str(photo))
    phone.get_by_test_id("save-visit").tap()
    assert "含1个附件" in phone.get_by_test_id("offline-saved").inner_text()
    # Meanwhile another team member records a visit: the case's version moves on.
    visit(live_world, case, result="电话联系监护人")

    phone.context.set_offline(False)
    conflict = outbox(phone).get_by_test_id("conflict")
    conflict.wait_for()
    item = outbox(phone).get_by_test_id("outbox-item")
    assert "已有变动" in conflict.inner_text()
    assert "离线上门：家长答应下周一送孩子返校" in item.inner_text()  # mine
    assert "状态：劝返中" in item.inner_text()  # the server's
    assert not CaseAction.objects.filter(case=case, result__startswith="离线上门").exists()

    item.get_by_test_id("keep-mine").tap()
    outbox(phone).get_by_test_id("outbox-done").wait_for()
    assert "已登记（上门，附件1个）" in outbox(phone).get_by_test_id("outbox-done").inner_text()
    kept = CaseAction.objects.get(case=case, result__startswith="离线上门")
    assert kept.attachments.count() == 1
    assert CaseAction.objects.filter(case=case).count() == 2  # nothing lost


def test_a_visit_on_a_case_reassigned_away_meanwhile_says_where_it_went_and_is_kept(
    phone, live_world
):
    from returns import services
    from tests.ledger.conftest import head_class, make_student, township
    from tests.returns.conftest import COUNTY_USER, open_case
    from tests.returns.test_offline import FORMER

    child = make_student(live_world, grade=1, klass=head_class(live_world))
    case = open_case(
        live_world, child, township=township(live_world, FORMER), reason="监护人在该乡镇务工"
    )
    services.case_acknowledge(by=live_world.user(FORMER), case=case)
    login(phone, FORMER, live_world.password)
    controlled(phone, "/returns/?mine=1")
    assert is_kept(phone, f"/returns/{case.pk}/action/")

    phone.context.set_offline(True)
    phone.goto("/returns/?mine=1")
    phone.get_by_test_id("case-row").filter(has_text=child.name).get_by_test_id("visit-link").tap()
    phone.wait_for_load_state()
    phone.get_by_label("劝返情况及结果").fill("离线上门：孩子已随父母迁回")
    phone.get_by_test_id("save-visit").tap()
    phone.get_by_test_id("offline-saved").wait_for()
    # Meanwhile the county reassigns the case to xz1: the cadre of xz2 no longer sees it.
    services.case_reassign(
        by=live_world.user(COUNTY_USER),
        case=case,
        township=township(live_world, OFFICIAL),
        reason="家庭已迁回",
    )

    phone.context.set_offline(False)
    conflict = outbox(phone).get_by_test_id("conflict")
    conflict.wait_for()
    item = outbox(phone).get_by_test_id("outbox-item")
    assert f"改派至{township(live_world, OFFICIAL).name}" in conflict.inner_text()
    assert f"已改派至：{township(live_world, OFFICIAL).name}" in item.inner_text()
    assert "离线上门：孩子已随父母迁回" in item.inner_text()  # mine
    assert not CaseAction.objects.filter(case=case).exists()

    item.get_by_test_id("keep-mine").tap()
    outbox(phone).get_by_test_id("outbox-done").wait_for()
    kept = CaseAction.objects.get(case=case, result="离线上门：孩子已随父母迁回")
    assert kept.recorded_by == live_world.user(FORMER)


def test_a_roll_dropped_for_the_servers_leaves_the_servers_and_logout_wipes_the_cache(
    phone, live_world, today_class
):
    klass, pupils = today_class
    offline_roll(phone, live_world, klass, pupils[1], "旷课")
    take(live_world, klass, timezone.localdate(), {pupils[0]: Mark.SICK}, user=PRINCIPAL)
    phone.context.set_offline(False)
    outbox(phone).get_by_test_id("conflict").wait_for()

    # 退出 with an unsent item warns first; cancelling keeps everything.
    dialogs = []

    def answer(dialog, accept):
        dialogs.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    phone.once("dialog", lambda dialog: answer(dialog, False))
    phone.locator(".nav-toggle-label").tap()
    with phone.expect_event("dialog"):
        phone.get_by_role("button", name="退出").tap()
    assert "还有 1 条离线记录没有上传" in dialogs[0]
    assert outbox(phone).get_by_test_id("outbox-count").inner_text() == "待上传 1 条"
    assert phone.get_by_test_id("me").count() == 1

    # 采用服务器上的: mine is dropped, the server's stays.
    phone.get_by_test_id("keep-server").tap()
    assert "已采用服务器上的版本" in outbox(phone).get_by_test_id("outbox-done").inner_text()
    roll = RollCall.objects.get(klass=klass, date=timezone.localdate())
    assert list(roll.marks.values_list("student", "status")) == [(pupils[0].pk, Mark.SICK)]

    # A second offline item, then 退出 confirmed: the cached pages and the outbox are gone.
    phone.context.set_offline(True)
    phone.goto(roll_url(klass))
    mark(phone, pupils[2].name, "病假")
    phone.get_by_role("button", name="提交考勤").tap()
    outbox(phone).get_by_test_id("outbox-count").wait_for()
    phone.context.set_offline(False)
    phone.route("**/api/v1/attendance/offline/", lambda route: route.abort())
    phone.once("dialog", lambda dialog: answer(dialog, True))
    phone.locator(".nav-toggle-label").tap()
    with phone.expect_event("dialog"):
        phone.get_by_role("button", name="退出").tap()
    phone.wait_for_url("**/login/**")
    assert "还有 1 条" in dialogs[1]
    kept = phone.evaluate(
        """async () => {
          const pages = await (await caches.open("kongchuo-pages")).keys();
          const dbs = (await indexedDB.databases()).map((db) => db.name);
          return {pages: pages.map((r) => r.url), dbs};
        }"""
    )
    assert kept == {"pages": [], "dbs": []}
    phone.context.set_offline(True)
    phone.goto(roll_url(klass))
    assert phone.get_by_test_id("offline-notice").count() == 1
    assert phone.get_by_test_id("roll-row").count() == 0
