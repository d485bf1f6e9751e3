"""Taking in a comparison list (issue 13 rule 1): every row validated and normalised, bad rows
named in a downloadable error list, bad checksums reported but not fatal, the same file twice
recognised, the mapping remembered, and a failed upload writing nothing."""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from openpyxl import Workbook, load_workbook

from accounts.models import AuditEvent, Region
from comparisons import sources
from comparisons.choices import SourceKind
from comparisons.models import ColumnMapping, Source, SourceRow
from kongchuo.errors import AppError
from students.choices import KeyGroup, Status
from tests.students.factories import id_number

pytestmark = pytest.mark.django_db

STAFF = "xian_staff"
BIRTH = datetime.date(2017, 3, 14)
HEADINGS = ["姓名", "公民身份号码", "出生日期", "性别", "户籍地", "监护人姓名"]


def person(name="李小明", *, birth=BIRTH, gender="M", id_text=None, place="南涧镇新政村"):
    number = id_number(birth, gender) if id_text is None else id_text
    return [name, number, f"{birth:%Y-%m-%d}", "男" if gender == "M" else "女", place, "李大山"]


def csv_file(rows, headings=HEADINGS, encoding="utf-8", name="户籍名单.csv") -> ContentFile:
    lines = [",".join(headings), *(",".join(str(c) for c in row) for row in rows)]
    return ContentFile(("\r\n".join(lines) + "\r\n").encode(encoding), name=name)


def xlsx_file(rows, headings=HEADINGS, name="户籍名单.xlsx") -> ContentFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return ContentFile(buffer.getvalue(), name=name)


def upload(world, file=None, *, kind=SourceKind.HOUSEHOLD, username=STAFF, **kwargs):
    return sources.source_upload(by=world.user(username), kind=kind, file=file, **kwargs)


def counts():
    return (
        Source.objects.count(),
        SourceRow.objects.count(),
        ColumnMapping.objects.count(),
        AuditEvent.objects.count(),
    )


def staged(source) -> dict[int, SourceRow]:
    return {row.row: row for row in SourceRow.objects.filter(source=source)}


def village(name, county="532926") -> Region:
    return Region.objects.get(name=name, code__startswith=county, level=5)


def test_a_household_csv_is_staged_normalised_with_its_snapshot(world):
    """Rule 1: a source is a snapshot (who, when, rows, hash); rows are normalised."""
    rows = [
        person(),
        # Full-width digits, spaces and a middle dot: normalised for matching.
        ["阿依古丽·买买提", " ５３２９２６" + id_number(BIRTH, "F")[6:], "", "", "西山村", ""],
    ]
    result = upload(world, csv_file(rows))
    assert result.created and result.errors == []
    source = result.source
    assert (source.county.code, source.kind, source.name) == ("532926", "household", "户籍名单.csv")
    assert (source.row_count, source.error_count, source.encoding) == (2, 0, "UTF-8")
    assert source.uploaded_by.username == STAFF and len(source.sha256) == 64
    assert source.mapping == {
        "name": "姓名",
        "id_number": "公民身份号码",
        "birth_date": "出生日期",
        "gender": "性别",
        "region": "户籍地",
        "guardian": "监护人姓名",
    }
    first, second = staged(source)[2], staged(source)[3]
    assert (first.name, first.birth_date, first.gender, first.guardian) == (
        "李小明",
        BIRTH,
        "M",
        "李大山",
    )
    assert first.id_valid and first.region == village("新政村")
    # Birth date and sex come from a valid ID number when the list leaves them out.
    assert second.id_number.isascii() and second.id_valid
    assert (second.birth_date, second.gender, second.name_key) == (BIRTH, "F", "阿依古丽买买提")
    assert second.region == village("西山村")
    assert AuditEvent.objects.filter(detail__startswith="上传比对名单").count() == 1
    # The comparison starts after each upload (queued when the transaction commits).
    assert result.run.source == source and result.run.status == "queued"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_gbk_and_other_encodings_give_the_same_rows(world, encoding):
    """Rule 1: GBK/GB18030 input, detected."""
    result = upload(world, csv_file([person("张三丰")], encoding=encoding))
    assert result.created and staged(result.source)[2].name == "张三丰"


