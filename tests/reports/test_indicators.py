"""The indicators (issue 14 rule 3; DOMAIN.md §8) against hand-computed values on a small
fixture: 辍学率 (the 两基 definition), 九年义务教育巩固率 with its transfers and the years missing,
小学净入学率 from the latest 户籍 list (and its absence), the counts, the rankings with the
area's own rank, jurisdiction (a township asking for another township's figures), and the
start-of-year counts kept in the cache (the same figures, keyed by area)."""

import datetime
import itertools
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Region, School, User, current_school_year
from comparisons.choices import SourceKind
from comparisons.models import Source, SourceRow
from ledger.choices import Action, EntryKind, Reason, State, Whereabouts
from ledger.choices import Source as EntrySource
from ledger.models import EntryEvent, LedgerEntry
from reports import indicators
from students.choices import EventKind, Status
from students.models import EnrollmentEvent, Student

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

Y = current_school_year()
D = datetime.date
_serial = itertools.count(1)


def student(school, *, enrolled_on, grade=3, status=Status.ENROLLED, id_number=None, birth=None):
    n = next(_serial)
    child = Student.objects.create(
        name=f"学生{n}",
        gender="M",
        birth_date=birth or D(Y - 9, 3, 1),
        school=school,
        grade=grade,
        status=status,
        id_number=id_number,
    )
    event(child, EventKind.ENROL, enrolled_on, school)
    return child


def event(child, kind, day, school, status_after=Status.ENROLLED):
    EnrollmentEvent.objects.create(
        student=child,
        kind=kind,
        date=day,
        reason="测试",
        school=school,
        status_after=status_after,
        operator=User.objects.get(username="xian_admin"),
    )


