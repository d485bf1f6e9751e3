"""The home page's to-do list (issue 11, item 1): each role sees the work that waits for it
today, as counts that link to the filtered list; above the county, the same per county.

The items come from the apps (accounts.home); these tests read them through
``home.work(home.desk(user, day))`` for the rules, and through the page for what is shown."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import home
from accounts.models import School, SchoolClass, User
from attendance.choices import Mark
from ledger import services as ledger_services
from ledger.choices import State
from ledger.models import ConsistencyRun
from students import calendar
from students import services as student_services
from students.choices import EventKind
from students.models import DayKind
from tests.attendance.conftest import TEACHER, WED, pupil, take
from tests.ledger.conftest import entry_data, entry_in, make_student, township
from tests.students.factories import student_data

pytestmark = pytest.mark.django_db

PRINCIPAL, STAFF = "xz1_xx1_xiaozhang", "xz1_xx1_guanli"
COUNTY, COUNTY_B, PROVINCE = "xian_staff", "c2_xian_staff", "sheng_dudao"


def items(world, username, day=WED) -> dict[str, home.Item]:
    return {item.key: item for item in home.work(home.desk(world.user(username), day))}


def counts(world, username, day=WED) -> dict[str, int]:
    return {key: item.count for key, item in items(world, username, day).items()}


@pytest.fixture
def on_wednesday(monkeypatch):
    """The page's "today" is the test week's Wednesday, a school day of the test terms."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: WED)


# -- class teacher ------------------------------------------------------------------------------


def test_class_teacher_sees_todays_roll_of_each_class_one_tap_away(world, klass, pupils):
    item = items(world, TEACHER)["attendance-my-rolls"]
    assert item.count == 1
    [line] = item.lines
    assert line.url == f"/attendance/{klass.pk}/" and line.status == "未提交" and not line.done
    assert klass.school.name in line.label and str(klass) in line.label
    take(world, klass, WED, {pupils[0]: Mark.SICK})
    item = items(world, TEACHER)["attendance-my-rolls"]
    assert item.count == 0 and item.lines[0].status == "已提交" and item.lines[0].done


def test_class_teacher_counts_the_children_of_their_classes_with_an_open_entry(
    world, klass, pupils
):
    entry_in(world, State.PENDING, pupils[0])
    entry_in(world, State.PERSUADING, pupils[1])
    entry_in(world, State.EXCLUDED, pupils[2])  # not open
    other_class = SchoolClass.objects.exclude(pk=klass.pk).filter(school=klass.school).first()
    entry_in(world, State.PENDING, make_student(world, grade=other_class.grade, klass=other_class))
    item = items(world, TEACHER)["ledger-my-classes"]
    assert item.count == 2 and item.url == "/ledger/?open=1"
    page = world.client(TEACHER).get(item.url).content.decode()
    assert pupils[0].name in page and pupils[1].name in page and pupils[2].name not in page


# -- the school ---------------------------------------------------------------------------------


def _with_pupils(world, school) -> list[SchoolClass]:
    """Give one class of ``school`` a pupil, so that it owes a roll."""
    klass = SchoolClass.objects.filter(school=school).order_by("grade", "name").first()
    pupil(world, klass, by="xian_admin")
    return [klass]


def test_central_school_counts_the_missing_rolls_of_its_attached_schools(world, klass, pupils):
    centre = klass.school
    attached = list(School.objects.filter(parent=centre))
    assert attached, "the demo's first school of a township is a 中心校 with attached schools"
    theirs = [k for school in attached for k in _with_pupils(world, school)]
    item = items(world, PRINCIPAL)["attendance-missing"]
    assert item.count == 1 + len(theirs) and "含所属村小、教学点" in item.hint
    take(world, klass, WED)
    assert counts(world, PRINCIPAL)["attendance-missing"] == len(theirs)
    for other in theirs:
        take(world, other, WED)
    assert counts(world, PRINCIPAL)["attendance-missing"] == 0
    # An attached school's own principal sees only its own classes.
    attached_principal = User.objects.get(school=attached[0], role="principal")
    assert counts(world, attached_principal.username)["attendance-missing"] == 0


def test_school_counts_todays_absences_but_not_late_arrivals(world, klass, pupils):
    take(world, klass, WED, {pupils[0]: Mark.SICK, pupils[1]: Mark.UNEXCUSED, pupils[2]: Mark.LATE})
    take(world, klass, WED - datetime.timedelta(days=1), {pupils[3]: Mark.UNEXCUSED})
    item = items(world, PRINCIPAL)["attendance-absent"]
    assert item.count == 2 and not item.urgent


def test_school_counts_suspected_dropouts_to_verify(world, klass, pupils):
    entry_in(world, State.PENDING, pupils[0])
    entry_in(world, State.PENDING, pupils[1])
    entry_in(world, State.CONFIRMED, pupils[2])
    item = items(world, STAFF)["ledger-pending"]
    assert item.count == 2 and item.url == "/ledger/?state=pending" and item.urgent


