"""Issue 3: a 100,000-row roster imported end to end by a county administrator — in our own
template, and (issue 18) the same children in the national 学籍 system's layout, each figure
beside the other in the same run.

The files are made here with XlsxWriter: valid, unique ID numbers (GB 11643 checksum), the
county's own schools and classes. Baseline: the same file read with python-calamine and its
rows COPYed into a temporary table (PostgreSQL; executemany on SQLite).

The import runs inside a transaction that is rolled back afterwards, and the tables it writes
are vacuumed before it, so the benchmark database stays as generated and the benchmarks can
be run again on it (BENCH_REUSE=1). The figure therefore leaves out the foreign-key checks
that PostgreSQL defers to COMMIT: they are timed after it, before the rollback, and printed
beside it.
"""

import datetime
import io
import random
import time

from .common import progress, record

TARGET_S = 30.0
USERNAME = "xian_admin"


class _Rollback(Exception):
    pass


def make_roster(
    rows: int, username: str = USERNAME, *, seed: int = 7, layout: str = "template"
) -> bytes:
    """A roster of ``rows`` new, valid children of ``username``'s schools, in our template
    (``layout="template"``) or in the national 学籍 system's layout ("national"): the same
    children either way."""
    import xlsxwriter
    from stdnum.cn import ric

    from accounts.demo import GRADES
    from accounts.models import School, SchoolClass, User, current_school_year, grade_label
    from students import national
    from students.roster import HEADINGS

    in_national = layout == national.NATIONAL
    headings = national.NATIONAL_HEADINGS if in_national else HEADINGS

    rng = random.Random(seed)  # noqa: S311 — benchmark data, not secrets
    user = User.objects.get(username=username)
    year = current_school_year()
    schools = list(School.objects.for_user(user).select_related("township").order_by("id"))
    classes = {
        (klass.school_id, klass.grade): klass.name
        for klass in SchoolClass.objects.filter(school__in=schools, school_year=year)
    }
    # Demo students use sequence numbers from 0 up per day and county; these start at 500.
    used: dict[tuple[str, datetime.date], int] = {}
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"constant_memory": True, "strings_to_numbers": False, "in_memory": True}
    )
    sheet = workbook.add_worksheet("学生信息" if in_national else "花名册")
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, headings)
    column = {heading: i for i, heading in enumerate(headings)}
    for r in range(1, rows + 1):
        school = schools[r % len(schools)]
        grade = rng.choice(list(GRADES[school.kind]))
        birth = datetime.date(year - grade - 6, 9, 1) + datetime.timedelta(days=rng.randrange(365))
        gender = rng.choice("MF")
        area = school.township.code[:6]
        n = used.get((area, birth), 0)
        used[(area, birth)] = n + 1
        body = f"{area}{birth:%Y%m%d}{500 + n * 2 + (gender == 'M'):03d}"
        number = body + ric.calc_check_digit(body + "0")
        values = {
            "姓名": "李" + rng.choice("文华明国建丽芳军") + rng.choice("平志秀兰英红海云"),
            "性别": "男" if gender == "M" else "女",
            "民族": rng.choice(("汉族", "彝族", "白族")),
            "身份证号": number,
            "学籍号": f"G{number}",
            "学校标识码": school.code,
            "年级": grade_label(grade),
            "班级": classes.get((school.pk, grade), ""),
            "户籍地区划代码": school.township.code,
            "现住址": f"{school.township.name}第{rng.randrange(1, 20)}组",
            "监护人姓名": "李" + rng.choice("大小老") + rng.choice("山海林"),
            "监护人关系": rng.choice(("父亲", "母亲", "祖父", "祖母")),
            "监护人电话": f"13{rng.randrange(10**9):09d}",
            "农村留守儿童": "是" if rng.random() < 0.15 else "否",
            "建档立卡脱贫家庭": "是" if rng.random() < 0.08 else "否",
        }
        if in_national:
            values = _national_values(values, birth, grade, year)
        for heading, value in values.items():
            if heading in column:
                sheet.write_string(r, column[heading], value)
        if not in_national:
            sheet.write_datetime(r, column["出生日期"], birth, dates)
            sheet.write_datetime(
                r, column["入学日期"], datetime.date(year - grade + 1, 9, 1), dates
            )
    workbook.close()
    return buffer.getvalue()


