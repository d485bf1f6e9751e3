"""Issue 18: the national 学籍 system's student export imports as it is (real XLSX files in
its layout, and a GBK CSV), through the roster import's one write path, and exports back."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from accounts import jobs
from accounts.choices import JobKind, JobStatus
from accounts.models import AuditEvent, Job, Region
from kongchuo.errors import AppError
from kongchuo.masking import mask_id_number
from students import national
from students.choices import ETHNIC_GROUPS, DisabilityType
from students.identity import validate_document
from students.imports import OTHER_DOCUMENT_PROOF, annotated_errors_bytes, import_roster
from students.models import EnrollmentEvent, Guardian, IdType, Student
from tests.students.factories import id_number
from tests.students.test_import import IMPORTER, counts, school

pytestmark = pytest.mark.django_db

HEADINGS = national.NATIONAL_HEADINGS
BIRTH = datetime.date(2017, 3, 14)


def row(school_obj=None, *, birth=BIRTH, gender="1", **overrides):
    """A valid national row (heading → cell, as the national system writes it)."""
    school_obj = school_obj or school()
    number = id_number(birth, "M" if gender == "1" else "F")
    values = {
        "姓名": "李小明",
        "性别": gender,
        "出生日期": f"{birth:%Y%m%d}",
        "民族": "07",
        "身份证件类型": "1",
        "身份证件号": number,
        "学籍号": f"G{number}",
        "学校标识码": school_obj.code,
        "年级": "13",
        "班级": "1班",
        "入学年月": "202309",
        "户口所在地": school_obj.township.code,
        "现住址": "南涧镇新政村3组",
        "成员1姓名": "李大山",
        "成员1关系": "51",
        "成员1联系电话": "13812345678",
        "是否留守儿童": "2",
        "是否进城务工人员随迁子女": "0",
        "是否孤儿": "0",
        "是否残疾": "0",
        "残疾类型": "0",
    }
    values.update(overrides)
    return values


def xlsx(rows, headings=HEADINGS, *, title="学生信息") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(headings))
    for values in rows:
        sheet.append([values.get(heading, "") for heading in headings])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world, content, filename="学生信息.xlsx", username=IMPORTER):
    if not isinstance(content, bytes):
        content = xlsx(content)
    return import_roster(by=world.user(username), content=content, filename=filename)


def errors_of(result):
    return [(e.row, e.column, e.message) for e in result.errors]


# Recognising the layout --------------------------------------------------------------------


def test_a_national_export_imports_as_it_is_through_the_roster_import(world):
    result = run(world, [row()])
    assert result.ok, result.errors
    assert (result.created, result.updated) == (1, 0)
    child = Student.objects.get()
    assert (child.gender, child.birth_date, child.ethnicity) == ("M", BIRTH, "彝族")
    assert child.id_type == IdType.RESIDENT and child.student_number == f"G{child.id_number}"
    assert (child.grade, child.klass.name, child.entry_date) == (
        3,
        "1班",
        datetime.date(2023, 9, 1),
    )
    assert child.hukou_region == school().township and child.address == "南涧镇新政村3组"
    assert child.left_behind and not (child.migrant or child.orphan or child.disabled)
    assert [(g.name, g.relation, g.phone) for g in child.guardians.all()] == [
        ("李大山", "父亲", "13812345678")
    ]
    event = child.events.get()
    assert event.reason == "花名册导入建档" and event.document == ""
    assert AuditEvent.objects.filter(object_id=str(child.pk), detail="花名册导入").exists()


def test_headings_of_neither_format_name_what_each_format_lacks(world):
    with pytest.raises(AppError) as caught:
        run(world, xlsx([{"姓名": "李小明"}], headings=("姓名", "性别", "备注")))
    message = caught.value.message
    assert "既不是本系统花名册模板，也不是全国学籍系统导出格式" in message
    assert "按花名册模板缺少列“出生日期”" in message and "“身份证号”" in message
    assert "按全国学籍系统导出格式缺少列“出生日期”" in message and "“身份证件类型”" in message
    assert Student.objects.count() == 0


def test_a_national_file_lacking_a_required_column_names_it(world):
    headings = [h for h in HEADINGS if h != "身份证件类型"]
    with pytest.raises(AppError) as caught:
        run(world, xlsx([row()], headings=headings))
    assert "像是全国学籍系统导出格式，但缺少列“身份证件类型”" in caught.value.message


def test_a_file_mixing_both_formats_is_refused_and_nothing_written(world):
    headings = [*HEADINGS, "身份证号", "户籍地区划代码"]
    with pytest.raises(AppError) as caught:
        run(world, xlsx([row()], headings=headings))
    message = caught.value.message
    assert "混用了两种格式" in message
    assert "“身份证号”、“户籍地区划代码”是本系统花名册模板的列" in message
    assert "“身份证件类型”" in message and counts()[0] == 0


def test_national_columns_the_ledger_does_not_keep_are_skipped_and_aliases_read(world):
    headings = [h.replace("学籍号", "全国学籍号") for h in HEADINGS] + ["政治面貌", "健康状况"]
    values = row()
    values["全国学籍号"] = values.pop("学籍号")
    values |= {"政治面貌": "少先队员", "健康状况": "1"}
    result = run(world, xlsx([values], headings=headings))
    assert result.ok, result.errors
    assert Student.objects.get().student_number == values["全国学籍号"]


# Code tables ------------------------------------------------------------------------------


def test_every_ethnicity_code_of_gb_t_3304_reads_as_its_name(world):
    assert len(ETHNIC_GROUPS) == 56
    assert national.ETHNICITY_CODES["01"] == "汉族" and national.ETHNICITY_CODES["56"] == "基诺族"
    assert national.ETHNICITY_CODES["97"] == "其他"
    assert national.ETHNICITY_CODES["98"] == "外国血统中国籍人士"
    rows = [
        row(birth=BIRTH + datetime.timedelta(days=n), 姓名=f"学生{n}", 民族=f"{n:02d}")
        for n in range(1, 57)
    ]
    result = run(world, rows)
    assert result.ok, result.errors[:3]
    stored = dict(Student.objects.values_list("name", "ethnicity"))
    assert [stored[f"学生{n}"] for n in range(1, 57)] == ETHNIC_GROUPS


def test_labels_are_accepted_beside_codes(world):
    values = row(性别="男", 民族="彝族", 身份证件类型="居民身份证", 年级="三年级")
    values |= {"是否留守儿童": "单亲留守儿童", "成员1关系": "母亲", "是否孤儿": "是"}
    result = run(world, [values])
    assert result.ok, result.errors
    child = Student.objects.get()
    assert (child.gender, child.ethnicity, child.grade) == ("M", "彝族", 3)
    assert child.left_behind and child.orphan and child.guardians.get().relation == "母亲"


def test_gender_left_behind_yes_no_grade_and_disability_codes(world):
    girl = row(gender="2", 姓名="王小芳")
    girl |= {"是否留守儿童": "1", "是否进城务工人员随迁子女": "1", "是否孤儿": "1"}
    girl |= {"是否残疾": "1", "残疾类型": "4", "年级": "21", "班级": "", "成员1关系": "62"}
    boy = row(姓名="张小军", 是否留守儿童="0", 年级="16", 班级="")
    result = run(world, [girl, boy])
    assert result.ok, result.errors
    her = Student.objects.get(name="王小芳")
    assert her.gender == "F" and her.grade == 7
    assert her.left_behind and her.migrant and her.orphan and her.disabled
    assert her.disability_type == DisabilityType.PHYSICAL
    assert her.guardians.get().relation == "祖母"
    him = Student.objects.get(name="张小军")
    assert him.grade == 6 and not him.left_behind and not him.disabled
    assert list(national.DISABILITY_CODES) == ["0", "1", "2", "3", "4", "5", "6", "7"]
    assert [national.DISABILITY_CODES[str(n)] for n in range(1, 8)] == DisabilityType.labels
    assert national.LEFT_BEHIND_CODES == {
        "0": "非留守儿童",
        "1": "单亲留守儿童",
        "2": "双亲留守儿童",
    }


def test_unknown_codes_are_named_with_their_column_and_nothing_written(world):
    bad = row(性别="3", 民族="60", 身份证件类型="4", 是否留守儿童="5", 残疾类型="9")
    result = run(world, [bad, row(姓名="王小芳", gender="2")])
    found = {(column, message.split("：")[0]) for _, column, message in errors_of(result)}
    assert ("性别", "性别的代码“3”无法识别") in found
    assert ("民族", "民族的代码“60”无法识别") in found
    assert ("身份证件类型", "身份证件类型的代码“4”无法识别") in found
    assert ("是否留守儿童", "是否留守儿童的代码“5”无法识别") in found
    assert ("残疾类型", "残疾类型的代码“9”无法识别") in found
    assert {e.row for e in result.errors} == {2}
    assert counts()[0] == 0


def test_division_by_name_or_code(world):
    township = school().township
    county = township.parent
    # The demo's second county repeats the township names: a bare name is ambiguous there.
    twins = sorted(Region.objects.filter(name=township.name).values_list("code", flat=True))
    assert len(twins) == 2
    result = run(
        world,
        [
            row(户口所在地=township.name, 姓名="按名称"),
            row(户口所在地=county.name + township.name, 姓名="带县名"),
            row(户口所在地="不存在镇", 姓名="无此地"),
        ],
    )
    assert errors_of(result) == [
        (
            2,
            "户口所在地",
            f"户口所在地“{township.name}”对应多个区划（{'、'.join(twins)}）："
            "请填写区划代码，或带上所在县、市的名称。",
        ),
        (4, "户口所在地", "户口所在地“不存在镇”不是已知的乡镇或村：请填写区划代码，或核对名称。"),
    ]
    result = run(world, [row(户口所在地=county.name + township.name, 姓名="带县名")])
    assert result.ok, result.errors
    assert Student.objects.get(name="带县名").hukou_region == township


# Documents other than a 居民身份证 ----------------------------------------------------------


def test_a_hong_kong_student_is_stored_with_the_type_and_checked_for_its_shape(world):
    child = row(身份证件类型="6", 身份证件号="A123456(7)", 学籍号="L5329260001", 民族="01")
    result = run(world, [child])
    assert result.ok, result.errors
    student = Student.objects.get()
    assert (student.id_type, student.id_number) == (IdType.HONG_KONG, "A1234567")
    assert student.student_number == "L5329260001"
    assert student.masked_id_number == "A*****67"
    # The same number as a 居民身份证 fails GB 11643; a wrong shape names the document.
    again = run(world, [row(身份证件号="A123456(7)", 姓名="错类型")])
    assert "身份证号应为18位" in again.errors[0].message and again.errors[0].column == "身份证件号"
    taiwan = run(world, [row(身份证件类型="8", 身份证件号="1234", 姓名="台生")])
    assert errors_of(taiwan) == [
        (
            2,
            "身份证件号",
            "“1234”不是有效的台湾居民来往大陆通行证号码：台湾居民来往大陆通行证为8位数字，居住证为830000开头的18位。",
        )
    ]


@pytest.mark.parametrize(
    ("id_type", "good", "bad"),
    [
        (IdType.HONG_KONG, "H12345678", "H123"),
        (IdType.MACAO, "1234567(8)", "ABC"),
        (IdType.TAIWAN, "12345678", "1234567X"),
        (IdType.PERMANENT_RESIDENCE, "USA123456789012", "US1234"),
        (IdType.PASSPORT, "E12345678", "ABCDEFG"),
    ],
)
def test_each_document_type_has_its_own_shape(id_type, good, bad):
    assert validate_document(id_type, good)
    with pytest.raises(AppError, match=IdType(id_type).label):
        validate_document(id_type, bad)
    with pytest.raises(AppError, match="请填写证件号码"):
        validate_document(id_type, "")


def test_an_other_document_student_without_a_number_is_accepted_with_the_schools_proof(world):
    result = run(world, [row(身份证件类型="Z", 身份证件号="", 学籍号="L5329260002")])
    assert result.ok, result.errors
    student = Student.objects.get()
    assert student.id_type == IdType.OTHER and student.id_number is None and student.id_missing
    assert student.events.get().document == OTHER_DOCUMENT_PROOF
    again = run(world, [row(身份证件类型="Z", 身份证件号="", 学籍号="L5329260002")])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_masking_hides_every_document_type():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("USA123456789012") == "USA123*****9012"
    assert mask_id_number("E12345678") == "E******78"
    assert mask_id_number("12345678") == "1*****78"
    assert mask_id_number("12345") == "*****"
    assert mask_id_number("") == ""


# What Excel did to the file ---------------------------------------------------------------


def test_an_id_number_in_scientific_notation_is_refused_with_how_to_fix_it(world):
    as_text = run(world, [row(身份证件号="5.32926E+17")])
    assert errors_of(as_text)[0][:2] == (2, "身份证件号")
    assert "科学计数法" in as_text.errors[0].message and "文本" in as_text.errors[0].message
    as_number = run(world, [row(身份证件号=532926201703140000.0)])
    assert as_number.errors[0].column == "身份证件号"
    assert "被存成了数字" in as_number.errors[0].message
    assert counts()[0] == 0


def test_a_serial_date_is_refused_not_guessed(world):
    result = run(world, [row(出生日期=42808), row(姓名="王", gender="2", 入学年月="45170")])
    assert [(e.row, e.column) for e in result.errors] == [(2, "出生日期"), (3, "入学年月")]
    assert "Excel 的日期序号" in result.errors[0].message and "20150314" in result.errors[0].message
    assert "202109" in result.errors[1].message
    # A true date cell is a date, not a guess.
    assert run(world, [row(出生日期=BIRTH)]).ok


def test_a_g_number_that_does_not_match_the_id_number_is_reported(world):
    other = id_number(BIRTH, "M")
    result = run(world, [row(学籍号=f"G{other}")])
    error = result.errors[0]
    assert (error.row, error.column) == (2, "学籍号") and "与身份证号不一致" in error.message
    assert counts()[0] == 0


def test_an_annotated_error_file_shades_the_national_cell(world):
    content = xlsx([row(性别="3")])
    result = run(world, content)
    annotated = load_workbook(io.BytesIO(annotated_errors_bytes(content, result.errors))).active
    assert annotated.cell(row=1, column=len(HEADINGS) + 1).value == "错误说明"
    assert annotated.cell(row=2, column=len(HEADINGS) + 1).value.startswith("性别：性别的代码“3”")
    assert annotated.cell(row=2, column=HEADINGS.index("性别") + 1).fill.fgColor.rgb.endswith(
        "FECACA"
    )


# CSV ---------------------------------------------------------------------------------------


def gbk_csv(rows, headings=HEADINGS) -> bytes:
    lines = [",".join(headings)]
    lines += [",".join(str(values.get(h, "")) for h in headings) for values in rows]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def test_a_gbk_csv_export_imports_and_its_errors_come_back_as_a_workbook(world):
    good = row()
    result = run(world, gbk_csv([good]), filename="学生信息.csv")
    assert result.ok, result.errors
    assert Student.objects.get().ethnicity == "彝族"
    content = gbk_csv([row(姓名="王小芳", gender="2", 身份证件号="5.32926E+17")])
    bad = run(world, content, filename="学生信息.csv")
    assert [(e.row, e.column) for e in bad.errors] == [(2, "身份证件号")]
    sheet = load_workbook(io.BytesIO(annotated_errors_bytes(content, bad.errors))).active
    assert sheet.cell(row=2, column=1).value == "王小芳"
    assert sheet.cell(row=2, column=HEADINGS.index("民族") + 1).value == "07"
    assert "科学计数法" in sheet.cell(row=2, column=len(HEADINGS) + 1).value


# Re-import and the round trip --------------------------------------------------------------


def snapshot():
    students = list(Student.objects.order_by("id").values())
    guardians = list(Guardian.objects.order_by("id").values())
    return students, guardians, EnrollmentEvent.objects.count(), AuditEvent.objects.count()


def test_reimporting_the_national_file_changes_nothing(world):
    content = xlsx([row(), row(姓名="港生", 身份证件类型="6", 身份证件号="H12345678", 学籍号="")])
    first = run(world, content)
    assert (first.created, first.updated) == (2, 0)
    before = snapshot()
    again = run(world, content)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot() == before


def test_what_the_national_layout_cannot_say_is_kept_as_stored(world):
    content = xlsx([row()])
    run(world, content)
    Student.objects.update(poverty_registered=True, entry_date=datetime.date(2023, 9, 4))
    result = run(world, content)
    assert (result.updated, result.unchanged) == (0, 1)
    child = Student.objects.get()
    assert child.poverty_registered and child.entry_date == datetime.date(2023, 9, 4)


def export(world, username=IMPORTER, **params):
    job = jobs.job_start(
        by=world.user(username),
        kind=JobKind.ROSTER_EXPORT,
        params={"layout": national.NATIONAL, **params},
    )
    jobs.job_run(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.DONE, job.message
    with job.result.open("rb") as handle:
        return handle.read()


def test_the_national_layout_export_imports_back_changing_nothing(world):
    girl = row(gender="2", 姓名="王小芳", 民族="01", 是否残疾="1", 残疾类型="2")
    girl |= {"成员1关系": "外婆", "是否进城务工人员随迁子女": "1"}
    other = row(姓名="其他证", 身份证件类型="Z", 身份证件号="", 学籍号="L5329260003")
    hk = row(姓名="港生", 身份证件类型="6", 身份证件号="A123456(7)", 学籍号="")
    assert run(world, [row(), girl, other, hk]).ok
    Student.objects.filter(name="李小明").update(
        entry_date=datetime.date(2023, 9, 4), low_income=True
    )
    before = snapshot()
    content = export(world, reveal=True)
    sheet = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert sheet[0] == HEADINGS
    by_name = {values[0]: dict(zip(HEADINGS, values, strict=True)) for values in sheet[1:]}
    assert by_name["王小芳"]["性别"] == "2" and by_name["王小芳"]["民族"] == "01"
    assert by_name["王小芳"]["残疾类型"] == "2" and by_name["港生"]["身份证件类型"] == "6"
    assert by_name["李小明"]["入学年月"] == "202309" and by_name["李小明"]["年级"] == "13"
    assert by_name["其他证"]["身份证件号"] in ("", None)
    again = run(world, content)
    assert again.ok, again.errors
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    students, guardians, events, _ = snapshot()
    assert (students, guardians, events) == before[:3]


def test_the_national_export_masks_every_document_type_unless_revealed(world):
    assert run(
        world, [row(), row(姓名="港生", 身份证件类型="6", 身份证件号="H12345678", 学籍号="")]
    ).ok
    sheet = list(load_workbook(io.BytesIO(export(world))).active.iter_rows(values_only=True))
    at = HEADINGS.index("身份证件号")
    numbers = {values[0]: values[at] for values in sheet[1:]}
    assert numbers["港生"] == "H******78"
    full = Student.objects.get(name="李小明").id_number
    assert numbers["李小明"] == mask_id_number(full) != full
    # The 学籍号 G + ID number would give the ID away: masked with it.
    student_numbers = {values[0]: values[HEADINGS.index("学籍号")] for values in sheet[1:]}
    assert full not in student_numbers["李小明"]
    assert student_numbers["李小明"] == mask_id_number(f"G{full}")


def test_query_count_of_a_national_file_does_not_grow_with_the_rows(world):
    township = school().township
    county = township.parent.name + township.name

    def queries(n):
        rows = [
            row(birth=BIRTH + datetime.timedelta(days=i), 姓名=f"学生{i}", 户口所在地=county)
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as captured:
            result = run(world, rows)
        assert result.ok and result.created == n, result.errors[:3]
        return len(captured)

    assert queries(2) == queries(20)


def test_ethnicity_codes_97_and_98_are_read_and_kept(world):
    """GB/T 3304's 97 其他 and 98 外国血统中国籍人士, as the national system writes them."""
    result = run(world, [row(民族="97"), row(姓名="王小芳", gender="2", 民族="98")])
    assert errors_of(result) == []
    assert set(Student.objects.values_list("ethnicity", flat=True)) >= {
        "其他",
        "外国血统中国籍人士",
    }


def test_optional_national_columns_left_out_of_the_file_keep_the_stored_values(world):
    values = row()
    run(world, [values])
    stored = Student.objects.get()
    optional = {"现住址", "成员1姓名", "成员1关系", "成员1联系电话", "户口所在地", "是否孤儿"}
    Student.objects.update(orphan=True)
    headings = [h for h in HEADINGS if h not in optional]
    result = run(world, xlsx([values], headings=headings))
    assert (result.updated, result.unchanged) == (0, 1), result.errors
    child = Student.objects.get()
    assert child.address == stored.address and child.hukou_region == stored.hukou_region
    assert child.orphan and [g.name for g in child.guardians.all()] == ["李大山"]
