"""The roster import (issue 3): real XLSX files in, every bad row named by row, column and
reason, nothing written unless every row is right."""

import datetime
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts import audit, jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent, Job, School, current_school_year
from kongchuo.errors import AppError
from students import imports, services
from students.choices import EventKind, Status
from students.imports import RowError, annotated_errors_bytes, import_roster
from students.models import EnrollmentEvent, Guardian, Student
from students.roster import HEADINGS, student_values, template_bytes
from tests.students.factories import id_number, student_data

pytestmark = pytest.mark.django_db

IMPORTER = "xz1_xx1_guanli"
XZ1_XX1 = "南涧镇中心学校"


def school(name=XZ1_XX1) -> School:
    """A school of the demo county (county B repeats the township names)."""
    return School.objects.get(name=name, township__code__startswith="532926")


def row(school_obj=None, *, birth=datetime.date(2017, 3, 14), gender="男", **overrides):
    """A valid roster row (heading → value) for a grade-3 child of ``school_obj``."""
    school_obj = school_obj or school()
    number = id_number(birth, "M" if gender == "男" else "F")
    values = {
        "姓名": "李小明",
        "性别": gender,
        "出生日期": birth,
        "民族": "彝族",
        "身份证号": number,
        "学籍号": f"G{number}",
        "学校标识码": school_obj.code,
        "年级": 3,
        "班级": "1班",
        "入学日期": datetime.date(2023, 9, 1),
        "户籍地区划代码": school_obj.township.code,
        "现住址": "南涧镇新政村3组",
        "监护人姓名": "李大山",
        "监护人关系": "父亲",
        "监护人电话": "13812345678",
        "农村留守儿童": "是",
    }
    values.update(overrides)
    return values


def xlsx(rows, headings=HEADINGS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append(list(headings))
    for values in rows:
        sheet.append([values.get(heading, "") for heading in headings])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world, rows_or_bytes, username=IMPORTER, **kwargs):
    content = rows_or_bytes if isinstance(rows_or_bytes, bytes) else xlsx(rows_or_bytes)
    return import_roster(by=world.user(username), content=content, filename="花名册.xlsx", **kwargs)


def counts():
    return (
        Student.objects.count(),
        EnrollmentEvent.objects.count(),
        Guardian.objects.count(),
        AuditEvent.objects.count(),
    )


def only_error(result) -> RowError:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# Good imports ------------------------------------------------------------------------------


def test_good_roster_creates_students_enrol_events_guardians_and_their_audit(world):
    before = AuditEvent.objects.count()
    rows = [row(), row(birth=datetime.date(2017, 5, 1), gender="女", 姓名="王小芳", 班级="")]
    result = run(world, rows)
    assert result.ok and (result.created, result.updated) == (2, 0)
    boy = Student.objects.get(name="李小明")
    assert boy.status == Status.ENROLLED and boy.grade == 3 and boy.klass.name == "1班"
    assert boy.klass.school_year == current_school_year() and boy.left_behind
    assert boy.student_number == f"G{boy.id_number}" and boy.ethnicity == "彝族"
    assert [(g.name, g.relation, g.phone) for g in boy.guardians.all()] == [
        ("李大山", "父亲", "13812345678")
    ]
    event = boy.events.get()
    assert event.kind == EventKind.ENROL and event.reason == "花名册导入建档"
    assert event.date == datetime.date(2023, 9, 1) and event.operator.username == IMPORTER
    assert event.school == boy.school and event.status_after == Status.ENROLLED
    girl = Student.objects.get(name="王小芳")
    assert girl.gender == "F" and girl.klass is None
    audits = list(AuditEvent.objects.order_by("id")[before:])
    # A line per student (who was created, with what), and the import's own summary.
    assert [(a.action, a.object_id, a.detail) for a in audits] == [
        ("create", str(boy.pk), "花名册导入"),
        ("create", str(girl.pk), "花名册导入"),
        ("create", "", "花名册导入：新增2，更新0"),
    ]
    assert audits[0].object_type == "students.Student" and audits[0].object_repr == "李小明"
    assert audits[0].changes["name"] == [None, "李小明"]
    assert audits[0].changes["id_number"] == ["", "[已隐藏]"]
    assert audits[0].region_code == boy.school.township.code
    assert audits[0].actor.username == IMPORTER
    # (The rows' 学籍号 here is "G" + the ID number: only the ID number field is personal.)
    assert all(boy.id_number not in a.object_repr + a.detail for a in audits)