def test_xlsx_date_cells_serials_and_text_dates_are_read(world):
    rows = [
        ["李一", id_number(BIRTH), datetime.datetime(2017, 3, 14), "男", "新政村", ""],
        ["李二", "", 42808, "男", "新政村", ""],  # an Excel serial: 2017-03-14
        ["李三", "", "2017年3月14日", "男", "新政村", ""],
        ["李四", "", 20170314, "男", "新政村", ""],
    ]
    result = upload(world, xlsx_file(rows))
    assert result.errors == [] and result.source.encoding == "XLSX"
    assert {row.birth_date for row in staged(result.source).values()} == {BIRTH}


def test_an_id_number_excel_turned_into_a_number_is_an_error_with_the_fix(world):
    """An ID number stored as a number (or scientific notation in CSV) has lost digits: the
    row is refused, naming row and column, and saying how to fix it."""
    workbook_rows = [person(), ["王五", 532926201703140000, "2017-03-14", "男", "新政村", ""]]
    result = upload(world, xlsx_file(workbook_rows))
    assert result.source.error_count == 1 and set(staged(result.source)) == {2}
    (error,) = result.errors
    assert (error["row"], error["field"], error["level"]) == (3, "公民身份号码", "error")
    assert "文本" in error["message"]
    text_rows = [person(), ["王五", "5.32926E+17", "2017-03-14", "男", "新政村", ""]]
    (error,) = upload(world, csv_file(text_rows)).errors
    assert error["row"] == 3 and "科学计数法" in error["message"] and "文本" in error["message"]


def test_a_bad_checksum_is_reported_but_not_fatal(world):
    """Rule 1: IDs with bad checksums are reported, not fatal: kept, marked, compared."""
    good = id_number(BIRTH)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    result = upload(world, csv_file([person(), person("王芳", id_text=bad)]))
    assert result.created and result.source.error_count == 0
    row = staged(result.source)[3]
    assert row.id_number == bad and not row.id_valid
    (warning,) = result.errors
    assert warning["level"] == "warning" and warning["row"] == 3 and "校验位" in warning["message"]


def test_duplicated_id_numbers_in_one_list_are_error_rows(world):
    """Bad input: duplicated ID numbers inside one list — every copy named, none staged."""
    twice = id_number(BIRTH)
    rows = [person(id_text=twice), person(), person("李小明", id_text=twice)]
    result = upload(world, csv_file(rows))
    assert set(staged(result.source)) == {3}
    assert (result.source.row_count, result.source.error_count) == (3, 2)
    assert [(e["row"], e["field"]) for e in result.errors] == [
        (2, "公民身份号码"),
        (4, "公民身份号码"),
    ]
    assert all("第2、4行" in e["message"] for e in result.errors)


def test_rows_around_a_place_code_looked_up_elsewhere_are_all_staged_and_checked(world):
    """Rule 1 (one COPY): a 户籍地 code outside the county is looked up mid-list, and the
    rows before and after it are staged in order, ID numbers repeated across it still
    found, and a failure after it still writes nothing."""
    outside = Region.objects.get(code__startswith="530102", level=5, name="新政村").code
    twice = id_number(BIRTH)
    rows = [
        person("甲", id_text=twice),
        person("乙", birth=BIRTH - datetime.timedelta(1), place=outside),
        person("丙", birth=BIRTH - datetime.timedelta(2), place=outside),
        person("丁", id_text=twice, place="999999999999"),
        person("戊", birth=BIRTH - datetime.timedelta(3)),
    ]
    result = upload(world, csv_file(rows))
    kept = staged(result.source)
    assert {n: r.name for n, r in kept.items()} == {3: "乙", 4: "丙", 6: "戊"}
    assert kept[3].region.code == kept[4].region.code == outside
    assert [(e["row"], e["level"]) for e in result.errors] == [
        (2, "error"),
        (5, "error"),
        (5, "warning"),
    ]
    assert (result.source.row_count, result.source.error_count) == (5, 2)
    before = counts()
    with pytest.raises(AppError, match="CSV 文件格式有误"):
        content = csv_file(rows[1:]).read() + ('己,"' + "x" * 200_000 + '",,,,').encode()
        upload(world, ContentFile(content, name="broken.csv"))
    assert counts() == before


