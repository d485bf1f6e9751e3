"""The ledger entry page as a verification call needs it (issue 11, item 4): for an entry
the attendance rule opened, the unexcused days that opened it; the guardians' contacts on
the same terms as the student page (masked, one audited reveal); and a way back to the
filtered list the user came from."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent, Region
from attendance import services as attendance_services
from attendance.choices import Mark
from attendance.models import AttendanceRules
from ledger import services
from ledger.choices import Source
from ledger.models import LedgerEntry
from students import calendar
from tests.ledger.conftest import (
    SCHOOL_USER,
    add_term,
    create_entry,
    head_class,
    make_student,
    unenrolled_data,
)

pytestmark = pytest.mark.django_db

PHONE, MASKED = "13812345678", "138****5678"
PRINCIPAL = "xz1_xx1_xiaozhang"


@pytest.fixture
def term(world):
    today = timezone.localdate()
    county = Region.objects.get(code="532926")
    return add_term(county, today - datetime.timedelta(days=80), today + datetime.timedelta(30))


@pytest.fixture
def child(world):
    return make_student(world, grade=1, klass=head_class(world))


def take(world, klass, day, marks):
    return attendance_services.submit(
        by=world.user(PRINCIPAL),
        klass=klass,
        day=day,
        marks=[attendance_services.MarkData(student=s.pk, status=m) for s, m in marks.items()],
    )


def school_days(child, count):
    return calendar.calendar_for(child.school_id).previous_school_days(timezone.localdate(), count)


@pytest.fixture
def flagged(world, child, term):
    """An entry the attendance rule opened: the child 旷课 on three school days running, the
    last of them four school days ago; then present."""
    days = school_days(child, 6)
    for day in days[:3]:
        take(world, child.klass, day, {child: Mark.UNEXCUSED})
    take(world, child.klass, days[3], {})
    entry = LedgerEntry.objects.get(student=child)
    assert entry.source == Source.ATTENDANCE
    return entry, days[:3]


def page(world, username, entry, **params) -> str:
    response = world.client(username).get(f"/ledger/{entry.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


def run_days(html: str) -> list[str]:
    return re.findall(r'data-testid="run-day" data-date="([\d-]+)"', html)


# -- the days that opened the entry -------------------------------------------------------------


def test_an_entry_of_the_attendance_rule_shows_the_unexcused_days_that_opened_it(world, flagged):
    entry, days = flagged
    shown = page(world, SCHOOL_USER, entry)
    assert run_days(shown) == [day.isoformat() for day in days]
    assert f"连续3个上学日无故缺勤（{days[0].month}月{days[0].day}日" in shown
    assert "达到3天，自动登记" in shown
    assert entry.found_on == days[2]


def test_a_correction_that_breaks_the_run_is_said_on_the_entry(world, flagged, child):
    """A corrected day leaves two unexcused days: the page says the run no longer reaches
    the county's setting (the rule flagged the entry for review)."""
    entry, days = flagged
    take(world, child.klass, days[0], {})
    shown = page(world, SCHOOL_USER, entry)
    assert 'data-testid="run-corrected"' in shown and "现连续旷课2天，不足3天" in shown
    assert run_days(shown) == [day.isoformat() for day in days[1:]]
    assert "自动登记</span>" not in shown


def test_an_entry_a_person_reported_has_no_attendance_panel(world, child):
    entry = create_entry(world, child)
    assert 'data-testid="opening-run"' not in page(world, SCHOOL_USER, entry)


# -- guardians' contacts ------------------------------------------------------------------------


def reveals(entry) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action="reveal", object_type="ledger.LedgerEntry", object_id=str(entry.pk)
        )
    )


@pytest.mark.parametrize("username", ["xz1_ganbu", "xz1_cungan", SCHOOL_USER, "xian_staff"])
def test_the_entry_shows_the_guardians_masked_and_reveals_them_with_an_audit_event(
    world, child, username
):
    """The township and village cadres, who may not reveal from the roster, do on the
    child's entry: the case they call the family about."""
    entry = create_entry(world, child)
    shown = page(world, username, entry)
    assert MASKED in shown and PHONE not in shown and "李大山（父亲）" in shown
    response = world.client(username).post(f"/ledger/{entry.pk}/contacts/")
    assert response.status_code == 200
    assert f'href="tel:{PHONE}"' in response.content.decode()
    [event] = reveals(entry)
    assert event.actor.username == username and event.detail == "查看监护人联系电话"


def test_a_child_without_a_record_shows_the_entrys_parent_contact_on_the_same_terms(world):
    entry = services.entry_create(by=world.user(SCHOOL_USER), data=unenrolled_data(world))
    shown = page(world, "xz1_ganbu", entry)
    assert "父母联系方式（台账登记）" in shown and MASKED in shown and PHONE not in shown
    revealed = world.client("xz1_ganbu").post(f"/ledger/{entry.pk}/contacts/")
    assert PHONE in revealed.content.decode() and len(reveals(entry)) == 1


