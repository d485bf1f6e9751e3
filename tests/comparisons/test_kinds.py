"""Every mismatch kind the engine finds (issue 13 rule 3), each named after its kind, with
the cases that must not give it."""

import datetime

import pytest

from accounts.models import Region, School, SchoolClass
from attendance.choices import Mark
from comparisons.choices import MismatchKind, SourceKind, Strength
from ledger.choices import State
from students.choices import Status
from tests.comparisons.engine_data import entry, rolls, row_of, run_of, student
from tests.comparisons.results import COUNTY_A, first_school, first_township, make_row, make_source
from tests.students.factories import id_number

pytestmark = pytest.mark.django_db


def found(run, kind=None):
    mismatches = run.mismatches.order_by("id")
    return list(mismatches.filter(kind=kind) if kind else mismatches)


def names(run, kind=None):
    return sorted(m.name for m in found(run, kind))


def test_not_enrolled_is_a_school_age_child_in_household_list_with_no_xueji(world):
    source = make_source()
    village = Region.objects.filter(parent=first_township(), level=5).first()
    make_row(source, name="王小芳", region=village)  # born 2019: school age, no 学籍
    row_of(source, student(name="李小明"))  # has 学籍
    make_row(source, name="张幼儿", birth=datetime.date(2021, 3, 1))  # not six yet
    make_row(source, name="赵青年", birth=datetime.date(2010, 3, 1))  # past grade 9
    listed = make_row(source, name="钱已登记")
    entry(None, state=State.PENDING, name="钱已登记", id_number=listed.id_number)
    run = run_of(source)
    (mismatch,) = found(run)
    assert mismatch.kind == MismatchKind.NOT_ENROLLED and mismatch.name == "王小芳"
    # The 户籍 township acts; no school, none is known.
    assert mismatch.township == first_township() and mismatch.school is None
    assert mismatch.strength == Strength.NONE and mismatch.source_row.name == "王小芳"
    assert run.counts == {MismatchKind.NOT_ENROLLED: 1}


def test_not_enrolled_counts_a_record_anywhere_in_the_system_as_xueji(world):
    """学籍 is national: a child of county A's 户籍 enrolled in county B is not 未入学."""
    source = make_source()
    elsewhere = student(first_school("530102"), hukou=first_township())
    row_of(source, elsewhere)
    assert found(run_of(source)) == []


def test_elsewhere_unrecorded_household_row_studying_outside_the_county(world):
    source = make_source()
    make_row(source, name="孙外读", school_name="昆明市第一中学")
    make_row(source, name="周本县", school_name=first_school().name)  # a county school
    run = run_of(source)
    assert names(run, MismatchKind.ELSEWHERE_UNRECORDED) == ["孙外读"]
    assert names(run, MismatchKind.NOT_ENROLLED) == ["周本县"]
    (mismatch,) = found(run, MismatchKind.ELSEWHERE_UNRECORDED)
    assert mismatch.details["名单就读学校"] == "昆明市第一中学"


def test_elsewhere_unrecorded_xueji_result_at_a_school_outside_the_county(world):
    source = make_source(kind=SourceKind.XUEJI)
    here = student(name="吴在读")
    outside = School.objects.filter(township__code__startswith="530102").first()
    row_of(source, here, extra={"status": "enrolled", "school_code": outside.code})
    same = student(name="郑本校")
    row_of(source, same, extra={"status": "enrolled", "school_code": same.school.code})
    (mismatch,) = found(run_of(source))
    assert mismatch.kind == MismatchKind.ELSEWHERE_UNRECORDED and mismatch.student == here
    assert mismatch.school == here.school and mismatch.strength == Strength.ID


def test_not_attending_on_a_roll_here_without_presence_for_n_school_days(world, settings):
    settings.COMPARISON_ABSENT_SCHOOL_DAYS = 3
    klass = SchoolClass.objects.filter(school=first_school()).first()
    away = student(name="冯不来", klass=klass)
    present = student(name="陈每天", klass=klass)
    once = student(name="褚来过", klass=klass)
    known = student(name="卫在台账", klass=klass)
    entry(known)
    made = rolls(klass, 3, {away: Mark.SICK, once: Mark.UNEXCUSED, known: Mark.UNEXCUSED})
    made[0].marks.filter(student=once).delete()  # present on the last day
    run = run_of(make_source())
    assert names(run, MismatchKind.NOT_ATTENDING) == ["冯不来"]
    (mismatch,) = found(run, MismatchKind.NOT_ATTENDING)
    assert mismatch.school == first_school() and "连续3个上学日未到校" in mismatch.details["考勤"]
    assert present.pk not in {m.student_id for m in found(run)}


def test_not_attending_needs_n_recorded_school_days(world, settings):
    """A class with fewer roll calls than the setting says nothing of its students."""
    settings.COMPARISON_ABSENT_SCHOOL_DAYS = 5
    klass = SchoolClass.objects.filter(school=first_school()).first()
    away = student(name="冯不来", klass=klass)
    rolls(klass, 4, {away: Mark.UNEXCUSED})
    assert found(run_of(make_source()), MismatchKind.NOT_ATTENDING) == []


