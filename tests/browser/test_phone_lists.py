"""The lists on a 390 px phone (issue 11): every list page's rows are cards (the name as the
heading, the state and the facts that matter as labelled lines, the action as a full-width
target), nothing scrolls sideways, the filters fold into one 筛选 panel, and every link of the
top bar is at least 44×44 px. On a desktop the same pages keep their tables and open filters.

KONGCHUO_SCREENSHOTS names a folder to keep a screenshot of each page, scrolled to the card."""

import datetime
import os

import pytest

from accounts.models import School, SchoolClass, User
from accounts.notifications import mark_read, notify
from attendance.choices import Mark
from ledger import services as ledger_services
from students import services as student_services
from students.calendar import term_save
from students.choices import EventKind
from students.models import Student
from tests.attendance.conftest import AUTUMN, COUNTY, MON, PRINCIPAL, TEACHER, take
from tests.browser.conftest import login
from tests.ledger.conftest import create_entry
from tests.students.factories import student_data

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
STAFF = "xz1_xx1_guanli"
RECEIVER = "xz2_xx1_guanli"
# Long enough to wrap on a phone: a card must wrap it, never widen the page.
LONG_NAME = "欧阳娜仁其其格卓玛拉姆"


def shot(page, name: str, show=None) -> None:
    folder = os.environ.get("KONGCHUO_SCREENSHOTS")
    if folder:
        if show is not None:
            show.scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(folder, f"phone-lists-{name}.png"))


@pytest.fixture
def lists(live_world):
    """A row for each list: children of the class teacher's class, two of them on the
    ledger (one confirmed), two absent on a school Monday, one sent to another county
    school, one dropped out without an entry, and notifications for the principal."""
    admin = User.objects.get(role="county_admin", region__code=COUNTY)
    term_save(
        by=admin, owner=admin.region, name="2026-2027学年第一学期", start=AUTUMN[0], end=AUTUMN[1]
    )
    klass = SchoolClass.objects.get(head_teacher__username=TEACHER)
    staff = live_world.user(STAFF)
    names = [LONG_NAME, "张小兵", "李春花", "王建国", "赵小燕", "孙小梅"]
    children = {
        name: student_services.student_create(
            by=staff,
            data=student_data(staff.school, grade=klass.grade, klass=klass, name=name),
        )
        for name in names
    }
    create_entry(live_world, children[LONG_NAME])
    confirmed = create_entry(live_world, children["张小兵"])
    ledger_services.entry_confirm(by=staff, entry=confirmed, note="家访核实")
    take(
        live_world, klass, MON, {children["李春花"]: Mark.UNEXCUSED, children["王建国"]: Mark.SICK}
    )
    receiver = School.objects.get(pk=live_world.user(RECEIVER).school_id)
    student_services.event_record(
        by=staff,
        student=children["赵小燕"],
        kind=EventKind.TRANSFER_OUT,
        date=datetime.date.today(),
        reason="随父母迁居",
        to_school=receiver,
    )
    # 人账相符: a 辍学 学籍 with no ledger entry.
    student_services.event_record(
        by=staff,
        student=children["孙小梅"],
        kind=EventKind.DROP_OUT,
        date=datetime.date.today(),
        reason="外出务工",
    )
    principal = live_world.user(PRINCIPAL)
    notify(
        [principal],
        kind="ledger",
        title=f"{LONG_NAME}已登记为疑似辍学",
        body="请在三个工作日内核实。",
        link="/ledger/",
    )
    read = notify([principal], kind="general", title="本周考勤提醒")
    mark_read(principal, [n.pk for n in read])
    return children


DAY = f"/attendance/?date={MON.isoformat()}"


def _school_page() -> str:
    """The first 中心校's page, with its classes."""
    school = School.objects.get(pk=User.objects.get(username=STAFF).school_id)
    return f"/org/schools/{school.pk}/"


