"""The comparison engine (issue 13 rules 2, 3 and 6): ID numbers first, in SQL; names and
birth dates as a weak match that is never acted on; the same mismatches when run again; a
disposition that holds while the data stays the same; what changed since the previous run;
and results only inside each user's jurisdiction."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region, User
from comparisons import engine
from comparisons.choices import Change, Disposition, MismatchKind, Strength
from comparisons.models import Mismatch, MismatchDisposition
from ledger.models import LedgerEntry
from tests.comparisons.engine_data import BIRTH, row_of, run_of, student
from tests.comparisons.results import COUNTY_A, first_school, first_township, make_row, make_source
from tests.students.factories import id_number

pytestmark = pytest.mark.django_db


def test_weak_match_same_name_in_another_width_and_spacing_and_birth_date(world):
    """A row without an ID number whose name differs only in width and spaces, with the same
    birth date: a WEAK match naming the student — a mismatch to confirm, never a link."""
    child = student(name="阿依古丽·买买提", with_id=False, birth=BIRTH)
    source = make_source()
    make_row(
        source, name="阿依古丽 ・ 买买提", id_number="", id_valid=False, birth=BIRTH, guardian=""
    )
    run = run_of(source)
    (mismatch,) = run.mismatches.all()
    assert mismatch.kind == MismatchKind.NOT_ENROLLED and mismatch.strength == Strength.WEAK
    assert mismatch.student == child and "待确认" in mismatch.details["疑似同一人"]
    # Not acted on: no ledger entry, nothing handled, the student untouched.
    assert not LedgerEntry.objects.exists() and mismatch.handled is None
    child.refresh_from_db()
    assert child.id_number is None


def test_weak_match_with_a_mistyped_id_number_and_full_width_name(world):
    child = student(name="李小明", birth=BIRTH)
    source = make_source()
    wrong = "1" if child.id_number.endswith("0") else "0"  # never the real check digit
    make_row(source, name="李　小明", id_number=child.id_number[:-1] + wrong, birth=BIRTH)
    (mismatch,) = run_of(source).mismatches.all()
    assert mismatch.strength == Strength.WEAK and mismatch.student == child


def test_weak_match_refused_when_guardian_and_village_both_disagree(world):
    student(name="李小明", with_id=False, guardian="李大山")
    source = make_source()
    other = Region.objects.filter(level=4, code__startswith=COUNTY_A).order_by("code").last()
    make_row(source, name="李小明", id_number="", birth=BIRTH, guardian="张三", region=other)
    (mismatch,) = run_of(source).mismatches.all()
    assert mismatch.strength == Strength.NONE and mismatch.student is None


def test_weak_match_prefers_the_candidate_whose_guardian_agrees(world):
    student(name="李小明", with_id=False, guardian="李大海")
    twin = student(name="李小明", with_id=False, guardian="李大山")
    source = make_source()
    make_row(source, name="李小明", id_number="", birth=BIRTH, guardian="李大山")
    (mismatch,) = run_of(source).mismatches.all()
    assert mismatch.student == twin and mismatch.details["同名同生日学生"] == 2


def test_id_match_is_set_based_the_queries_do_not_grow_with_the_list(world):
    """Matching by ID number is a join over the whole list in SQL, not a query per row."""

    def queries(rows: int) -> int:
        source = make_source()
        for n in range(rows):
            make_row(source, name=f"王{n}")
            row_of(source, student(name=f"李{n}"))
        with CaptureQueriesContext(connection) as captured:
            run_of(source)
        return len(captured)

    queries(1)  # from now on each run has a previous one to compare with
    assert queries(2) == queries(20)


def test_running_a_run_again_gives_the_same_mismatches_never_duplicates(world):
    source = make_source()
    make_row(source, name="王小芳")
    make_row(source, name="孙外读", school_name="外县中学")
    run = run_of(source)
    first = sorted(run.mismatches.values_list("pk", "key", "fingerprint"))
    engine.compare(run)
    assert sorted(run.mismatches.values_list("pk", "key", "fingerprint")) == first
    assert Mismatch.objects.count() == 2 and run.counts == {
        MismatchKind.ELSEWHERE_UNRECORDED: 1,
        MismatchKind.NOT_ENROLLED: 1,
    }


def _household(rows):
    source = make_source()
    for fields in rows:
        make_row(source, **fields)
    return run_of(source)


def _explain(mismatch):
    disposition = MismatchDisposition.objects.create(
        county=mismatch.county,
        key=mismatch.key,
        fingerprint=mismatch.fingerprint,
        mismatch=mismatch,
        disposition=Disposition.EXPLAINED,
        note="已随父母迁往外省",
        by=User.objects.get(username="xian_staff"),
    )
    Mismatch.objects.filter(pk=mismatch.pk).update(handled=disposition)
    return disposition


def test_a_disposition_carries_over_while_the_data_stays_the_same(world):
    """A mismatch that was dealt with stays dealt with in the next run unless the data changed."""
    birth = datetime.date(2019, 5, 2)
    # The same child in every list: the same ID number.
    child = {"name": "王小芳", "id_number": id_number(birth, "F"), "guardian": "王大山"}
    first = _household([child, {"name": "赵走了", "id_number": id_number(birth, "F")}])
    explained = _explain(first.mismatches.get(name="王小芳"))
    second = _household([child])
    (again,) = second.mismatches.all()
    assert again.handled == explained and again.change == Change.SAME
    assert second.previous == first
    assert second.changes == {"new": 0, "same": 1, "changed": 0, "gone": 1}
    third = _household([{**child, "guardian": "王二山"}])
    (changed,) = third.mismatches.all()
    assert changed.key == again.key and changed.fingerprint != again.fingerprint
    assert changed.handled is None and changed.change == Change.CHANGED
    assert third.changes == {"new": 0, "same": 0, "changed": 1, "gone": 0}


def test_change_is_new_for_a_first_run(world):
    run = _household([{"name": "王小芳"}])
    assert run.previous is None and run.changes["new"] == 1
    assert run.mismatches.get().change == Change.NEW


def test_results_obey_jurisdiction_school_township_county(world):
    """A school sees its mismatches, a township its own, the county all (rule 6)."""
    school = first_school()
    township_2 = Region.objects.filter(level=4, code__startswith=COUNTY_A).order_by("code")[1]
    source = make_source(kind="poverty")
    flagged = student(school, name="蒋脱贫")
    row_of(source, flagged, extra={"key_group": "poverty_registered"})
    make_row(source, name="曹失学", region=township_2, extra={"key_group": "poverty_registered"})
    run = run_of(source)
    assert run.mismatches.count() == 2

    def seen(username):
        return sorted(
            Mismatch.objects.for_user(User.objects.get(username=username)).values_list(
                "name", flat=True
            )
        )

    assert seen("xian_staff") == ["曹失学", "蒋脱贫"]
    assert seen("xz1_xx1_guanli") == ["蒋脱贫"]  # the school of the student
    assert seen("xz1_ganbu") == ["蒋脱贫"]  # the township of the school and the 户籍
    assert seen("xz2_ganbu") == ["曹失学"]  # the 户籍 township of the unenrolled child
    assert seen("xz2_xx1_guanli") == []
    assert seen("c2_xian_staff") == []
    assert run.mismatches.get(name="曹失学").township == township_2
    assert run.mismatches.get(name="蒋脱贫").township == first_township()


def test_school_age_is_six_by_31_august_for_nine_years():
    earliest, latest = engine.school_age_births(2026)
    assert latest == datetime.date(2020, 8, 31)  # six on 31 August 2026: grade 1
    assert earliest == datetime.date(2011, 9, 1)  # 14 then: grade 9


def test_weak_match_a_village_agrees_with_its_township(world):
    """The row's 户籍 village lies in the student's 户籍 township: the place agrees, so a
    differing guardian alone does not rule the candidate out."""
    child = student(name="李小明", with_id=False, guardian="李大山")  # 户籍: the township
    village = Region.objects.filter(parent=first_township(), level=5).first()
    source = make_source()
    make_row(source, name="李小明", id_number="", birth=BIRTH, guardian="张三", region=village)
    (mismatch,) = run_of(source).mismatches.all()
    assert mismatch.strength == Strength.WEAK and mismatch.student == child


def test_a_run_s_students_are_the_county_s_as_jurisdiction_places_them(world):
    """engine.County.students() names the county's schools and regions by id for speed; it
    must hold exactly the students jurisdiction.within puts in the county (a school here,
    or a 户籍 here — the county itself, a township or a village), merged records aside."""
    from accounts import jurisdiction
    from students.choices import Status
    from students.models import Student

    county_a = Region.objects.get(code=COUNTY_A)
    village_a = Region.objects.filter(code__startswith=COUNTY_A, level=5).first()
    school_b = first_school("530102")
    inside = [
        student(name="本县就读"),
        student(school_b, name="外县就读户籍在本村", hukou=village_a),
        student(name="户籍县级", hukou=county_a),
    ]
    student(school_b, name="外县学生")
    student(name="已合并", status=Status.MERGED)
    by_engine = set(engine.County(county_a).students().values_list("pk", flat=True))
    placed = jurisdiction.within(county_a, Student.objects.exclude(status=Status.MERGED))
    assert by_engine == set(placed.values_list("pk", flat=True))
    assert {s.pk for s in inside} <= by_engine