def test_rows_at_fault_are_named_and_the_rest_are_staged(world):
    rows = [
        person(),
        ["", id_number(BIRTH), "", "", "", ""],  # no name
        ["李六", "", "", "男", "", ""],  # neither ID number nor birth date
        ["李七", "1234", "", "", "", ""],  # no ID number at all
        ["李八", "", "2017-02-30", "", "", ""],  # no such date
        ["李九", "", "2017-03-14", "未知", "", ""],
    ]
    result = upload(world, csv_file(rows))
    assert set(staged(result.source)) == {2}
    found = {(e["row"], e["field"]): e["message"] for e in result.errors}
    assert found[(3, "姓名")] == "请填写姓名。"
    assert "身份证号或出生日期" in found[(4, "公民身份号码")]
    assert "18位" in found[(5, "公民身份号码")]
    assert "不是有效的日期" in found[(6, "出生日期")]
    assert "男" in found[(7, "性别")]
    assert result.source.error_count == 5 and "5行有误" in result.message


def test_missing_required_columns_refuse_the_list_and_write_nothing(world):
    """Bad input: missing columns."""
    before = counts()
    with pytest.raises(AppError) as refused:
        upload(world, csv_file([["李小明", "2017-03-14"]], headings=["姓名", "出生日期"]))
    assert "缺少必需的列：身份证号" in refused.value.message
    assert refused.value.errors == {"mapping": [refused.value.message]}
    assert counts() == before


def test_the_same_file_twice_is_recognised_and_nothing_is_written(world):
    """Rule 1: the same file uploaded twice is recognised."""
    content = csv_file([person()]).read()
    first = upload(world, ContentFile(content, name="a.csv"))
    before = counts()
    again = upload(world, ContentFile(content, name="b.csv"))
    assert not again.created and again.source == first.source
    assert "已经上传过" in again.message and "a.csv" in again.message
    assert counts() == before
    # Another kind of list, or another county, is another snapshot.
    other = upload(world, ContentFile(content, name="a.csv"), kind=SourceKind.DISABILITY)
    assert other.created
    elsewhere = upload(world, ContentFile(content, name="a.csv"), username="c2_xian_staff")
    assert elsewhere.created and elsewhere.source.county.code == "530102"


def test_a_failed_upload_changes_nothing(world):
    """Bad input: nothing half-written — every row wrong, and a file that breaks off after
    many rows were already staged, leave every table as it was."""
    before = counts()
    with pytest.raises(AppError, match="都有错误，未导入任何数据"):
        upload(world, csv_file([["", "x", "", "", "", ""]] * 3))
    assert counts() == before
    broken = "\r\n".join(
        [",".join(HEADINGS)]
        + [",".join(person(f"李{n}", birth=BIRTH - datetime.timedelta(n))) for n in range(50)]
        + ['李末,"' + "x" * 200_000 + '",,,,']  # a field longer than CSV allows
    )
    with pytest.raises(AppError, match="CSV 文件格式有误"):
        upload(world, ContentFile(broken.encode(), name="broken.csv"))
    assert counts() == before