def _student_page() -> str:
    """The page of the child who dropped out: its 学籍异动 history."""
    return f"/students/{Student.objects.get(name='孙小梅').pk}/"


# (id, account, address — or a function of none giving it —, the table's test id, the rows'
# (name, state or main fact) — an empty name is the first row —, the label of a field the
# 筛选 panel shows when it opens, if any)
PAGES = [
    (
        "ledger",
        "xian_staff",
        "/ledger/",
        "entries",
        [(LONG_NAME, "待核实"), ("张小兵", "已确认辍学")],
        "状态",
    ),
    ("students", STAFF, "/students/", "students", [("李春花", "在读")], "学籍状态"),
    ("transfers", RECEIVER, "/students/transfers/", "transfers", [("赵小燕", "随父母迁居")], None),
    ("student-events", STAFF, _student_page, "student-events", [("辍学", "外出务工")], None),
    (
        "notifications",
        PRINCIPAL,
        "/notifications/",
        "notifications",
        [(LONG_NAME, "台账提醒"), ("本周考勤提醒", "已读")],
        None,
    ),
    ("accounts", "xian_admin", "/accounts/", "accounts", [("xian_staff", "在用")], "用户名或姓名"),
    ("attendance", PRINCIPAL, DAY, "absences", [("李春花", "旷课"), ("王建国", "病假")], "学校"),
    ("attendance-area", "xian_staff", DAY, "area", [("南涧镇中心学校", "")], "学校"),
    ("schools", "xian_staff", "/org/schools/", "schools", [("南涧镇中心学校", "小学")], "办学类型"),
    ("regions", "xian_admin", "/org/regions/", "regions", [("南涧镇", "乡镇")], "搜索区划"),
    ("audit", "xian_admin", "/audit/", "audit-events", [("", "")], "操作人账号"),
    ("school", "xian_admin", _school_page, "classes", [("1班", "")], None),
    ("consistency", "xian_staff", "/ledger/consistency/", "mismatches", [("孙小梅", "辍学")], None),
]


def open_as(browser, live_server, viewport, username, password):
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        viewport=viewport,
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, username, password)
    return page


def no_sideways_scroll(page) -> None:
    sizes = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes}"


def table_of(page, testid):
    """The list's table: the element with ``testid`` or the table inside it."""
    found = page.get_by_test_id(testid)
    return found if found.evaluate("e => e.tagName") == "TABLE" else found.locator("table")


def card(table, name: str):
    rows = table.locator("tbody tr")
    return rows.filter(has_text=name).first if name else rows.first


def label_of(cell) -> str:
    return cell.evaluate("c => getComputedStyle(c, '::before').content")


def assert_target(locator, what: str) -> None:
    box = locator.bounding_box()
    assert box is not None, f"{what} is not shown"
    assert box["width"] >= 44 and box["height"] >= 44, f"{what} is only {box}"


def assert_nav_targets(page) -> list:
    """Every visible link and button of the top bar is a 44×44 target; returns them."""
    shown = [
        target
        for target in page.locator(".topbar a, .topbar button, .topbar label").all()
        if target.is_visible()
    ]
    assert shown
    for target in shown:
        assert_target(target, f"top bar target {target.inner_text()!r}")
    return shown