def test_school_counts_transfers_waiting_to_be_accepted(world, klass, pupils):
    receiving = School.objects.exclude(pk=klass.school_id).filter(parent__isnull=True).first()
    receiver = User.objects.get(school=receiving, role="principal")
    assert counts(world, receiver.username)["transfers-incoming"] == 0
    student_services.event_record(
        by=world.user(PRINCIPAL),
        student=pupils[0],
        kind=EventKind.TRANSFER_OUT,
        date=WED,
        reason="随父母迁居",
        to_school=receiving,
    )
    assert counts(world, receiver.username)["transfers-incoming"] == 1
    assert counts(world, PRINCIPAL)["transfers-incoming"] == 0


# -- the township -------------------------------------------------------------------------------


def test_township_counts_only_the_entries_it_is_responsible_for(world, klass, pupils):
    entry_in(world, State.PERSUADING, pupils[0])  # assigned to xz1's township
    moved = entry_in(world, State.CONFIRMED, pupils[1])
    ledger_services.entry_assign(
        by=world.user(COUNTY), entry=moved, township=township(world, "xz2_ganbu"), note="户籍地"
    )
    entry_in(world, State.RETURNED, pupils[2])

    def ledger(username):
        return {k: n for k, n in counts(world, username).items() if k.startswith("ledger-")}

    assert ledger("xz1_ganbu") == {"ledger-persuading": 1, "ledger-returned": 1}
    assert ledger("xz2_ganbu") == {"ledger-persuading": 1, "ledger-returned": 0}
    # A village cadre works for the township their village belongs to.
    assert ledger("xz1_cungan") == ledger("xz1_ganbu")


# -- the county and above -----------------------------------------------------------------------


def _county_b_child(world):
    user = world.user("c2_xz1_xx1_guanli")
    return student_services.student_create(by=user, data=student_data(user.school, grade=3))


def test_county_counts_proposals_unassigned_dropouts_and_the_latest_check(world, klass, pupils):
    entry_in(world, State.PROPOSED, pupils[0])
    entry_in(world, State.CONFIRMED, pupils[1])
    entry_in(world, State.CONFIRMED, pupils[2])
    ConsistencyRun.objects.create(county=klass.school.township.parent, problem_count=5)
    ConsistencyRun.objects.create(county=klass.school.township.parent, problem_count=3)
    found = items(world, COUNTY)
    assert found["ledger-proposed"].count == 1
    assert found["ledger-proposed"].url == "/ledger/?state=proposed"
    assert found["ledger-confirmed"].count == 2
    assert found["ledger-consistency"].count == 3  # the latest run, not the sum
    assert found["ledger-consistency"].url == "/ledger/consistency/"
    assert "核查" in found["ledger-consistency"].hint
    # County B's staff see nothing of county A.
    assert counts(world, COUNTY_B)["ledger-proposed"] == 0


def test_county_counts_entries_overdue_for_their_term_review(world, klass, pupils):
    entry = entry_in(world, State.CONFIRMED, pupils[0])
    # Reviewed before the autumn term: once its classification month is over it is overdue.
    type(entry).objects.filter(pk=entry.pk).update(reviewed_on=datetime.date(2026, 6, 1))
    assert counts(world, COUNTY, day=datetime.date(2026, 9, 15))["ledger-overdue"] == 0
    assert counts(world, COUNTY, day=datetime.date(2026, 10, 14))["ledger-overdue"] == 1
    ledger_services.entry_review(by=world.user(STAFF), entry=entry, note="仍在家，继续劝返")
    assert counts(world, COUNTY, day=datetime.date(2026, 10, 14))["ledger-overdue"] == 0


def test_county_counts_schools_with_classes_missing_the_roll(world, klass, pupils):
    others = _with_pupils(world, School.objects.filter(parent=klass.school).first())
    assert counts(world, COUNTY)["attendance-missing-schools"] == 2
    take(world, klass, WED)
    assert counts(world, COUNTY)["attendance-missing-schools"] == 1
    take(world, others[0], WED)
    assert counts(world, COUNTY)["attendance-missing-schools"] == 0


def test_county_counts_only_schools_in_session_by_their_own_calendar(world, klass, pupils):
    """A school's missing roll counts only on its school days: its own holiday takes it out;
    a county holiday takes every school out but one that works that day by its own calendar
    (the county's counts come from each calendar, not a list of every school)."""
    centre = klass.school
    attached = School.objects.filter(parent=centre).first()
    _with_pupils(world, attached)
    admin = world.user("xian_admin")
    assert counts(world, COUNTY)["attendance-missing-schools"] == 2
    principal = world.user(PRINCIPAL)
    calendar.day_set(by=principal, owner=centre, date=WED, kind=DayKind.HOLIDAY, note="校庆")
    assert counts(world, COUNTY)["attendance-missing-schools"] == 1
    calendar.day_set(by=admin, owner=admin.region, date=WED, kind=DayKind.HOLIDAY, note="停课")
    assert counts(world, COUNTY)["attendance-missing-schools"] == 0
    own = User.objects.get(school=attached, role="principal")
    calendar.day_set(by=own, owner=attached, date=WED, kind=DayKind.WORKDAY, note="照常上课")
    assert counts(world, COUNTY)["attendance-missing-schools"] == 1
    assert items(world, PROVINCE)["attendance-missing-schools"].by_county == {
        centre.township.parent_id: 1
    }


