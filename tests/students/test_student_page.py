"""The student page as a verification call needs it (issue 11, item 4): the child's open
ledger entry (上报 only when there is none), the last 20 school days of attendance, and the
guardians' phones — masked, shown whole only to those allowed, through an audited reveal."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent, Region, SchoolClass
from attendance import services as attendance_services
from attendance.choices import Mark
from ledger import services as ledger_services
from students import calendar
from students.models import Guardian, Student
from tests.ledger.conftest import add_term, create_entry, head_class, make_student

pytestmark = pytest.mark.django_db

PHONE, MASKED = "13812345678", "138****5678"
STAFF, TEACHER, PRINCIPAL = "xz1_xx1_guanli", "xz1_xx1_banzhuren", "xz1_xx1_xiaozhang"


@pytest.fixture
def term(world):
    """County A in a term around today, so that the last 20 school days are inside it."""
    today = timezone.localdate()
    county = Region.objects.get(code="532926")
    return add_term(county, today - datetime.timedelta(days=80), today + datetime.timedelta(30))


@pytest.fixture
def child(world) -> Student:
    """A first-grader of the class teacher's class at county A's first 中心校; guardian 父亲
    李大山 13812345678 (tests/students/factories.py)."""
    return make_student(world, grade=1, klass=head_class(world))


def page(world, username, student) -> str:
    response = world.client(username).get(f"/students/{student.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def reveals(student) -> int:
    return AuditEvent.objects.filter(
        action="reveal", object_id=str(student.pk), detail="查看监护人联系电话"
    ).count()


def take(world, klass, day, marks):
    """The principal takes ``day``'s roll (past days are beyond the teacher's cut-off)."""
    return attendance_services.submit(
        by=world.user(PRINCIPAL),
        klass=klass,
        day=day,
        marks=[attendance_services.MarkData(student=s.pk, status=m) for s, m in marks.items()],
    )


# -- jurisdiction ------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["xz2_xx1_guanli", "xz2_ganbu", "c2_xian_staff"])
def test_a_user_outside_the_area_gets_404_on_the_page_and_on_the_reveal(world, child, username):
    client = world.client(username)
    assert client.get(f"/students/{child.pk}/").status_code == 404
    response = client.post(f"/students/{child.pk}/contacts/")
    assert response.status_code == 404
    assert PHONE not in response.content.decode()
    assert reveals(child) == 0


# -- guardians' phones -------------------------------------------------------------------------


def test_phones_are_masked_until_the_audited_reveal_shows_them_whole(world, child):
    shown = page(world, STAFF, child)
    assert MASKED in shown and PHONE not in shown
    assert 'data-testid="reveal-contacts"' in shown
    response = world.client(STAFF).post(f"/students/{child.pk}/contacts/")
    assert response.status_code == 200
    revealed = response.content.decode()
    assert f'href="tel:{PHONE}"' in revealed and "李大山（父亲）" in revealed
    assert "已记入审计日志" in revealed
    event = AuditEvent.objects.get(action="reveal", object_id=str(child.pk))
    assert event.actor.username == STAFF and event.detail == "查看监护人联系电话"
    assert PHONE not in str(event.changes) + event.detail  # the trail holds no number
    # The page stays masked afterwards: the reveal is one audited look, not a setting.
    assert PHONE not in page(world, STAFF, child)


def test_the_class_teacher_of_the_child_may_reveal_the_phones(world, child):
    assert 'data-testid="reveal-contacts"' in page(world, TEACHER, child)
    response = world.client(TEACHER).post(f"/students/{child.pk}/contacts/")
    assert response.status_code == 200 and PHONE in response.content.decode()
    assert reveals(child) == 1


@pytest.mark.parametrize("username", ["xz1_ganbu", "xz1_cungan", "shi_dudao", "sheng_dudao"])
def test_a_user_without_the_right_sees_only_masked_numbers_and_cannot_reveal(
    world, child, username
):
    """Township and village cadres reveal on the child's ledger entry (a case), not from the
    roster; supervisors above the county never do."""
    shown = page(world, username, child)
    assert MASKED in shown and PHONE not in shown
    assert 'data-testid="reveal-contacts"' not in shown
    response = world.client(username).post(f"/students/{child.pk}/contacts/")
    assert response.status_code == 403
    assert PHONE not in response.content.decode()
    assert reveals(child) == 0


def test_the_id_number_reveal_shows_no_phone(world, child):
    """Each reveal shows what it says: the ID number's, not the guardians' numbers."""
    revealed = world.client(STAFF).post(f"/students/{child.pk}/reveal/").content.decode()
    assert child.id_number in revealed and PHONE not in revealed


# -- the ledger panel ---------------------------------------------------------------------------


def test_report_is_offered_only_while_the_child_has_no_open_entry(world, child):
    before = page(world, STAFF, child)
    assert 'data-testid="report"' in before and f"/ledger/new/?student={child.pk}" in before
    assert "该学生目前不在台账上" in before
    entry = create_entry(world, child)
    during = page(world, STAFF, child)
    assert 'data-testid="report"' not in during
    assert 'data-testid="open-entry"' in during and f'href="/ledger/{entry.pk}/"' in during
    assert "疑似辍学" in during and "待核实" in during
    ledger_services.entry_exclude(by=world.user(STAFF), entry=entry, note="病假，已返校")
    assert 'data-testid="report"' in page(world, STAFF, child)


def test_report_is_not_offered_to_a_role_that_cannot_put_a_child_on_the_ledger(world, child):
    shown = page(world, TEACHER, child)
    assert "该学生目前不在台账上" in shown and 'data-testid="report"' not in shown


def test_an_open_entry_outside_the_users_area_is_only_said_to_exist(world, child):
    """Seen from a school that the child has since moved to, the old school's entry still
    stops a second one, without showing what it holds."""
    entry = create_entry(world, child)
    other = world.user("xz2_xx1_guanli").school
    Student.objects.filter(pk=child.pk).update(school=other, klass=None)
    shown = page(world, "xz2_xx1_guanli", child)
    assert "在您的管辖范围以外" in shown
    assert f"/ledger/{entry.pk}/" not in shown and 'data-testid="report"' not in shown


# -- the last 20 school days --------------------------------------------------------------------


def grid(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="day" data-date="([\d-]+)" data-mark="(\w+)"', html)


def test_the_last_20_school_days_show_each_mark_and_days_without_a_roll_as_not_recorded(
    world, child, term
):
    klass = child.klass
    today = timezone.localdate()
    days = calendar.calendar_for(child.school_id).previous_school_days(today, 20, including=True)
    assert len(days) == 20
    marks = {
        days[0]: Mark.UNEXCUSED,
        days[1]: Mark.SICK,
        days[2]: Mark.PRESENT,  # a roll call without a mark for the child
        days[4]: Mark.LATE,
        days[5]: Mark.PERSONAL,
        days[-2]: Mark.UNEXCUSED,
        days[-1]: Mark.UNEXCUSED,
    }
    for day, mark in marks.items():
        take(world, klass, day, {} if mark == Mark.PRESENT else {child: mark})
    shown = page(world, STAFF, child)
    expected = [(day.isoformat(), marks.get(day, "none")) for day in days]
    assert grid(shown) == expected
    assert "近20个上学日考勤" in shown
    assert 'data-testid="days-run">已连续旷课2天' in shown
    # 13 school days without a roll call: gaps, never "present".
    assert "旷课3天，病假1天，事假1天，迟到1天，未记13天" in shown
    # A weekend never appears as a school day.
    assert all(datetime.date.fromisoformat(d).weekday() < 5 for d, _ in grid(shown))


def test_the_days_are_shown_to_whoever_sees_the_childs_class_only(world, child, term):
    """A township official sees the child by 户籍 but not the class's roll calls of another
    township's school: no attendance panel for them."""
    other = SchoolClass.objects.filter(school__township__code="532926102").first()
    Student.objects.filter(pk=child.pk).update(school=other.school, klass=other)
    assert 'data-testid="recent-days"' not in page(world, "xz1_ganbu", child)
    assert 'data-testid="recent-days"' in page(world, "xz2_ganbu", child)


# -- queries ------------------------------------------------------------------------------------


def test_student_page_queries_do_not_grow_with_guardians_marks_or_days(world, child, term):
    """Query count of the page (panels included) is the same with one guardian and one
    recorded absence as with four of each and an open entry."""
    client = world.client(STAFF)
    days = calendar.calendar_for(child.school_id).previous_school_days(
        timezone.localdate(), 20, including=True
    )

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/students/{child.pk}/")
        assert response.status_code == 200
        return len(captured), response.content.decode()

    take(world, child.klass, days[0], {child: Mark.SICK})
    create_entry(world, child)
    queries()  # the first view of the hour also writes its audit row (who viewed)
    few, _ = queries()
    for n, day in enumerate(days[2:5]):
        take(world, child.klass, day, {child: Mark.PERSONAL})
        Guardian.objects.create(student=child, name=f"监护人{n}", relation="祖母", phone="")
    many, shown = queries()
    assert "监护人2（祖母）" in shown and "事假3天" in shown
    assert many == few, f"{few} queries with one of each, {many} with four"