def _national_values(values: dict, birth: datetime.date, grade: int, year: int) -> dict:
    """A template row's values as the national system writes them: codes, text dates."""
    from students import national

    codes = {label: code for code, label in national.ETHNICITY_CODES.items()}
    relations = {label: code for code, label in national.RELATION_CODES.items()}
    grades = {number: code for code, number in national.GRADE_CODES.items()}
    return {
        "姓名": values["姓名"],
        "性别": "1" if values["性别"] == "男" else "2",
        "出生日期": f"{birth:%Y%m%d}",
        "民族": codes[values["民族"]],
        "身份证件类型": "1",
        "身份证件号": values["身份证号"],
        "学籍号": values["学籍号"],
        "学校标识码": values["学校标识码"],
        "年级": grades[grade],
        "班级": values["班级"],
        "入学年月": f"{year - grade + 1}09",
        "户口所在地": values["户籍地区划代码"],
        "现住址": values["现住址"],
        "成员1姓名": values["监护人姓名"],
        "成员1关系": relations[values["监护人关系"]],
        "成员1联系电话": values["监护人电话"],
        "是否留守儿童": "2" if values["农村留守儿童"] == "是" else "0",
        "是否进城务工人员随迁子女": "0",
        "是否孤儿": "0",
        "是否残疾": "0",
        "残疾类型": "0",
    }


def _baseline(content: bytes) -> float:
    """Seconds to read ``content`` with calamine and COPY its rows into a temporary table."""
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    rows = sheet.to_python(skip_empty_area=False)
    width = len(rows[0])
    columns = ", ".join(f"c{i} text" for i in range(width))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_roster ({columns})")
        values = [["" if v is None else str(v) for v in row] for row in rows[1:]]
        if connection.vendor == "postgresql":
            data = io.StringIO()
            for row in values:
                data.write("\t".join(v.replace("\\", "\\\\") for v in row))
                data.write("\n")
            data.seek(0)
            cursor.cursor.copy_expert("COPY bench_roster FROM STDIN", data)
        else:
            marks = ", ".join(["%s"] * width)
            cursor.executemany(f"INSERT INTO bench_roster VALUES ({marks})", values)  # noqa: S608
        cursor.execute("DROP TABLE bench_roster")
    return time.perf_counter() - start


def _vacuum() -> None:
    """The rows of earlier runs, rolled back, stay in the tables and their indexes until a
    VACUUM (autovacuum may be off), and the unique checks of the next import wade through
    them: they are cleared first, so that every run starts from the database as generated."""
    from django.db import connection

    from accounts.models import AuditEvent
    from students.models import EnrollmentEvent, Guardian, Student

    if connection.vendor != "postgresql":
        return
    # The audit trail too: the import writes a line per student (issue 10).
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (Student, EnrollmentEvent, Guardian, AuditEvent)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {tables}")


def _deferred_checks() -> float:
    """Seconds to run the foreign-key checks that PostgreSQL defers to COMMIT (Django makes
    its foreign keys DEFERRABLE INITIALLY DEFERRED): the rolled-back import never pays them,
    a real one does."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return time.perf_counter() - start


def run(rows: int) -> None:
    for layout, label in (("template", ""), ("national", " national layout")):
        _run(rows, layout, label)


def _run(rows: int, layout: str, label: str) -> None:
    from django.db import transaction

    from accounts.models import User
    from students import imports

    _vacuum()
    start = time.perf_counter()
    content = make_roster(rows, layout=layout)
    progress(
        f"made a {rows}-row{label or ' template'} roster ({len(content) / 1e6:.1f} MB) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    # The product refuses files over MAX_ROWS (50,000) rows and MAX_FILE_BYTES: the
    # benchmark lifts both limits for its own file, as the tests do with monkeypatch.
    imports.MAX_ROWS = max(imports.MAX_ROWS, rows)
    imports.MAX_FILE_BYTES = max(imports.MAX_FILE_BYTES, len(content))
    imports.MAX_UNZIPPED_BYTES = max(imports.MAX_UNZIPPED_BYTES, 20 * len(content))
    user = User.objects.get(username=USERNAME)
    baseline = _baseline(content)
    phases = []

    def report(done, total):
        if done in (0, total // 2, total):
            phases.append((done, time.perf_counter() - start))

    start = time.perf_counter()
    try:
        with transaction.atomic():
            result = imports.import_roster(
                by=user, content=content, filename="花名册.xlsx", progress=report
            )
            seconds = time.perf_counter() - start
            at_commit = _deferred_checks()
            raise _Rollback
    except _Rollback:
        pass
    assert result.ok, result.errors[:5]
    assert result.created == rows, (result.created, result.updated, result.unchanged)
    read = next((t for done, t in phases if done == 0), None)
    checked = next((t for done, t in phases if done == rows), None)  # half of 2 × rows
    if read is not None and checked is not None:
        progress(
            f"import{label}: file read after {read:.1f} s, rows checked after {checked:.1f} s, "
            f"written after {seconds:.1f} s; foreign-key checks at commit {at_commit:.1f} s"
        )
    record(
        f"import_roster{label} {rows} rows as {USERNAME} (s)",
        seconds,
        baseline,
        "s",
        target=f"< {TARGET_S:.0f} s",
        met=seconds < TARGET_S,
    )