@pytest.mark.parametrize("username", ["shi_dudao", "sheng_dudao"])
def test_a_supervisor_sees_masked_contacts_and_cannot_reveal(world, child, username):
    entry = create_entry(world, child)
    shown = page(world, username, entry)
    assert MASKED in shown and PHONE not in shown
    assert 'data-testid="reveal-contacts"' not in shown
    assert world.client(username).post(f"/ledger/{entry.pk}/contacts/").status_code == 403
    assert reveals(entry) == []


@pytest.mark.parametrize("username", ["xz2_ganbu", "xz2_xx1_guanli", "c2_xian_staff"])
def test_a_user_outside_the_area_gets_404_on_the_entry_and_its_reveal(world, child, username):
    entry = create_entry(world, child)
    client = world.client(username)
    assert client.get(f"/ledger/{entry.pk}/").status_code == 404
    response = client.post(f"/ledger/{entry.pk}/contacts/")
    assert response.status_code == 404 and PHONE not in response.content.decode()
    assert reveals(entry) == []


# -- back to the list ---------------------------------------------------------------------------


def back_link(html: str) -> str:
    return re.search(r'<a href="([^"]*)" data-testid="back-to-list">', html)[1]


def test_back_to_the_list_keeps_the_filters_the_user_came_with(world, child):
    entry = create_entry(world, child)
    client = world.client(SCHOOL_USER)
    shown = client.get(f"/ledger/{entry.pk}/", {"back": "/ledger/?state=pending&grade=1"})
    assert back_link(shown.content.decode()) == "/ledger/?state=pending&amp;grade=1"
    # Without the parameter, the list the browser came from (same site only).
    came = client.get(
        f"/ledger/{entry.pk}/", HTTP_REFERER="http://testserver/ledger/?kind=suspected&page=2"
    )
    assert back_link(came.content.decode()) == "/ledger/?kind=suspected&amp;page=2"
    assert back_link(page(world, SCHOOL_USER, entry)) == "/ledger/"


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/ledger/?state=pending",
        "//evil.example/ledger/",
        "/students/?q=1",
        "javascript:alert(1)//ledger/",
        "/ledger/1/",
    ],
)
def test_back_never_leads_anywhere_but_the_ledger_list(world, child, back):
    entry = create_entry(world, child)
    client = world.client(SCHOOL_USER)
    shown = client.get(f"/ledger/{entry.pk}/", {"back": back}).content.decode()
    assert back_link(shown) == "/ledger/"
    elsewhere = client.get(f"/ledger/{entry.pk}/", HTTP_REFERER="https://evil.example/ledger/?a=1")
    assert back_link(elsewhere.content.decode()) == "/ledger/"


def test_the_reveal_comes_back_to_the_entry_with_the_list_kept(world, child):
    entry = create_entry(world, child)
    shown = page(world, SCHOOL_USER, entry, back="/ledger/?state=pending")
    assert 'name="back" value="/ledger/?state=pending"' in shown
    revealed = world.client(SCHOOL_USER).post(
        f"/ledger/{entry.pk}/contacts/", {"back": "/ledger/?state=pending"}
    )
    assert f'href="/ledger/{entry.pk}/?back=%2Fledger%2F%3Fstate%3Dpending"' in (
        revealed.content.decode()
    )


# -- queries ------------------------------------------------------------------------------------


def test_entry_page_queries_do_not_grow_with_its_timeline_or_run(world, child, term):
    """The page (the attendance panel and the contacts included) costs the same with a
    three-day run and one timeline line as with a five-day run and four lines more."""
    AttendanceRules.objects.update_or_create(
        county=Region.objects.get(code="532926"), defaults={"threshold": 3}
    )
    client = world.client(SCHOOL_USER)
    days = school_days(child, 8)
    for day in days[:3]:
        take(world, child.klass, day, {child: Mark.UNEXCUSED})
    entry = LedgerEntry.objects.get(student=child)

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/ledger/{entry.pk}/")
        assert response.status_code == 200
        return len(captured), response.content.decode()

    queries()  # the first view of the hour also writes its audit row (who viewed)
    few, _ = queries()
    for day in days[3:5]:
        take(world, child.klass, day, {child: Mark.UNEXCUSED})
    for n in range(4):
        services.entry_review(by=world.user(SCHOOL_USER), entry=entry, note=f"复核{n}")
    many, shown = queries()
    assert "复核3" in shown and len(run_days(shown)) == 5
    assert many == few, f"{few} queries, then {many}"