def test_reimporting_the_same_file_changes_nothing(world):
    content = xlsx([row(), row(身份证号="", 学籍号="", 姓名="张无证", 监护人姓名="张大")])
    first = run(world, content)
    assert (first.created, first.updated) == (2, 0)
    stamps = list(Student.objects.values_list("updated_at", flat=True))
    before = counts()
    again = run(world, content)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert counts() == before
    assert list(Student.objects.values_list("updated_at", flat=True)) == stamps


def test_a_row_with_a_known_id_number_updates_that_student(world):
    original = row()
    run(world, [original])
    student = Student.objects.get()
    changed = {
        **original,
        "姓名": "李晓明",
        "年级": 4,
        "班级": "1班",
        "农村留守儿童": "否",
        "残疾": "是",
        "残疾类型": "听力残疾",
        "残疾等级": "二级",
        "监护人姓名": "张桂花",
        "监护人关系": "母亲",
        "监护人电话": "0872-6123456",
    }
    result = run(world, [changed])
    assert result.ok and (result.created, result.updated) == (0, 1)
    student.refresh_from_db()
    assert student.name == "李晓明" and student.grade == 4 and student.klass.grade == 4
    assert not student.left_behind and student.disabled
    assert (student.disability_type, student.disability_grade) == ("hearing", 2)
    assert [(g.name, g.relation, g.phone) for g in student.guardians.all()] == [
        ("张桂花", "母亲", "0872-6123456")
    ]
    assert student.events.count() == 1  # an update is not a new 入学注册
    assert AuditEvent.objects.filter(detail="花名册导入：新增0，更新1").count() == 1


def test_each_created_student_is_audited_as_student_create_audits_one(world):
    user = world.user(IMPORTER)
    by_service = services.student_create(by=user, data=student_data(user.school))
    run(world, [row(残疾="是", 残疾类型="肢体残疾", 残疾等级="三级")])
    imported = Student.objects.exclude(pk=by_service.pk).get()
    for student in (by_service, imported):
        line = AuditEvent.objects.get(object_type="students.Student", object_id=str(student.pk))
        # What audit.record_change writes for the saved record, sensitive fields hidden.
        assert line.action == "create"
        assert line.changes == audit.diff(None, audit.snapshot(student))
        assert line.changes["id_number"] == ["", "[已隐藏]"]
    line = AuditEvent.objects.get(object_id=str(imported.pk))
    # Sealed in its table, hidden in the audit trail too (issue 15 §3).
    assert line.changes["disability_type"] == ["", "[已隐藏]"]
    assert line.changes["status"] == [None, "enrolled"] and line.changes["grade"] == [None, 3]


def test_each_updated_student_is_audited_with_the_changed_fields_only(world):
    original = row(身份证号="", 学籍号="L0042")
    run(world, [original])
    student = Student.objects.get()
    before = AuditEvent.objects.count()
    number = id_number(original["出生日期"])
    changed = {
        **original,
        "身份证号": number,
        "现住址": "南涧镇西山村",
        "监护人电话": "13900001111",
    }
    result = run(world, [changed, row(birth=datetime.date(2017, 4, 4), 姓名="新生")])
    assert (result.created, result.updated) == (1, 1)
    lines = AuditEvent.objects.order_by("id")[before:]
    update = next(a for a in lines if a.object_id == str(student.pk))
    assert update.action == "update" and update.detail == "花名册导入：监护人信息已更新"
    assert update.changes == {
        "address": ["南涧镇新政村3组", "南涧镇西山村"],
        "id_number": ["", "[已隐藏]"],
    }
    assert number not in str(update.__dict__) and "13900001111" not in str(update.__dict__)
    assert len(lines) == 3  # the update, the new student, the summary


def test_the_audit_lines_are_written_in_bulk(world, monkeypatch):
    # One statement per batch, not one per student (COPY on PostgreSQL, bulk INSERT here).
    monkeypatch.setattr(imports, "WRITE_BATCH", 1000)
    rows = [row(birth=datetime.date(2016, 1, 1) + datetime.timedelta(days=n)) for n in range(40)]
    with CaptureQueriesContext(connection) as captured:
        assert run(world, rows).created == 40
    inserts = [q["sql"] for q in captured if "accounts_auditevent" in q["sql"]]
    assert AuditEvent.objects.filter(object_type="students.Student").count() == 40
    assert len(inserts) <= 2, inserts  # the students' lines at once, and the summary