def test_the_mapping_is_remembered_and_suggested_next_time(world):
    headings = ["儿童名字", "证件", "户籍村"]
    rows = [["李小明", id_number(BIRTH), "新政村"]]
    county = world.user(STAFF).region
    guessed = sources.suggest_mapping(county, SourceKind.HOUSEHOLD, headings)
    assert guessed == {"region": "户籍村"}
    mapping = {"name": "儿童名字", "id_number": "证件", "region": "户籍村"}
    upload(world, csv_file(rows, headings=headings), mapping=mapping)
    assert ColumnMapping.objects.get(county=county, kind="household").mapping == mapping
    assert sources.suggest_mapping(county, SourceKind.HOUSEHOLD, headings) == mapping
    # The next list of the kind uses it without being told; other kinds have their own.
    rows.append(["王芳", id_number(BIRTH, "F"), "西山村"])
    again = upload(world, csv_file(rows, headings=headings, name="二月.csv"))
    assert again.created and again.source.mapping == mapping and again.source.row_count == 2
    assert sources.suggest_mapping(county, SourceKind.POVERTY, headings) == {"region": "户籍村"}


def test_a_mapping_that_does_not_fit_the_list_is_refused(world):
    file = csv_file([person()])
    cases = [
        ({"name": "姓名", "id_number": "身份证"}, "名单中没有列“身份证”"),
        ({"name": "姓名", "id_number": "姓名"}, "被对应到了多个字段"),
        ({"name": "姓名", "id_number": "公民身份号码", "status": "性别"}, "本类名单没有的字段"),
        ('{"name": "姓名"', "不是有效的 JSON"),
    ]
    for mapping, message in cases:
        with pytest.raises(AppError, match=message) as refused:
            upload(world, file, mapping=mapping)
        assert "mapping" in refused.value.errors
    assert not Source.objects.exists()


def test_headings_with_common_synonyms_are_guessed(world):
    headings = [
        "序号",
        "学生姓名",
        "身份证号码（必填）",
        "出生年月",
        "户籍所在地",
        "户类型",
        "学校名称",
    ]
    mapping = sources.suggest_mapping(world.user(STAFF).region, SourceKind.POVERTY, headings)
    assert mapping == {
        "name": "学生姓名",
        "id_number": "身份证号码（必填）",
        "birth_date": "出生年月",
        "region": "户籍所在地",
        "key_group": "户类型",
        "school_name": "学校名称",
    }


def test_fields_per_kind_and_which_are_required():
    required = {
        kind: [f.label for f in fields if f.required] for kind, fields in sources.FIELDS.items()
    }
    assert required == {
        "household": ["姓名", "身份证号"],
        "poverty": ["姓名", "身份证号"],
        "disability": ["姓名", "身份证号"],
        "xueji": ["姓名", "身份证号", "学籍状态"],
    }
    assert [f.label for f in sources.FIELDS["xueji"]][-4:] == [
        "学籍号",
        "学籍状态",
        "学校标识码",
        "就读学校",
    ]


def test_the_fields_of_each_kind_are_kept_as_our_values(world):
    poverty = upload(
        world,
        csv_file(
            [
                person() + ["脱贫户", "南涧镇中心学校"],
                person("王芳", gender="F") + ["边缘易致贫户", ""],
            ],
            headings=HEADINGS + ["户类型", "就读学校"],
        ),
        kind=SourceKind.POVERTY,
    )
    rows = staged(poverty.source)
    assert rows[2].extra == {"key_group": KeyGroup.POVERTY_REGISTERED}
    assert rows[2].school_name == "南涧镇中心学校"
    assert rows[3].extra == {"key_group": KeyGroup.RELAPSE_MONITORED}
    disability = upload(
        world,
        csv_file(
            [person() + ["肢体残疾", "二级"], person("王芳", gender="F") + ["智力", "4"]],
            headings=HEADINGS + ["残疾类别", "残疾等级"],
        ),
        kind=SourceKind.DISABILITY,
    )
    assert [r.extra for r in staged(disability.source).values()] == [
        {"disability_type": "physical", "disability_grade": 2},
        {"disability_type": "intellectual", "disability_grade": 4},
    ]
    xueji = upload(
        world,
        csv_file(
            [
                person() + ["G5329", "辍学", "2153000001"],
                person("王芳", gender="F") + ["", "在读", ""],
            ],
            headings=HEADINGS + ["学籍号", "学籍状态", "学校标识码"],
        ),
        kind=SourceKind.XUEJI,
    )
    assert [r.extra for r in staged(xueji.source).values()] == [
        {"student_number": "G5329", "status": Status.DROPPED_OUT, "school_code": "2153000001"},
        {"status": Status.ENROLLED},
    ]
    refused = upload(
        world,
        csv_file(
            [person() + ["在读"], person("王芳") + ["不知道"]], headings=HEADINGS + ["学籍状态"]
        ),
        kind=SourceKind.XUEJI,
    )
    (error,) = refused.errors
    assert error["row"] == 3 and error["message"].startswith("学籍状态应为在读、休学")