def entry(child, *, on, kind=EntryKind.DROPOUT, state=State.CONFIRMED, **fields):
    """A ledger entry put on the ledger (and confirmed, for a 辍学 entry) at ``on``."""
    record = LedgerEntry.objects.create(
        student=child,
        kind=kind,
        source=EntrySource.SCHOOL_REPORT,
        state=state,
        name=child.name,
        gender="M",
        school=child.school,
        grade=child.grade,
        township=child.school.township,
        reason=fields.pop("reason", Reason.LEARNING),
        whereabouts=Whereabouts.AT_HOME,
        found_on=on,
        reviewed_on=on,
        **fields,
    )
    moment = timezone.make_aware(datetime.datetime.combine(on, datetime.time(10)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        first = State.CONFIRMED if kind == EntryKind.DROPOUT else State.PENDING
        EntryEvent.objects.create(entry=record, action=Action.CREATE, state_after=first)
        if kind == EntryKind.SUSPECTED and state == State.CONFIRMED:
            EntryEvent.objects.create(
                entry=record,
                action=Action.CONFIRM,
                state_before=State.PENDING,
                state_after=State.CONFIRMED,
            )
    return record


@pytest.fixture
def figures(world):
    return build_figures()


def build_figures() -> dict:
    """County A (532926): township 1's school has 10 students at the year's start and two
    dropouts; township 2's has 6 and one. County B has a complete cohort and a 户籍 list."""
    county = Region.objects.get(code="532926")
    township1, township2 = Region.objects.filter(parent=county).order_by("code")[:2]
    a1 = School.objects.filter(township=township1).order_by("code").first()
    b1 = School.objects.filter(township=township2).order_by("code").first()
    before = D(Y - 1, 9, 1)
    at_a1 = [student(a1, enrolled_on=before, grade=4) for _ in range(10)]
    at_b1 = [student(b1, enrolled_on=before, grade=8) for _ in range(6)]
    # Left before the year began: not in the year's 在校学生数.
    gone = student(a1, enrolled_on=before)
    event(gone, EventKind.TRANSFER_OUT, D(Y, 3, 1), a1, Status.TRANSFERRED_OUT)
    # Came after the year began: not in it either.
    student(b1, enrolled_on=D(Y, 10, 1))
    entry(at_a1[0], on=D(Y, 10, 15), reason=Reason.LEARNING)
    entry(at_a1[1], on=D(Y, 11, 10), kind=EntryKind.SUSPECTED, reason=Reason.WORK)
    entry(at_a1[2], on=D(Y, 11, 12), kind=EntryKind.SUSPECTED, state=State.PENDING)
    entry(at_b1[0], on=D(Y, 11, 20), reason=Reason.POVERTY, key_groups=["left_behind"])
    # Confirmed the year before: not this year's.
    entry(at_b1[1], on=D(Y - 1, 11, 20), state=State.CLOSED)

    # County B (530102): the cohort finishing grade 9 this year entered grade 1 in Y-8.
    other = Region.objects.get(code="530102")
    c1 = School.objects.filter(township__parent=other).order_by("code").first()
    first_day = D(Y - 8, 9, 1)
    intake = [student(c1, enrolled_on=first_day, grade=9) for _ in range(5)]
    event(intake[0], EventKind.TRANSFER_OUT, D(Y - 5, 3, 1), c1, Status.TRANSFERRED_OUT)
    Student.objects.filter(pk=intake[0].pk).update(status=Status.TRANSFERRED_OUT, grade=6)
    Student.objects.filter(pk=intake[1].pk).update(status=Status.DROPPED_OUT, grade=8)
    newcomer = Student.objects.create(
        name="转入生", gender="F", birth_date=D(Y - 15, 1, 1), school=c1, grade=9
    )
    event(newcomer, EventKind.TRANSFER_IN, D(Y - 3, 9, 1), c1)

    # County B's 户籍 lists: the latest has four children of primary age (three at primary
    # school) and one older child at school; an older list is not read.
    young = indicators.primary_births(Y)[1]
    for n in range(3):
        student(c1, enrolled_on=D(Y, 9, 1), grade=1, id_number=f"53010220200101{n:04d}",
                birth=young)  # fmt: skip
    student(c1, enrolled_on=D(Y, 9, 1), grade=8, id_number="530102201201010009")
    admin = User.objects.get(username="c2_xian_admin")
    old = Source.objects.create(
        county=other, kind=SourceKind.HOUSEHOLD, name="旧.csv", sha256="a" * 64, size=1,
        uploaded_by=admin,
    )  # fmt: skip
    SourceRow.objects.create(source=old, row=1, name="旧", name_key="旧", birth_date=young)
    latest = Source.objects.create(
        county=other, kind=SourceKind.HOUSEHOLD, name="新.csv", sha256="b" * 64, size=1,
        uploaded_by=admin,
    )  # fmt: skip
    rows = [(f"53010220200101{n:04d}", young) for n in range(4)]
    rows.append(("530102201201010009", D(Y - 14, 1, 1)))
    for row, (id_number, born) in enumerate(rows, start=1):
        SourceRow.objects.create(
            source=latest, row=row, id_number=id_number, name="童", name_key="童", birth_date=born
        )
    return {"county": county, "township1": township1, "township2": township2, "a1": a1,
            "b1": b1, "other": other, "c1": c1}  # fmt: skip


def _for(world, username, **filters):
    user = world.user(username)
    period = indicators.period_of(filters.pop("school_year", Y), **filters.pop("period", {}))
    return indicators.indicators(user, indicators.resolve_place(user, **filters), period)


def test_dropout_rate_is_the_two_basics_definition(world, figures):
    """辍学率 = 学年内辍学学生总数 ÷ 上学年初在校学生数: 3 confirmed this year ÷ 16 at 1 September
    (the student who left before and the one who came after are not counted)."""
    result = _for(world, "xian_staff")
    assert (result.dropout_rate.numerator, result.dropout_rate.denominator) == (3, 16)
    assert result.dropout_rate.percent == 18.75


def test_dropout_rate_per_month_and_term(world, figures):
    """Per month and per term: the dropouts confirmed inside the period over the same
    start-of-year denominator."""
    november = _for(world, "xian_staff", period={"month": 11})
    assert (november.dropout_rate.numerator, november.dropout_rate.denominator) == (2, 16)
    spring = _for(world, "xian_staff", period={"term": "spring"})
    assert spring.dropout_rate.numerator == 0
    assert spring.dropout_rate.percent == 0.0


def test_dropout_rate_without_the_year_start_history_names_the_year(world, figures):
    result = _for(world, "xian_staff", school_year=Y - 3)
    assert result.dropout_rate.percent is None
    assert f"{Y - 3} 学年初" in result.dropout_rate.missing


def test_counts_by_month_reason_key_group_grade_and_township(world, figures):
    result = _for(world, "xian_staff")
    months = dict(result.by_month)
    assert months[f"{Y}年10月"] == 1 and months[f"{Y}年11月"] == 2
    assert sum(months.values()) == 3 and len(months) == 12
    reasons = dict(result.by_reason)
    assert (reasons["学习困难/厌学"], reasons["外出务工"], reasons["家庭经济困难"]) == (1, 1, 1)
    assert dict(result.by_key_group)["农村留守儿童"] == 1
    grades = dict(result.by_grade)
    assert (grades["四年级"], grades["初二"]) == (2, 1)
    by_area = dict(result.by_area)
    assert by_area[figures["township1"].name] == 2 and by_area[figures["township2"].name] == 1


def test_consolidation_rate_counts_transfers_and_names_missing_years(world, figures):
    """九年义务教育巩固率 = 初中毕业班学生数 ÷ (小学一年级入学 + 转入 − 转出 − 死亡): county B's
    cohort: 5 entered in Y-8, one transferred out, one came in, the 初三 today are 3 of the
    intake and the newcomer: 4 ÷ (5 + 1 − 1) = 80%. County A holds 学籍 only from Y-1."""
    rate = _for(world, "c2_xian_staff").consolidation_rate
    assert (rate.numerator, rate.denominator, rate.percent) == (4, 5, 80.0)
    missing = _for(world, "xian_staff").consolidation_rate
    assert missing.percent is None
    assert f"{Y - 8}—{Y - 2}学年" in missing.missing


def test_net_primary_enrolment_rate_from_the_latest_household_list(world, figures):
    """小学净入学率 = enrolled school-age ÷ school-age population, from the latest 户籍 list:
    4 children of primary age, 3 at primary school (the older child is not counted)."""
    rate = _for(world, "c2_xian_staff").enrolment_rate
    assert (rate.numerator, rate.denominator, rate.percent) == (3, 4, 75.0)


def test_net_primary_enrolment_rate_without_a_household_list_says_so(world, figures):
    rate = _for(world, "xian_staff").enrolment_rate
    assert rate.percent is None and "尚未上传公安户籍适龄人口名单" in rate.missing
    province = _for(world, "sheng_dudao").enrolment_rate
    assert province.percent == 75.0
    assert figures["county"].name in province.note
    school = _for(world, "xian_staff", school=figures["a1"].code).enrolment_rate
    assert "不按学校计算" in school.missing


def test_rankings_and_the_areas_own_rank(world, figures):
    """Rankings for supervision (001, 003): townships by dropout rate, highest first; a
    township sees its own rank in the county, not the others' figures."""
    county = _for(world, "xian_staff")
    assert [row.code for row in county.ranking][:2] == [
        figures["township1"].prefix,
        figures["township2"].prefix,
    ]
    assert county.ranking[0].percent == 20.0 and county.ranking[1].percent == 16.67
    assert county.school_ranking[0].code == figures["a1"].code
    township2 = _for(world, "xz2_ganbu")
    assert township2.own_rank[:2] == (2, 2)
    assert township2.dropout_rate.percent == 16.67
    assert [row.code for row in township2.school_ranking][0] == figures["b1"].code


def test_a_township_cannot_ask_for_another_townships_figures(world, figures):
    user = world.user("xz1_ganbu")
    with pytest.raises(indicators.PlaceNotFound):
        indicators.resolve_place(user, area=figures["township2"].code)
    with pytest.raises(indicators.PlaceNotFound):
        indicators.resolve_place(user, school=figures["b1"].code)
    school_user = world.user("xz1_xx1_xiaozhang")
    with pytest.raises(indicators.PlaceNotFound):
        indicators.resolve_place(school_user, area=figures["county"].code)


def test_bad_periods_are_refused_with_the_field_named(world):
    from kongchuo.errors import AppError

    for args, field in (((Y + 1,), "school_year"), ((Y, "winter"), "term"), ((Y, "", 13), "month")):
        with pytest.raises(AppError) as refused:
            indicators.period_of(*args)
        assert field in refused.value.errors


def test_query_count_does_not_grow_with_the_schools(world, figures):
    user = world.user("sheng_dudao")
    place = indicators.resolve_place(user)
    period = indicators.period_of(Y)
    with CaptureQueriesContext(connection) as first:
        indicators.indicators(user, place, period)
    township = figures["township1"]
    for n in range(5):
        school = School.objects.create(
            code=f"19{n:08d}", name=f"新学校{n}", kind="primary", township=township
        )
        for _ in range(2):
            child = student(school, enrolled_on=D(Y - 1, 9, 1))
        entry(child, on=D(Y, 10, 2))
    cache.clear()  # both views count afresh: the kept counts are test_kept_* below
    with CaptureQueriesContext(connection) as second:
        indicators.indicators(user, place, period)
    assert len(second) == len(first)


def _figures(result) -> dict:
    """Everything the page and the API show, but the note saying when a count was made."""
    shown = result.as_dict()
    shown["dropout_rate"].pop("note")
    return shown


def test_kept_start_of_year_counts_give_the_fresh_figures(world, figures):
    """The start-of-year 在校学生数 of a day already past are kept: the next view reads them from
    the cache (fewer queries), with the same figures as counted afresh, and the page says when
    they were counted and for how long they are kept."""
    user = world.user("sheng_dudao")
    place = indicators.resolve_place(user)
    period = indicators.period_of(Y)
    with CaptureQueriesContext(connection) as fresh_queries:
        fresh = indicators.indicators(user, place, period)
    with CaptureQueriesContext(connection) as kept_queries:
        kept = indicators.indicators(user, place, period)
    assert len(kept_queries) < len(fresh_queries)
    assert _figures(kept) == _figures(fresh)
    assert fresh.dropout_rate.denominator == 16 + 9  # county A's 16, county B's 5 + 3 + 1
    assert kept.dropout_rate.note == fresh.dropout_rate.note
    assert f"保留 {indicators.KEPT_SECONDS // 60} 分钟" in kept.dropout_rate.note


def test_start_of_year_count_reads_the_schools_unordered(world, figures):
    """The start-of-year count's subquery of schools carries no ORDER BY (the schools' default
    ordering): with one the planner read every event of the province for a county's rank
    instead of the index per school. The only ORDER BY is the latest event's, per student."""
    schools = School.objects.filter(township__code__startswith=figures["township1"].prefix)
    assert schools.query.get_meta().ordering  # the default ordering the count must drop
    with CaptureQueriesContext(connection) as queries:
        counted = indicators.enrolled_at(schools, D(Y, 9, 1))
    (sql,) = [q["sql"] for q in queries if "DISTINCT ON" in q["sql"]]
    assert sql.count("ORDER BY") == 1
    assert "ORDER BY student_id, date DESC, id DESC" in sql
    assert counted[figures["a1"].pk] == 10  # the one transferred out before 1 September not


def test_kept_counts_are_keyed_by_area(world, figures):
    """One area's kept counts never answer for another's: county B after county A (and the
    province after both) give what each counts afresh."""
    county_a = _for(world, "xian_staff")
    county_b = _for(world, "c2_xian_staff")
    province = _for(world, "sheng_dudao")
    cache.clear()
    assert _figures(_for(world, "c2_xian_staff")) == _figures(county_b)
    assert _figures(_for(world, "sheng_dudao")) == _figures(province)
    assert county_a.dropout_rate.denominator == 16
    assert county_b.dropout_rate.denominator != county_a.dropout_rate.denominator
    assert province.dropout_rate.denominator == (
        county_a.dropout_rate.denominator + county_b.dropout_rate.denominator
    )


def test_a_back_dated_event_counts_once_the_kept_counts_expire(world, figures):
    """A 学籍异动 back-dated before 1 September changes a past day's count: it is counted when
    the kept count expires (after ``KEPT_SECONDS``; here the cache is emptied)."""
    assert _for(world, "xian_staff").dropout_rate.denominator == 16
    student(figures["a1"], enrolled_on=D(Y - 1, 9, 1))
    assert _for(world, "xian_staff").dropout_rate.denominator == 16
    cache.clear()
    assert _for(world, "xian_staff").dropout_rate.denominator == 17


def test_consolidation_rate_of_a_finished_year_counts_its_graduations(world, figures):
    """九年义务教育巩固率 for a year already over: 初中毕业班学生数 are that year's 毕业 events.
    County B's cohort of Y-9 (entered grade 1 in Y-9): 2 entered, both graduated in Y-1."""
    c1 = figures["c1"]
    for _ in range(2):
        child = student(c1, enrolled_on=D(Y - 9, 9, 1), grade=9, status=Status.GRADUATED)
        event(child, EventKind.GRADUATE, D(Y, 6, 30), c1, Status.GRADUATED)
    rate = _for(world, "c2_xian_staff", school_year=Y - 1).consolidation_rate
    assert (rate.numerator, rate.denominator, rate.percent) == (2, 2, 100.0)
    # The year under way is not disturbed by them: still 4 of 5.
    assert _for(world, "c2_xian_staff").consolidation_rate.percent == 80.0