def test_a_new_school_years_roster_moves_the_class_up_in_few_queries(
    world, django_assert_max_num_queries
):
    rows = [row(birth=datetime.date(2017, 1, n), 姓名=f"学生{n}") for n in range(1, 4)]
    run(world, rows)
    promoted = [{**values, "年级": 4} for values in rows]
    promoted[0]["现住址"] = "南涧镇西山村"  # one row changes more than the others
    with django_assert_max_num_queries(16):
        result = run(world, promoted)
    assert (result.created, result.updated) == (0, 3)
    assert set(Student.objects.values_list("grade", "klass__grade")) == {(4, 4)}
    assert Student.objects.filter(address="南涧镇西山村").count() == 1


def test_query_count_does_not_grow_with_the_rows(world):
    def queries(first_day, count):
        rows = [
            row(birth=datetime.date(2016, 1, 1) + datetime.timedelta(days=first_day + n))
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert run(world, rows).created == count
        return len(captured)

    assert queries(0, 3) == queries(100, 30)


def test_awkward_text_and_empty_cells_are_stored_as_typed(world, monkeypatch):
    # On PostgreSQL the rows go in as CSV through COPY, read a row at a time here.
    monkeypatch.setattr(imports, "_ROWS_PER_READ", 1)
    awkward = 'A,"B"\\C\n第2行'
    rows = [
        row(姓名='李, "小"明', 现住址=awkward, 监护人关系='父"亲'),
        row(
            birth=datetime.date(2017, 6, 1),
            姓名="王\\小芳",
            身份证号="",
            学籍号="",
            班级="",
            入学日期="",
            户籍地区划代码="",
            现住址="",
            监护人姓名="王,大",
        ),
    ]
    assert run(world, rows).created == 2
    first = Student.objects.get(name='李, "小"明')
    assert first.address == awkward and first.guardians.get().relation == '父"亲'
    second = Student.objects.get(name="王\\小芳")
    empty = (second.id_number, second.student_number, second.klass, second.hukou_region)
    assert empty == (None,) * 4 and second.entry_date is None and second.address == ""
    assert second.guardians.get().name == "王,大"
    assert second.events.get().date == timezone.localdate()


def test_students_looked_up_in_several_queries_are_matched_alike(world, monkeypatch):
    # SQLite gets the ID numbers and 学籍号 in IN lists of _CHUNK; PostgreSQL in one array.
    monkeypatch.setattr(imports, "_CHUNK", 2)
    rows = [row(birth=datetime.date(2017, 1, n), 姓名=f"学生{n}") for n in range(1, 6)]
    rows.append(row(birth=datetime.date(2017, 2, 1), 身份证号="", 学籍号="L9", 姓名="无证"))
    content = xlsx(rows)
    assert run(world, content).created == 6
    again = run(world, content)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_a_row_without_id_number_updates_by_student_number(world):
    user = world.user(IMPORTER)
    existing = services.student_create(
        by=user, data=student_data(user.school, with_id=False, student_number="L0001")
    )
    result = run(world, [row(身份证号="", 学籍号="L0001", 姓名="李小明", 监护人姓名="李二")])
    assert (result.created, result.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.id_number is None and existing.guardians.get().name == "李二"


def test_an_exported_roster_imports_back_unchanged(world):
    run(world, [row(残疾="是", 残疾类型="肢体残疾", 残疾等级="三级")])
    students = Student.objects.select_related("school", "klass", "hukou_region")
    exported = [dict(zip(HEADINGS, student_values(s), strict=True)) for s in students]
    assert exported[0]["性别"] == "男" and exported[0]["残疾等级"] == "三级"
    result = run(world, exported)
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 0, 1)


def test_the_template_example_row_is_skipped_and_the_template_reads_back(world):
    content = template_bytes(school_code=school().code)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["花名册", "填写说明"]
    assert [c.value for c in book["花名册"][1]] == list(HEADINGS)
    assert {r[0].value for r in book["填写说明"].iter_rows(min_row=2)} >= set(HEADINGS)
    with pytest.raises(AppError, match="没有学生数据"):
        run(world, content)


def test_an_annotated_error_file_can_be_fixed_and_uploaded_again(world):
    bad = run(world, [row(), row(身份证号="110105194912310021", 姓名="错号")])
    annotated = annotated_errors_bytes(xlsx([row(), row(姓名="错号")]), bad.errors)
    book = load_workbook(io.BytesIO(annotated))
    sheet = book.active
    sheet.cell(row=3, column=HEADINGS.index("身份证号") + 1, value="")
    sheet.cell(row=3, column=HEADINGS.index("学籍号") + 1, value="G-NEW-1")
    buffer = io.BytesIO()
    book.save(buffer)
    result = run(world, buffer.getvalue())
    assert result.ok and result.created == 2, result.errors


# Bad rows ----------------------------------------------------------------------------------


def _other_school():
    return school("小湾东镇中心学校")


@pytest.mark.parametrize(
    ("overrides", "column", "reason"),
    [
        ({"身份证号": "110105194912310021"}, "身份证号", "校验位不正确"),
        ({"出生日期": datetime.date(2017, 3, 15)}, "出生日期", "出生日期与身份证号不一致"),
        (
            {"学校标识码": "5399999999"},
            "学校标识码",
            "学校标识码 5399999999 不存在或不在您的管辖范围内",
        ),
        ({"班级": "9班"}, "班级", "没有三年级“9班”"),
        ({"年级": 10, "班级": ""}, "年级", "年级应在1–9之间"),
        ({"年级": "十年级", "班级": ""}, "年级", "年级应填写1–9的数字"),
        ({"入学日期": datetime.date(2099, 9, 1)}, "入学日期", "入学日期不能晚于今天"),
        ({"监护人电话": "12345"}, "监护人电话", "不是有效的电话号码"),
        ({"性别": "未知"}, "性别", "性别应为“男”或“女”"),
        ({"民族": "火星族"}, "民族", "不是有效的民族名称"),
        ({"姓名": ""}, "姓名", "请填写姓名"),
        ({"农村留守儿童": "也许"}, "农村留守儿童", "应填写“是”或“否”"),
        ({"出生日期": "2017-13-40"}, "出生日期", "不是有效的日期"),
        ({"户籍地区划代码": "532926999999"}, "户籍地区划代码", "不存在"),
        ({"监护人姓名": ""}, "监护人姓名", "请同时填写监护人姓名"),
    ],
)
def test_each_bad_row_is_named_by_row_column_and_reason_and_nothing_is_written(
    world, overrides, column, reason
):
    before = counts()
    result = run(
        world, [row(), row(birth=datetime.date(2017, 6, 1), **{"姓名": "二", **overrides})]
    )
    error = only_error(result)
    assert (error.row, error.column) == (3, column) and reason in error.message, error
    assert counts() == before


def test_school_outside_the_importers_area_reads_like_an_unknown_one(world):
    foreign = _other_school()
    result = run(world, [row(foreign)])
    error = only_error(result)
    assert (error.row, error.column) == (2, "学校标识码")
    assert error.message == f"学校标识码 {foreign.code} 不存在或不在您的管辖范围内。"


def test_an_attached_school_of_the_central_school_is_in_the_area(world):
    branch = school("南涧镇完全小学")
    assert run(world, [row(branch)]).created == 1


def test_an_id_number_stored_as_a_number_is_explained(world):
    number = id_number(datetime.date(2017, 3, 14))
    error = only_error(run(world, [row(身份证号=float(number[:17] + "1"))]))
    assert error.column == "身份证号" and "文本" in error.message


def test_duplicate_id_number_in_the_file_names_both_rows(world):
    first = row()
    result = run(world, [first, row(姓名="李小明二", 学籍号="G2", 身份证号=first["身份证号"])])
    assert [(e.row, e.column) for e in result.errors] == [(2, "身份证号"), (3, "身份证号")]
    assert all("第2、3行" in e.message for e in result.errors)
    assert Student.objects.count() == 0


def test_duplicate_student_number_in_the_file(world):
    result = run(world, [row(学籍号="G1"), row(birth=datetime.date(2017, 1, 2), 学籍号="G1")])
    assert [(e.row, e.column) for e in result.errors] == [(2, "学籍号"), (3, "学籍号")]


def test_id_number_registered_outside_the_area_is_refused_without_saying_where(world):
    other = world.user("xz2_xx1_guanli")
    elsewhere = services.student_create(by=other, data=student_data(other.school))
    result = run(world, [row(身份证号=elsewhere.id_number, 出生日期=elsewhere.birth_date)])
    error = only_error(result)
    assert (error.row, error.column) == (2, "身份证号")
    assert "管辖范围以外" in error.message
    assert "小湾东镇" not in error.message and elsewhere.name not in error.message
    elsewhere.refresh_from_db()
    assert elsewhere.school == other.school and Student.objects.count() == 1


def test_student_number_of_another_child_is_refused(world):
    user = world.user(IMPORTER)
    other = services.student_create(by=user, data=student_data(user.school, student_number="G9"))
    error = only_error(run(world, [row(学籍号="G9")]))
    assert error.column == "学籍号" and XZ1_XX1 in error.message  # in the area: told where
    assert Student.objects.get() == other


def test_a_known_child_at_another_school_of_the_area_must_be_transferred(world):
    user = world.user(IMPORTER)
    existing = services.student_create(by=user, data=student_data(user.school))
    branch = school("南涧镇完全小学")
    result = run(world, [row(branch, 身份证号=existing.id_number, 出生日期=existing.birth_date)])
    error = only_error(result)
    assert error.column == "学校标识码" and "转出" in error.message


def test_a_dropped_out_child_is_not_put_back_by_a_roster(world):
    user = world.user(IMPORTER)
    existing = services.student_create(by=user, data=student_data(user.school))
    services.event_record(
        by=user,
        student=existing,
        kind=EventKind.DROP_OUT,
        date=timezone.localdate(),
        reason="外出务工",
    )
    result = run(world, [row(身份证号=existing.id_number, 出生日期=existing.birth_date)])
    error = only_error(result)
    assert error.column == "身份证号" and "辍学" in error.message


def test_one_upload_lists_cell_errors_and_system_duplicates_together(world):
    other = world.user("xz2_xx1_guanli")
    elsewhere = services.student_create(by=other, data=student_data(other.school))
    rows = [
        row(监护人电话="123"),
        row(身份证号=elsewhere.id_number, 出生日期=elsewhere.birth_date, 学籍号="G5"),
    ]
    result = run(world, rows)
    assert [(e.row, e.column) for e in result.errors] == [(2, "监护人电话"), (3, "身份证号")]


def test_many_bad_rows_are_all_reported(world):
    rows = [row(birth=datetime.date(2017, 1, n), 监护人电话="123") for n in range(1, 6)]
    result = run(world, rows)
    assert [e.row for e in result.errors] == [2, 3, 4, 5, 6]


# Bad files ---------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "reason"),
    [
        (
            b"\xe5\xa7\x93\xe5\x90\x8d,\xe6\x80\xa7\xe5\x88\xab\n",
            "花名册.txt",
            "不是有效的 Excel（.xlsx）",
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "花名册.xlsx", "不是有效的 Excel（.xlsx）"),
        (_zip({"word/document.xml": b"<w/>"}), "花名册.xlsx", "不是有效的 Excel（.xlsx）"),
        (
            _zip({"xl/workbook.xml": b"<not-really/>", "[Content_Types].xml": b"<x/>"}),
            "花名册.xlsx",
            "不是有效的 Excel（.xlsx）",
        ),
        (b"", "花名册.xlsx", "文件是空的"),
    ],
)
def test_files_that_are_not_rosters_are_refused(world, content, filename, reason):
    before = counts()
    with pytest.raises(AppError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        import_roster(by=world.user(IMPORTER), content=content, filename=filename)
    assert counts() == before


def test_a_workbook_without_rows_is_refused(world):
    with pytest.raises(AppError, match="没有学生数据"):
        run(world, xlsx([]))
    buffer = io.BytesIO()
    Workbook().save(buffer)
    with pytest.raises(AppError, match="没有内容"):
        run(world, buffer.getvalue())


def test_wrong_headings_are_named(world):
    headings = [h for h in HEADINGS if h != "民族"] + ["备注"]
    with pytest.raises(AppError) as refused:
        run(world, xlsx([row()], headings=headings))
    assert "缺少列“民族”" in refused.value.message
    assert "无法识别的列“备注”" in refused.value.message


def test_too_large_a_file_is_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 1000)
    with pytest.raises(AppError, match="超过 .* 的上限"):
        run(world, [row()])