def test_household_places_by_name_code_or_with_the_county_in_front(world):
    county_b_village = Region.objects.get(code__startswith="530102", level=5, name="新政村")
    rows = [
        person("甲", place="云南省大理白族自治州南涧彝族自治县南涧镇新政村3组"),
        person("乙", place=village("西山村").code),
        person("丙", place=county_b_village.code),  # a 户籍地 outside the county, by code
        person("丁", place="小湾东镇"),
        person("戊", place="火星村"),
        person("己", place="999999999999"),
    ]
    result = upload(world, csv_file(rows))
    regions = {r.name: r.region for r in staged(result.source).values()}
    assert regions["甲"] == village("新政村") and regions["乙"] == village("西山村")
    assert regions["丙"] == county_b_village
    assert regions["丁"] == Region.objects.get(code__startswith="532926", level=4, name="小湾东镇")
    assert regions["戊"] is None and regions["己"] is None
    warnings = [(e["row"], e["level"]) for e in result.errors]
    assert warnings == [(6, "warning"), (7, "warning")] and result.source.error_count == 0


def test_a_birth_date_that_disagrees_with_the_id_number_is_a_warning(world):
    row = person()
    row[2] = "2016-01-01"
    result = upload(world, csv_file([row]))
    (warning,) = result.errors
    assert warning["level"] == "warning" and "不一致" in warning["message"]
    assert staged(result.source)[2].birth_date == datetime.date(2016, 1, 1)


def test_json_rows_take_the_same_path(world):
    """Interfaces: the API's JSON rows are read and checked like a file's."""
    rows = [
        {"name": "李小明", "id_number": id_number(BIRTH), "region": "新政村"},
        {"name": "王芳", "id_number": 532926201703140000},
    ]
    result = sources.source_upload(by=world.user(STAFF), kind="household", rows=rows)
    assert result.created and result.source.encoding == "JSON"
    assert result.source.mapping == {"name": "name", "id_number": "id_number", "region": "region"}
    assert [(e["row"], e["field"]) for e in result.errors] == [(2, "id_number")]
    again = sources.source_upload(by=world.user(STAFF), kind="household", rows=rows)
    assert not again.created
    with pytest.raises(AppError, match="本类名单没有的字段：school"):
        sources.source_upload(by=world.user(STAFF), kind="household", rows=[{"school": "x"}])
    with pytest.raises(AppError, match="二者选一"):
        sources.source_upload(by=world.user(STAFF), kind="household")


def test_the_error_list_downloads_as_a_workbook(world):
    good = id_number(BIRTH)
    rows = [person(), person("王芳", id_text=good[:-1] + ("0" if good[-1] != "0" else "1"))]
    rows.append(["", "", "", "", "", ""])
    rows.append(["李四", "", "", "", "", ""])
    result = upload(world, csv_file(rows))
    content, filename = sources.errors_workbook(result.source)
    assert filename == "户籍名单-错误清单.xlsx"
    sheet = load_workbook(io.BytesIO(content)).active
    values = list(sheet.values)
    assert values[0] == ("行号", "列", "类型", "说明")
    assert [(r[0], r[1], r[2]) for r in values[1:]] == [
        (3, "公民身份号码", "提醒（已导入）"),
        (5, "公民身份号码", "错误（未导入）"),
    ]