def assert_cards(page, testid: str, rows) -> None:
    """The list's rows are cards: nearly the page's width, the header row hidden, the name
    as the heading and the facts as labelled lines below it, the actions 44 px tall."""
    width = page.evaluate("document.documentElement.clientWidth")
    table = table_of(page, testid)
    assert not table.locator("thead").is_visible()
    for name, fact in rows:
        row = card(table, name)
        assert row.evaluate("r => getComputedStyle(r).display") == "flex"
        box = row.bounding_box()
        # Nearly the page's width (less the margins, and a section's padding around the table).
        assert box["width"] >= width - 64 and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert name in row.inner_text() and fact in row.inner_text()
        cells = [cell for cell in row.locator("td").all() if cell.is_visible()]
        heading = min(cells, key=lambda cell: cell.bounding_box()["y"])
        if name:
            # An account's card is headed by the person's name, its user name a line below.
            title = User.objects.get(username=name).full_name if testid == "accounts" else name
            assert title in heading.inner_text()
        assert heading.evaluate("c => Number(getComputedStyle(c).fontWeight)") >= 600
        assert heading.get_attribute("data-label") is None
        lines = [cell for cell in cells if cell.get_attribute("data-label")]
        assert len(lines) >= 2
        for cell in lines:
            assert label_of(cell) == f'"{cell.get_attribute("data-label")}"'
            assert cell.bounding_box()["y"] > heading.bounding_box()["y"]
        for hidden in row.locator("td.phone-hide").all():
            assert not hidden.is_visible()
        link = heading.locator("a")
        if link.count():
            assert link.first.bounding_box()["height"] >= 44
        for target in row.locator("td.actions a, td.actions button").all():
            target_box = target.bounding_box()
            assert target_box["height"] >= 44, target.inner_text()
            assert target_box["width"] >= 88, target.inner_text()
        shot(page, testid, row)


def assert_folded_filters(page, field: str | None) -> None:
    """The filters are one folded 筛选 panel that opens on a tap, showing its fields."""
    panels = page.locator("details.filter-panel")
    if field is None:
        assert panels.count() == 0
        return
    assert panels.count() == 1
    panel = panels.first
    assert not panel.evaluate("d => d.open")
    control = page.get_by_label(field, exact=True)
    assert not control.is_visible()
    summary = panel.locator("summary")
    assert summary.inner_text().startswith("筛选")
    assert_target(summary, "the 筛选 summary")
    summary.tap()
    assert panel.evaluate("d => d.open")
    assert control.is_visible()
    assert control.bounding_box()["height"] >= 44
    assert_target(panel.locator("button[type=submit]"), "the filter's submit button")
    no_sideways_scroll(page)
    shot(page, f"filters-{field}")


def assert_table(page, testid: str, rows, field: str | None) -> None:
    """On a desktop the list is a table with its header and every column, the filters open."""
    table = table_of(page, testid)
    assert table.locator("thead").is_visible()
    for name, _ in rows:
        row = card(table, name)
        assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
        assert row.locator("td").first.evaluate("c => getComputedStyle(c).display") == "table-cell"
        assert table.locator("thead th").count() == row.locator("td").count()
        assert all(cell.is_visible() for cell in row.locator("td").all())
    panel = page.locator("details.filter-panel")
    if field is not None:
        assert panel.evaluate("d => d.open")
        assert page.get_by_label(field, exact=True).is_visible()


@pytest.fixture
def signed_in(browser, live_server, live_world):
    """``signed_in(username, viewport)``: a page logged in as ``username`` at ``viewport``,
    one login per account and viewport for the whole test; closed at its end."""
    pages = {}

    def get(username, viewport):
        key = (username, viewport["width"])
        if key not in pages:
            pages[key] = open_as(browser, live_server, viewport, username, live_world.password)
        return pages[key]

    yield get
    for page in pages.values():
        page.context.close()


def each_page(signed_in, viewport):
    """Every list of PAGES, loaded once as its account: (id, page, table test id, rows,
    field)."""
    for name, username, path, testid, rows, field in PAGES:
        page = signed_in(username, viewport)
        page.goto(path() if callable(path) else path)
        yield name, page, testid, rows, field


