"""Who viewed a child (issue 15 §4): opening a student's page, a ledger entry or a 劝返 case,
by page or API detail, writes one audit row per user, record and hour; the principal and the
county see "谁查看过该学生" on the student page, others do not."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import audit, selectors, views_log
from accounts.choices import AuditAction
from accounts.models import AuditEvent
from tests.ledger.conftest import head_class, make_student
from tests.returns.conftest import open_case

pytestmark = pytest.mark.django_db

PRINCIPAL, TEACHER = "xz1_xx1_xiaozhang", "xz1_xx1_banzhuren"
COUNTY_STAFF, COUNTY_ADMIN, OFFICIAL = "xian_staff", "xian_admin", "xz1_ganbu"
OUTSIDER = "c2_xian_staff"  # county B's staff


@pytest.fixture
def child(world):
    return make_student(world, grade=1, klass=head_class(world))


@pytest.fixture
def records(world, child):
    """The child, their confirmed ledger entry and its 劝返 case, by kind."""
    case = open_case(world, child)
    return {"student": child, "entry": case.entry, "case": case}


PAGES = {
    "student": "/students/{}/",
    "entry": "/ledger/{}/",
    "case": "/returns/{}/",
}
APIS = {
    "student": "/api/v1/students/{}/",
    "entry": "/api/v1/ledger-entries/{}/",
    "case": "/api/v1/return-cases/{}/",
}
LISTS = ["/students/", "/ledger/", "/returns/", *(p.format("")[:-1] for p in APIS.values())]


def views_of(obj, username=None):
    rows = AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type=obj._meta.label, object_id=str(obj.pk)
    )
    return rows.filter(actor_name=username) if username else rows


def early_in_the_hour(monkeypatch):
    """Stop the clock five minutes into the current hour: views are counted per clock hour,
    so "a minute later" must not cross into the next one."""
    moved = timezone.now().replace(minute=5, second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: moved)


def later(monkeypatch, **delta):
    moved = timezone.now() + datetime.timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moved)


# -- one row per user, record and hour ---------------------------------------------------------


@pytest.mark.parametrize("interface", ["page", "api"])
@pytest.mark.parametrize("kind", ["student", "entry", "case"])
def test_a_view_is_recorded_once_an_hour_per_user_and_record(
    world, records, monkeypatch, kind, interface
):
    obj = records[kind]
    path = (PAGES if interface == "page" else APIS)[kind].format(obj.pk)
    early_in_the_hour(monkeypatch)
    client = world.client(COUNTY_STAFF)

    assert client.get(path).status_code == 200
    (row,) = views_of(obj)
    assert (row.actor_name, row.object_repr) == (COUNTY_STAFF, str(obj)[:200])
    assert row.detail == f"{'页面' if interface == 'page' else '接口'} {path}"
    assert row.region_code == obj.audit_region_code

    later(monkeypatch, minutes=1)
    assert client.get(path).status_code == 200
    assert views_of(obj).count() == 1  # a second view within the hour writes nothing

    world.client(PRINCIPAL if kind != "case" else OFFICIAL).get(path)
    assert views_of(obj).count() == 2  # another user is another row

    later(monkeypatch, hours=1, minutes=1)
    # A new login: the session has expired meanwhile (30 idle minutes).
    assert world.client(COUNTY_STAFF).get(path).status_code == 200
    assert views_of(obj, COUNTY_STAFF).count() == 2  # the next hour, a new row


def test_the_database_check_holds_when_the_cache_lost_its_keys(world, child):
    staff = world.user(COUNTY_STAFF)
    assert views_log.record_view(staff, child, via="页面 /students/") is not None
    cache.clear()
    assert views_log.record_view(staff, child, via="页面 /students/") is None
    assert views_of(child).count() == 1


def test_a_view_already_counted_this_hour_costs_no_query(world, child):
    staff = world.user(COUNTY_STAFF)
    views_log.record_view(staff, child, via="接口 /api/v1/students/")
    with CaptureQueriesContext(connection) as queries:
        assert views_log.record_view(staff, child, via="接口 /api/v1/students/") is None
    assert len(queries) == 0


@pytest.mark.parametrize("kind", ["student", "entry", "case"])
def test_an_out_of_area_404_writes_no_view(world, records, kind):
    obj = records[kind]
    client = world.client(OUTSIDER)
    assert client.get(PAGES[kind].format(obj.pk)).status_code == 404
    assert client.get(APIS[kind].format(obj.pk)).status_code == 404
    assert not views_of(obj).exists()


@pytest.mark.parametrize("path", LISTS)
def test_list_pages_and_api_lists_write_no_view(world, records, path):
    response = world.client(COUNTY_STAFF).get(path)
    assert response.status_code == 200
    assert str(records["student"].name) in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()


def test_a_merged_record_redirect_is_not_a_view_of_it(world, child):
    duplicate = make_student(world, grade=1, klass=head_class(world))
    type(duplicate).objects.filter(pk=duplicate.pk).update(merged_into=child)
    response = world.client(COUNTY_STAFF).get(f"/students/{duplicate.pk}/")
    assert response.status_code == 302
    assert not views_of(duplicate).exists()


# -- the panel on the student page -------------------------------------------------------------


def panel(world, username, child) -> str:
    """The viewers panel of the student page as ``username`` gets it ("" when not shown)."""
    response = world.client(username).get(f"/students/{child.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    start = content.find('data-testid="viewers-panel"')
    return "" if start < 0 else content[start : content.index("</section>", start)]


@pytest.mark.parametrize("username", [PRINCIPAL, COUNTY_STAFF, COUNTY_ADMIN])
def test_the_principal_and_the_county_see_who_viewed_the_child_and_its_records(
    world, records, username
):
    world.client(OFFICIAL).get(APIS["case"].format(records["case"].pk))
    world.client(COUNTY_STAFF).get(PAGES["entry"].format(records["entry"].pk))
    shown = panel(world, username, records["student"])
    assert "谁查看过该学生" in shown
    official, staff = world.user(OFFICIAL), world.user(COUNTY_STAFF)
    assert official.full_name in shown and "乡镇干部" in shown
    assert f"接口 /api/v1/return-cases/{records['case'].pk}/" in shown
    assert staff.full_name in shown and "县教体局工作人员" in shown
    assert f"页面 /ledger/{records['entry'].pk}/" in shown
    # Newest first: the viewer's own view of the page leads.
    assert shown.index(f"页面 /students/{records['student'].pk}/") < shown.index("/ledger/")
    assert shown.index("/ledger/") < shown.index("/api/v1/return-cases/")


@pytest.mark.parametrize("username", [TEACHER, OFFICIAL, "xz1_xx1_guanli"])
def test_others_do_not_see_the_panel(world, child, username):
    world.client(COUNTY_STAFF).get(PAGES["student"].format(child.pk))
    assert panel(world, username, child) == ""
    assert selectors.child_views(world.user(username), child).count() == 0


def test_an_outsider_gets_no_views_from_the_selector(world, child):
    world.client(COUNTY_STAFF).get(PAGES["student"].format(child.pk))
    assert selectors.child_views(world.user(OUTSIDER), child).count() == 0
    assert selectors.child_views(world.user(COUNTY_STAFF), child).count() == 1


def test_the_panel_links_the_county_admin_to_the_child_in_the_audit_trail(world, records):
    other = make_student(world, grade=1, klass=head_class(world))
    for obj, path in [(records["entry"], PAGES["entry"]), (other, PAGES["student"])]:
        world.client(COUNTY_STAFF).get(path.format(obj.pk))
    child = records["student"]
    link = f"/audit/?action=view&amp;child={child.pk}"
    assert link in panel(world, COUNTY_ADMIN, child)
    assert "viewers-all" not in panel(world, PRINCIPAL, child)  # no audit page for them
    events = selectors.audit_events(world.user(COUNTY_ADMIN), action="view", child=child.pk)
    assert sorted(e.object_type for e in events) == [
        "ledger.LedgerEntry",
        "students.Student",
        "students.Student",
    ]
    assert {e.object_id for e in events} == {str(records["entry"].pk), str(child.pk)}
    # The link itself: the audit page lists this child's views, not the other child's.
    page = world.client(COUNTY_ADMIN).get(f"/audit/?action=view&child={child.pk}")
    shown = {event.object_id for event in page.context["page_obj"]}
    assert shown == {str(records["entry"].pk), str(child.pk)}


def test_the_panel_shows_the_latest_views_and_says_there_are_more(world, child):
    staff = world.user(COUNTY_STAFF)
    for _ in range(12):
        audit.record(actor=staff, action=AuditAction.VIEW, obj=child, detail="接口 /api/")
    shown = panel(world, PRINCIPAL, child)
    assert shown.count("<tr><td") == 10
    assert "只列出最近10次查看" in shown


def test_the_student_page_queries_do_not_grow_with_the_views(world, child):
    client = world.client(PRINCIPAL)
    staff = world.user(COUNTY_STAFF)

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/students/{child.pk}/").status_code == 200
        return len(captured)

    queries()  # the principal's own view of this hour is written; later ones are checked
    few = queries()
    for _ in range(15):
        audit.record(actor=staff, action=AuditAction.VIEW, obj=child, detail="页面 /students/")
    assert queries() == few