def test_only_county_accounts_upload_and_sources_stay_in_their_county(world):
    """Rule 6 / jurisdiction: a school may not upload; county B does not see county A's list."""
    for username in ("xz1_xx1_guanli", "xz1_ganbu", "shi_dudao"):
        with pytest.raises(AppError):
            upload(world, csv_file([person()]), username=username)
    source = upload(world, csv_file([person()])).source
    assert not Source.objects.for_user(world.user("c2_xian_staff")).filter(pk=source.pk).exists()
    assert not Source.objects.for_user(world.user("xz1_xx1_guanli")).filter(pk=source.pk).exists()
    assert Source.objects.for_user(world.user("shi_dudao")).filter(pk=source.pk).exists()


def test_json_rows_with_values_no_list_holds_are_refused_not_crashed(world):
    """Bad input through the API: odd JSON values give row errors or a clear refusal."""
    by = world.user(STAFF)
    rows = [
        {"name": "李小明", "id_number": id_number(BIRTH)},
        {"name": "王芳", "birth_date": 10**30, "gender": ["女"], "guardian": {"x": 1}},
    ]
    result = sources.source_upload(by=by, kind="household", rows=rows)
    assert {(e["row"], e["field"]) for e in result.errors} == {(2, "birth_date"), (2, "gender")}
    for bad in ("李\x00明", "李\ud800明"):
        with pytest.raises(AppError, match="rows 中含有"):
            sources.source_upload(by=by, kind="household", rows=[{"name": bad, "id_number": ""}])


def test_progress_is_reported_while_the_rows_are_read(world, monkeypatch):
    """Issue 13: the upload job's bar moves while a long list is read."""
    from comparisons import sources

    monkeypatch.setattr(sources, "PROGRESS_EVERY", 2)
    told = []
    rows = [[f"学生{i}", "", "2017-03-14", "男", "", ""] for i in range(5)]
    upload(world, csv_file(rows), progress=lambda done, total: told.append((done, total)))
    assert [done for done, _ in told] == [2, 4]
    assert all(total >= done for done, total in told)


def test_a_hong_kong_or_taiwan_document_in_a_list_is_kept_and_matched_by_that_number(world):
    """Issue 18: a child whose document is not a 居民身份证 is first-class in the comparisons
    too. A list has no 身份证件类型 column: a number of such a document's shape is kept, with
    a warning, and matches the student stored with it; a number of no shape is still refused."""
    from comparisons import engine
    from comparisons.models import Mismatch, Run
    from students.models import IdType
    from tests.comparisons.engine_data import student

    child = student(name="陈家明", id_type=IdType.HONG_KONG, with_id=False)
    child.id_number = "A1234567"
    child.save()
    rows = [
        ["陈家明", "A123456(7)", f"{child.birth_date:%Y-%m-%d}", "男", "南涧镇新政村", ""],
        ["林小台", "12345678", "2019-05-02", "女", "南涧镇新政村", ""],
        ["错号码", "12345", "2019-05-02", "女", "南涧镇新政村", ""],
    ]
    result = upload(world, csv_file(rows))
    messages = {p["row"]: p for p in result.errors}
    assert messages[2]["level"] == messages[3]["level"] == "warning"
    assert "不是居民身份证号，按港澳台或外国人证件号码比对" in messages[3]["message"]
    assert messages[4]["level"] == "error"
    staged = dict(SourceRow.objects.filter(source=result.source).values_list("name", "id_number"))
    assert staged == {"陈家明": "A1234567", "林小台": "12345678"}
    run = engine.compare(
        Run.objects.create(county=result.source.county, kind="household", source=result.source)
    )
    not_enrolled = set(
        Mismatch.objects.filter(run=run, kind="not_enrolled").values_list("name", flat=True)
    )
    assert "陈家明" not in not_enrolled and "林小台" in not_enrolled