def test_province_counts_each_county_as_its_own_staff_see_it(world, klass, pupils):
    entry_in(world, State.PROPOSED, pupils[0])
    entry_in(world, State.CONFIRMED, pupils[1])
    b_child = _county_b_child(world)
    b_entry = ledger_services.entry_create(
        by=world.user("c2_xz1_xx1_guanli"), data=entry_data(b_child)
    )
    ledger_services.entry_confirm(by=world.user("c2_xz1_xx1_guanli"), entry=b_entry, note="核实")
    ConsistencyRun.objects.create(county=klass.school.township.parent, problem_count=4)
    province = items(world, PROVINCE)
    county_a, county_b = (world.user(name).region for name in (COUNTY, COUNTY_B))
    for key in ("ledger-proposed", "ledger-confirmed", "ledger-overdue", "ledger-consistency"):
        item = province[key]
        assert item.by_county.get(county_a.pk, 0) == counts(world, COUNTY)[key], key
        assert item.by_county.get(county_b.pk, 0) == counts(world, COUNTY_B)[key], key
        assert item.count == counts(world, COUNTY)[key] + counts(world, COUNTY_B)[key], key
    assert province["ledger-confirmed"].by_county == {county_a.pk: 1, county_b.pk: 1}
    missing = province["attendance-missing-schools"]
    assert missing.by_county == {county_a.pk: counts(world, COUNTY)["attendance-missing-schools"]}
    # The city sees its own county only.
    assert set(items(world, "shi_dudao")["ledger-confirmed"].by_county) == {county_a.pk}


# -- the page -----------------------------------------------------------------------------------


def test_home_page_shows_each_item_with_its_count_and_link(world, klass, pupils, on_wednesday):
    entry_in(world, State.PENDING, pupils[0])
    page = world.client(PRINCIPAL).get("/").content.decode()
    assert 'data-testid="todo-ledger-pending"' in page
    assert 'href="/ledger/?state=pending"' in page and "待核实的疑似辍学" in page
    assert 'data-testid="count-ledger-pending">1<' in page
    assert "项工作等您处理" in page
    teacher = world.client(TEACHER).get("/").content.decode()
    assert f'data-testid="roll-link-{klass.pk}"' in teacher and "未提交" in teacher


def test_province_home_page_links_each_county_to_its_filtered_list(
    world, klass, pupils, on_wednesday
):
    entry_in(world, State.PROPOSED, pupils[0])
    page = world.client(PROVINCE).get("/").content.decode()
    county_a = klass.school.township.parent
    assert f'data-testid="county-{county_a.code}"' in page
    link = f"/ledger/?state=proposed&amp;county={county_a.code}"
    assert link in page and "待下级处理" in page
    listed = world.client(PROVINCE).get(link.replace("&amp;", "&")).content.decode()
    assert pupils[0].name in listed
    other = world.client(PROVINCE).get("/ledger/?state=proposed&county=530102").content.decode()
    assert pupils[0].name not in other


# Each home page's queries today (session and account, the area's figures, each app's
# items): a new item or a change that costs more raises its role's number, with a reason.
QUERY_BUDGET = {TEACHER: 23, PRINCIPAL: 29, "xz1_ganbu": 19, COUNTY: 30, PROVINCE: 29}


@pytest.mark.parametrize("username", list(QUERY_BUDGET))
def test_home_page_queries_do_not_grow_with_the_work(world, klass, pupils, on_wednesday, username):
    client = world.client(username)

    def queries() -> int:
        cache.clear()  # a province's counts are kept: count them afresh each time
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/")
        assert response.status_code == 200
        return len(captured)

    entry_in(world, State.PROPOSED, pupils[0])
    take(world, klass, WED - datetime.timedelta(days=1), {pupils[1]: Mark.SICK})
    few = queries()
    take(world, klass, WED, {pupils[2]: Mark.UNEXCUSED})
    for student in pupils[1:]:
        entry_in(world, State.PERSUADING, student)
    _with_pupils(world, School.objects.filter(parent=klass.school).first())
    _county_b_child(world)
    assert queries() == few
    assert few <= QUERY_BUDGET[username], f"{few} queries, budget {QUERY_BUDGET[username]}"


def test_province_counts_are_kept_for_a_while_and_a_countys_are_live(
    world, klass, pupils, on_wednesday
):
    entry_in(world, State.PROPOSED, pupils[0])
    province, county = world.client(PROVINCE), world.client(COUNTY)
    assert 'data-testid="count-ledger-proposed">1<' in province.get("/").content.decode()
    entry_in(world, State.PROPOSED, pupils[1])
    page = province.get("/").content.decode()
    assert 'data-testid="count-ledger-proposed">1<' in page and "统计于" in page
    assert 'data-testid="count-ledger-proposed">2<' in county.get("/").content.decode()
