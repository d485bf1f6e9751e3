"""Pages: each role's home, organisation and account management through the browser forms."""

import pytest

from accounts.models import Region, School, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("username", "heading", "schools"),
    [
        ("sheng_dudao", "云南省", 16),
        ("shi_dudao", "云南省大理白族自治州", 8),
        ("xian_admin", "云南省大理白族自治州南涧彝族自治县", 8),
        ("xz1_ganbu", "南涧彝族自治县南涧镇", 4),
        ("xz1_xx1_xiaozhang", "南涧镇中心学校", 3),
        ("xz1_xx1_banzhuren", "南涧镇中心学校", 1),
    ],
)
def test_each_role_lands_on_a_home_page_of_its_own_area(world, username, heading, schools):
    page = world.client(username).get("/").content.decode()
    assert f"<h1>{heading}" in page or heading in page.split("<h1>")[1].split("</h1>")[0]
    assert f'data-testid="stat-schools">{schools}<' in page


def test_school_list_search_and_filters_stay_in_area(world):
    client = world.client("xian_admin")
    township = Region.objects.get(code="532926102")
    page = client.get("/org/schools/", {"township": township.code}).content.decode()
    assert "小湾东镇中心学校" in page and "南涧镇中心学校" not in page
    foreign = School.objects.filter(township__code__startswith="530102").first()
    page = client.get("/org/schools/", {"q": foreign.code}).content.decode()
    assert foreign.name not in page and "没有符合条件的学校" in page


def test_county_admin_creates_a_school_through_the_page(world):
    client = world.client("xian_admin")
    township = Region.objects.get(code="532926101")
    response = client.post(
        "/org/schools/new/",
        {"code": "1329268888", "name": "新建小学", "kind": "primary", "township": township.code},
    )
    assert response.status_code == 302
    assert School.objects.get(code="1329268888").township == township


def test_bad_school_form_shows_chinese_errors_and_saves_nothing(world):
    client = world.client("xian_admin")
    foreign_township = Region.objects.get(code="530102101")
    before = School.objects.count()
    page = client.post(
        "/org/schools/new/",
        {"code": "12", "name": "", "kind": "primary", "township": foreign_township.code},
    ).content.decode()
    assert "该字段是必填项" in page
    # Townships are searched nationally; the service refuses one outside the county.
    outside = client.post(
        "/org/schools/new/",
        {
            "code": "1329268889",
            "name": "越界小学",
            "kind": "primary",
            "township": foreign_township.code,
        },
    ).content.decode()
    assert "所选单位不在您的管辖范围内" in outside
    unknown = client.post(
        "/org/schools/new/",
        {"code": "1329268889", "name": "越界小学", "kind": "primary", "township": "999999999"},
    ).content.decode()
    assert "请从搜索结果中选择" in unknown
    assert School.objects.count() == before


def test_county_admin_creates_and_disables_an_account(world):
    client = world.client("xian_admin")
    school = School.objects.filter(township__code__startswith="532926").first()
    response = client.post(
        "/accounts/new/",
        {
            "username": "new_teacher",
            "full_name": "赵老师",
            "role": "class_teacher",
            "school": school.code,
            "password": "Strong#pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new_teacher")
    client.post(f"/accounts/{user.pk}/active/", {"active": "0"})
    user.refresh_from_db()
    assert not user.is_active


def test_account_form_reports_weak_password_and_wrong_unit(world):
    client = world.client("xian_admin")
    form = {
        "username": "weak",
        "full_name": "x",
        "role": "township_official",
        "region": Region.objects.get(code="532926").code,
    }
    weak = client.post("/accounts/new/", {**form, "password": "12345678"}).content.decode()
    assert "密码长度太短" in weak
    wrong_unit = client.post(
        "/accounts/new/", {**form, "password": "Strong#pass-2026"}
    ).content.decode()
    assert "乡镇干部账号应属于乡镇级区划" in wrong_unit
    assert not User.objects.filter(username="weak").exists()


def test_county_admin_adds_a_village_through_the_page(world):
    client = world.client("xian_admin")
    township = Region.objects.get(code="532926101")
    client.post(
        "/org/regions/new/", {"parent": township.code, "code": "532926101299", "name": "新村"}
    )
    assert Region.objects.get(code="532926101299").parent == township
    page = client.post(
        "/org/regions/new/", {"parent": township.code, "code": "5329261002", "name": "错"}
    ).content.decode()
    assert "村级区划代码应为12位数字" in page


def test_non_admins_do_not_see_management_links(world):
    page = world.client("xz1_ganbu").get("/").content.decode()
    assert "/accounts/new/" not in page and "/audit/" not in page
    assert world.client("xz1_ganbu").get("/accounts/").status_code == 403


def test_export_cells_that_look_like_formulas_stay_text():
    import io

    from openpyxl import load_workbook

    from kongchuo.xlsx import workbook_bytes

    content, count = workbook_bytes("t", ["a"], [["=1+1"], ["+86"], ["-3"], ["@x"], ["ok"]])
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert count == 5
    assert [c.value for c in cells] == ["=1+1", "+86", "-3", "@x", "ok"]
    assert {c.data_type for c in cells} == {"s"}


def test_county_admin_edits_a_class_and_its_school_through_the_pages(world):
    from accounts.models import SchoolClass

    client = world.client("xian_admin")
    klass = SchoolClass.objects.filter(school__township__code__startswith="532926").first()
    response = client.post(
        f"/org/classes/{klass.pk}/edit/",
        {"school_year": 1999, "grade": klass.grade, "name": "火箭班"},
    )
    assert response.status_code == 302
    klass.refresh_from_db()
    assert klass.name == "火箭班" and klass.school_year != 1999  # the year cannot be changed
    school = klass.school
    client.post(
        f"/org/schools/{school.pk}/edit/",
        {
            "code": "0000000000",
            "name": "改名学校",
            "kind": school.kind,
            "township": school.township.code,
        },
    )
    school.refresh_from_db()
    assert school.name == "改名学校" and school.code != "0000000000"
    page = client.post(
        f"/org/schools/{school.pk}/classes/new/",
        {"school_year": 2026, "grade": 1, "name": "实验班"},
    )
    assert page.status_code == 302, page.content.decode()[-1500:]