def test_too_many_rows_are_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    rows = [row(birth=datetime.date(2017, 1, n)) for n in range(1, 4)]
    with pytest.raises(AppError, match="文件有 3 行数据，超过单次导入 2 行的上限"):
        run(world, rows)
    assert run(world, rows[:2]).created == 2


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UNZIPPED_BYTES", 1024 * 1024)
    # 4 MB of zeros deflate to a few kB: small upload, large inflation.
    bomb = _zip(
        {
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"0" * (4 * 1024 * 1024),
        }
    )
    assert len(bomb) < 20_000
    with pytest.raises(AppError, match="解压后超过"):
        run(world, bomb)


# Progress, annotations, jobs ---------------------------------------------------------------


def test_progress_is_reported_while_checking_and_writing(world, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(imports, "WRITE_BATCH", 2)
    calls = []
    rows = [row(birth=datetime.date(2017, 1, n)) for n in range(1, 6)]
    run(world, rows, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 10) and calls[-1] == (10, 10)
    assert (2, 10) in calls and (4, 10) in calls  # while checking
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert any(done > 5 for done, _ in calls[:-1])  # while writing


def test_annotated_workbook_marks_bad_rows_and_keeps_formulas_as_text(world):
    content = xlsx([row(), row(), row()])
    errors = [
        RowError(3, "身份证号", "身份证号校验位不正确，请核对号码。"),
        RowError(3, "年级", "年级应在1–9之间（小学一年级至初三）。"),
        RowError(4, "", '=HYPERLINK("http://example.com")'),
    ]
    book = load_workbook(io.BytesIO(annotated_errors_bytes(content, errors)))
    sheet = book.active
    last = len(HEADINGS) + 1
    assert sheet.cell(row=1, column=last).value == "错误说明"
    assert sheet.cell(row=2, column=last).value is None
    assert sheet.cell(row=3, column=last).value == (
        "身份证号：身份证号校验位不正确，请核对号码。；年级：年级应在1–9之间（小学一年级至初三）。"
    )
    formula = sheet.cell(row=4, column=last)
    assert formula.value.startswith("=HYPERLINK") and formula.data_type == "s"


def _start(world, content, username=IMPORTER):
    return jobs.job_start(
        by=world.user(username),
        kind=JobKind.ROSTER_IMPORT,
        params={"filename": "花名册.xlsx"},
        upload=ContentFile(content, name="花名册.xlsx"),
    )


def test_import_job_runs_through_job_run_and_removes_the_upload(world):
    job = _start(world, xlsx([row(), row(birth=datetime.date(2017, 8, 8), 姓名="二")]))
    upload = job.params["upload"]
    assert upload.startswith("jobs/uploads/") and default_storage.exists(upload)
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.message == "导入完成：新增 2 名，更新 0 名"
    assert job.percent == 100 and job.total == 4 and not default_storage.exists(upload)
    assert Student.objects.count() == 2


def test_import_job_with_bad_rows_fails_with_the_annotated_file_and_the_error_table(world):
    client = world.client(IMPORTER)
    rows = [row(), row(birth=datetime.date(2017, 8, 8), 姓名="二", 监护人电话="12")]
    job = _start(world, xlsx(rows))
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.message == "发现 1 行错误，未导入任何数据"
    assert job.result_name == f"花名册错误说明-{timezone.localdate():%Y%m%d}.xlsx"
    assert job.params["errors"][0]["row"] == 3 and job.params["error_count"] == 1
    assert not default_storage.exists(job.params["upload"])
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "错误明细" in page and "监护人电话" in page and "不是有效的电话号码" in page
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert "监护人电话" in sheet.cell(row=3, column=len(HEADINGS) + 1).value
    assert Student.objects.count() == 0


def test_import_job_refuses_a_bad_file_with_its_reason(world):
    job = _start(world, b"not a spreadsheet")
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "不是有效的 Excel" in job.message
    assert not job.result and not default_storage.exists(job.params["upload"])


def test_import_job_checks_the_requester_again_and_drops_the_upload(world):
    user = world.user(IMPORTER)
    job = _start(world, xlsx([row()]))
    user.role = "class_teacher"
    user.save()
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "已无此权限" in job.message
    assert not default_storage.exists(job.params["upload"]) and Student.objects.count() == 0


def test_only_roles_that_manage_students_may_start_an_import(world):
    for username in ("xz1_xx1_banzhuren", "xz1_ganbu", "shi_dudao"):
        with pytest.raises(AppError, match="管理学生学籍"):
            _start(world, xlsx([row()]), username=username)
    assert not Job.objects.exists()


# Pages -------------------------------------------------------------------------------------


def _upload(content, name="花名册.xlsx"):
    return ContentFile(content, name=name)


def test_upload_page_starts_a_job_and_redirects_to_it(world):
    client = world.client(IMPORTER)
    page = client.get("/students/import/").content.decode()
    assert "上传并导入" in page and "/students/import/template/" in page and "20 MB" in page
    response = client.post("/students/import/", {"file": _upload(xlsx([row()]))})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == JobKind.ROSTER_IMPORT and job.params["filename"] == "花名册.xlsx"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "请选择要上传的花名册文件"),
        ({"file": _upload(b"a,b\n", name="roster.txt")}, "不是有效的 Excel（.xlsx）"),
        ({"file": _upload(b"%PDF-1.7 fake", name="roster.xlsx")}, "不是有效的 Excel（.xlsx）"),
    ],
)
def test_upload_page_refuses_wrong_files_in_chinese(world, data, message):
    response = world.client(IMPORTER).post("/students/import/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Job.objects.exists()


def test_upload_page_refuses_a_file_over_the_limit(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 1000)
    response = world.client(IMPORTER).post("/students/import/", {"file": _upload(b"x" * 2000)})
    assert "上限" in response.content.decode() and not Job.objects.exists()


def test_template_download_and_pages_need_the_capability(world):
    response = world.client(IMPORTER).get("/students/import/template/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.active.cell(row=2, column=HEADINGS.index("学校标识码") + 1).value == school().code
    for username in ("xz1_xx1_banzhuren", "xz1_ganbu"):
        client = world.client(username)
        assert client.get("/students/import/").status_code == 403
        assert client.get("/students/import/template/").status_code == 403
        assert client.post("/students/import/", {"file": _upload(b"x")}).status_code == 403


# Formulas ----------------------------------------------------------------------------------

FORMULA = "该单元格是公式，导入不读取公式的计算结果：请删除公式，直接填写{}（可复制后“选择性粘贴”为“数值”）。"


def test_formula_cells_are_reported_as_formulas_not_as_empty_cells(world):
    # openpyxl writes "=…" as a formula with no cached value: the reader sees an empty cell.
    content = xlsx([row(), row(birth=datetime.date(2017, 6, 1), 姓名="=A1", 年级="=1+1")])
    book = load_workbook(io.BytesIO(content))
    assert book.active["A3"].data_type == "f"
    result = run(world, content)
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "姓名", FORMULA.format("姓名")),
        (3, "年级", FORMULA.format("年级")),
    ]
    assert Student.objects.count() == 0


def test_a_row_holding_only_a_formula_is_reported(world):
    # Its cached value is empty, so the sheet as read may end before it.
    result = run(world, xlsx([row(), {"现住址": "=B2"}]))
    assert (3, "现住址", FORMULA.format("现住址")) in [
        (e.row, e.column, e.message) for e in result.errors
    ]


def test_formulas_on_other_sheets_are_not_the_rosters(world):
    book = load_workbook(io.BytesIO(xlsx([row()])))
    notes = book.create_sheet("说明", 0)  # first: the roster is still found by its title
    notes["A1"] = "=1+1"
    buffer = io.BytesIO()
    book.save(buffer)
    result = run(world, buffer.getvalue())
    assert result.ok and result.created == 1, result.errors


def test_a_formula_cell_that_does_not_name_its_place_refuses_the_file(world):
    content = xlsx([row(), row(birth=datetime.date(2017, 6, 1), 姓名="=A1")])
    members = {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            members[name] = archive.read(name)
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet].replace(b' r="A3"', b"")
    with pytest.raises(AppError, match="文件中有公式单元格"):
        run(world, _zip(members))