def test_poverty_flag_disagrees_with_the_student_record_both_ways(world):
    source = make_source(kind=SourceKind.POVERTY)
    unflagged = student(name="蒋脱贫")
    row_of(source, unflagged, extra={"key_group": "poverty_registered"})
    monitored = student(name="沈监测", relapse_monitored=True)
    row_of(source, monitored, extra={"key_group": "poverty_registered"})
    agreed = student(name="韩一致", poverty_registered=True)
    row_of(source, agreed, extra={"key_group": "poverty_registered"})
    student(name="杨未列入", poverty_registered=True)  # flagged, not on the list
    run = run_of(source)
    flags = {m.name: m.details["flags"] for m in found(run, MismatchKind.POVERTY_FLAG)}
    assert flags == {
        "蒋脱贫": {"poverty_registered": True},
        "沈监测": {"poverty_registered": True, "relapse_monitored": False},
        "杨未列入": {"poverty_registered": False},
    }
    by_name = {m.name: m for m in found(run)}
    assert by_name["蒋脱贫"].details["名单"] == "建档立卡/脱贫家庭"
    assert by_name["蒋脱贫"].details["系统"] == "未标记"
    assert by_name["杨未列入"].source_row is None
    assert by_name["蒋脱贫"].school == unflagged.school


def test_disability_flag_disagrees_with_the_student_record(world):
    source = make_source(kind=SourceKind.DISABILITY)
    unflagged = student(name="朱听障")
    row_of(source, unflagged, extra={"disability_type": "hearing", "disability_grade": 2})
    other_type = student(name="秦智力", disabled=True, disability_type="intellectual")
    row_of(source, other_type, extra={"disability_type": "visual"})
    agreed = student(name="尤一致", disabled=True, disability_type="physical")
    row_of(source, agreed, extra={"disability_type": "physical"})
    student(name="许未列入", disabled=True)
    run = run_of(source)
    by_name = {m.name: m.details for m in found(run, MismatchKind.DISABILITY_FLAG)}
    assert set(by_name) == {"朱听障", "秦智力", "许未列入"}
    assert by_name["朱听障"]["flags"] == {"disabled": True}
    assert by_name["朱听障"]["disability_type"] == "hearing"
    assert by_name["朱听障"]["disability_grade"] == 2
    assert by_name["秦智力"]["flags"] == {} and by_name["秦智力"]["disability_type"] == "visual"
    assert by_name["许未列入"]["flags"] == {"disabled": False}


def test_ledger_status_xueji_disagrees_with_the_ledger_in_a_household_run(world):
    """学籍 在读 with an open 已确认辍学 entry, and 学籍 辍学 with no open entry."""
    enrolled = student(name="何在读")
    entry(enrolled, state=State.CONFIRMED)
    student(name="吕辍学", status=Status.DROPPED_OUT)
    consistent = student(name="施一致", status=Status.DROPPED_OUT)
    entry(consistent, state=State.PERSUADING)
    run = run_of(make_source())
    assert names(run, MismatchKind.LEDGER_STATUS) == ["何在读", "吕辍学"]
    by_name = {m.name: m for m in found(run)}
    assert by_name["何在读"].entry is not None
    assert by_name["吕辍学"].details["学籍状态"] == "辍学"


def test_ledger_status_national_xueji_look_up_against_ours(world):
    source = make_source(kind=SourceKind.XUEJI)
    ours = student(name="张本地")
    row_of(source, ours, extra={"status": "dropped_out"})
    agreed = student(name="王一致")
    row_of(source, agreed, extra={"status": "enrolled", "school_code": agreed.school.code})
    # A child on our ledger with no record here whom the nation has 在读 somewhere.
    number = id_number(datetime.date(2015, 6, 1), "M", COUNTY_A)
    unknown = entry(None, state=State.PENDING, name="李外地", id_number=number)
    make_row(source, name="李外地", id_number=number, extra={"status": "enrolled"})
    run = run_of(source)
    by_name = {m.name: m for m in found(run, MismatchKind.LEDGER_STATUS)}
    assert set(by_name) == {"张本地", "李外地"}
    assert by_name["张本地"].details == {
        "全国学籍状态": "辍学",
        "本系统学籍状态": "在读",
        "名单姓名": "张本地",
    }
    assert by_name["李外地"].entry == unknown


def test_poverty_not_in_ledger_child_out_of_school_not_on_the_ledger(world):
    source = make_source(kind=SourceKind.POVERTY)
    make_row(source, name="曹失学", extra={"key_group": "poverty_registered"})
    dropped = student(name="严辍学", status=Status.DROPPED_OUT, poverty_registered=True)
    row_of(source, dropped, extra={"key_group": "poverty_registered"})
    at_school = student(name="华在校", poverty_registered=True)
    row_of(source, at_school, extra={"key_group": "poverty_registered"})
    listed = make_row(source, name="金在台账", extra={"key_group": "relapse_monitored"})
    entry(None, state=State.PERSUADING, name="金在台账", id_number=listed.id_number)
    run = run_of(source)
    by_name = {m.name: m for m in found(run, MismatchKind.POVERTY_NOT_IN_LEDGER)}
    assert set(by_name) == {"曹失学", "严辍学"}
    assert by_name["严辍学"].student == dropped and by_name["严辍学"].strength == Strength.ID
    assert by_name["曹失学"].strength == Strength.NONE