def test_lists_are_cards_on_a_phone(signed_in, lists):
    """Each list at 390 px: nothing scrolls sideways, the rows are cards, the filters one
    folded 筛选 panel, the top bar's targets 44×44 px — and the phone's top bar, its unread
    count and the 筛选 panel's summary of what is applied."""
    # First, before the notifications list is opened: the unread count after logging in.
    assert_unread_count_in_the_tab_bar(signed_in(PRINCIPAL, PHONE))
    for name, page, testid, rows, field in each_page(signed_in, PHONE):
        try:
            no_sideways_scroll(page)
            assert_cards(page, testid, rows)
            assert_folded_filters(page, field)
            assert_nav_targets(page)
        except AssertionError as error:
            raise AssertionError(f"{name} on a phone: {error}") from error
    assert_panel_says_how_many_filters_are_applied(signed_in("xian_staff", PHONE))
    assert_compact_top_bar_with_a_menu(signed_in("xian_admin", PHONE))


def test_lists_are_tables_on_a_desktop(signed_in, lists):
    """The same lists at 1366 px: tables with every column, the filters open, the top bar
    one row of 44×44 targets, the account and 退出 included."""
    for name, page, testid, rows, field in each_page(signed_in, DESKTOP):
        try:
            no_sideways_scroll(page)
            assert_table(page, testid, rows, field)
            assert not page.locator(".nav-toggle-label").is_visible()
            assert page.get_by_test_id("me").is_visible()
            assert_nav_targets(page)
            assert page.locator("header.topbar").bounding_box()["height"] <= 60
            shot(page, f"desktop-{testid}")
        except AssertionError as error:
            raise AssertionError(f"{name} on a desktop: {error}") from error


def assert_panel_says_how_many_filters_are_applied(page) -> None:
    """The folded panel's summary counts the filters the list was sent with, and the panel
    keeps their values; choosing without submitting changes nothing."""
    page.goto("/ledger/?state=confirmed&grade=1&q=")
    summary = page.locator("details.filter-panel summary")
    assert summary.inner_text() == "筛选（已选 2 项）"
    assert not page.locator("details.filter-panel").evaluate("d => d.open")
    rows = table_of(page, "entries").locator("tbody tr")
    assert rows.count() == 1 and "张小兵" in rows.first.inner_text()
    summary.tap()
    assert page.get_by_label("状态", exact=True).input_value() == "confirmed"
    assert page.get_by_label("年级", exact=True).input_value() == "1"
    page.get_by_label("类别", exact=True).select_option("suspected")
    assert summary.inner_text() == "筛选（已选 2 项）"
    page.goto("/ledger/")
    assert page.locator("details.filter-panel summary").inner_text() == "筛选"


def assert_compact_top_bar_with_a_menu(page) -> None:
    """The phone's top bar: low, five 44×44 tabs, the rest (and the account) behind a menu
    of full-width lines."""
    page.goto("/ledger/")
    no_sideways_scroll(page)
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 100, header  # the page starts near the top
    shown = {target.inner_text().strip() for target in assert_nav_targets(page)}
    assert {"首页", "学生", "考勤", "台账", "通知"} <= shown
    assert not page.get_by_role("link", name="账号", exact=True).is_visible()
    assert not page.get_by_test_id("me").is_visible()

    page.locator(".nav-toggle-label").tap()
    for name in ("学校", "区划", "账号", "审计日志"):
        link = page.get_by_role("link", name=name, exact=True)
        assert link.is_visible(), name
        assert link.bounding_box()["width"] >= 300, name  # a full-width line to tap
    assert page.get_by_test_id("me").is_visible()
    assert_nav_targets(page)
    assert_target(page.get_by_role("button", name="退出"), "退出")
    no_sideways_scroll(page)
    shot(page, "menu-open")
    page.get_by_role("link", name="账号", exact=True).tap()
    page.wait_for_url("**/accounts/")
    assert page.locator("h1").inner_text() == "账号管理"


def assert_unread_count_in_the_tab_bar(page) -> None:
    unread = page.get_by_test_id("unread-count")
    assert unread.is_visible() and unread.inner_text() == "1"
    assert_target(page.get_by_role("link", name="通知"), "通知")
    no_sideways_scroll(page)
