"""Region and school search for forms (accounts/lookups.py, accounts/lookup_views.py): regions
from the whole country, schools from the user's area unless any school is asked for, bad
parameters answered 400 in JSON, and the form fields that clean to the chosen record."""

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path

from accounts import divisions, lookups
from accounts.choices import RegionLevel
from accounts.models import Region, School

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

urlpatterns = [
    path("", include("accounts.lookup_urls")),
    path("", include("kongchuo.urls")),
]

SCHOOL_KEYS = {"value", "label", "id", "name", "township", "county"}
COUNTY_A, COUNTY_B = "532926", "530102"


def nanjian(county: str) -> str:
    """The code of the demo township 南涧镇 of ``county`` (both demo counties have one)."""
    return Region.objects.get(
        level=RegionLevel.TOWNSHIP, name="南涧镇", code__startswith=county
    ).code


def a_village() -> Region:
    return Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith=COUNTY_A).first()


@pytest.fixture
def ningxia(world):
    """The demo world (Yunnan) and the real divisions of 宁夏, far outside every demo area."""
    divisions.load(province="64")
    return world


def regions(client, **params):
    return client.get("/lookup/regions/", params)


def schools(client, **params):
    return client.get("/lookup/schools/", params)


def school_codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["value"] for row in response.json()["results"]}


def test_region_search_finds_a_village_anywhere_in_the_country(ningxia):
    user = ningxia.user("xz1_xx1_guanli")
    village = Region.objects.get(code="640104001002")
    assert not Region.objects.for_user(user).filter(pk=village.pk).exists()

    response = regions(ningxia.client("xz1_xx1_guanli"), q="崇安社区", levels="5")

    assert response.status_code == 200
    assert {
        "value": "640104001002",
        "label": "宁夏回族自治区银川市兴庆区凤凰北街街道崇安社区居委会",
        "name": "崇安社区居委会",
        "level": 5,
    } in response.json()["results"]


def test_region_search_by_code_prefix_keeps_to_the_levels_asked_for(ningxia):
    results = regions(ningxia.client("xian_admin"), q="640104", levels="4").json()["results"]
    assert results
    assert all(r["value"].startswith("640104") and r["level"] == 4 for r in results)
    assert results[0]["label"] == "宁夏回族自治区银川市兴庆区凤凰北街街道"


def test_region_search_is_one_query_with_every_full_name(ningxia, django_assert_num_queries):
    with django_assert_num_queries(1):
        hits = lookups.search_regions("社区", levels=(RegionLevel.VILLAGE,))
    assert len(hits) == lookups.LIMIT
    assert all(
        hit.label.startswith("宁夏回族自治区") and hit.label.endswith(hit.name) for hit in hits
    )


@pytest.mark.parametrize(("username", "own"), [("xian_admin", 0), ("c2_xian_admin", 1)])
def test_a_name_found_in_several_places_lists_the_users_own_first(world, username, own):
    codes = [nanjian(COUNTY_A), nanjian(COUNTY_B)]
    results = regions(world.client(username), q="南涧镇", levels="4").json()["results"]
    assert [r["value"] for r in results] == [codes[own], codes[1 - own]]


def test_school_search_in_the_area_never_returns_another_countys_school(world):
    county_a = set(
        School.objects.filter(township__code__startswith=COUNTY_A).values_list("code", flat=True)
    )
    county_b = set(
        School.objects.filter(township__code__startswith=COUNTY_B).values_list("code", flat=True)
    )
    client = world.client("c2_xian_admin")  # county B

    found = school_codes(schools(client, q="中心学校"))
    assert found and found <= county_b
    a_school = min(county_a)
    assert school_codes(schools(client, q=a_school)) == set()
    assert school_codes(schools(client, q=a_school[:6])) == set()  # 1329260… all of county A

    staff = school_codes(schools(world.client("xz1_xx1_guanli"), q="南涧镇"))
    own = world.user("xz1_xx1_guanli").school
    assert staff == set(
        School.objects.filter(pk=own.pk).values_list("code", flat=True)
        | own.branches.values_list("code", flat=True)
    )


def test_school_search_anywhere_finds_other_counties_and_gives_only_public_facts(world):
    client = world.client("c2_xian_admin")
    a_school = School.objects.select_related("township__parent").get(
        code=min(
            School.objects.filter(township__code__startswith=COUNTY_A).values_list(
                "code", flat=True
            )
        )
    )

    response = schools(client, q=a_school.code, anywhere="1")

    assert response.json()["results"] == [
        {
            "value": a_school.code,
            "label": f"{a_school.name}（南涧彝族自治县{a_school.township.name}）",
            "id": a_school.pk,
            "name": a_school.name,
            "township": a_school.township.name,
            "county": "南涧彝族自治县",
        }
    ]
    found = schools(client, q="中心学校", anywhere="1").json()["results"]
    assert {row["value"][:6] for row in found} == {"132926", "130102"}
    assert all(set(row) == SCHOOL_KEYS for row in found)
    # The user's own county first.
    assert found[0]["county"] == "五华区"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/lookup/regions/?q=南涧&levels=0", "levels"),
        ("/lookup/regions/?q=南涧&levels=6", "levels"),
        ("/lookup/regions/?q=南涧&levels=四", "levels"),
        ("/lookup/regions/?q=南涧&levels=4,,5", "levels"),
        ("/lookup/regions/?q=南涧&levels=-4", "levels"),
        ("/lookup/regions/?q=" + "南" * 51, "q"),
        ("/lookup/regions/?q=%00", "q"),
        ("/lookup/schools/?q=" + "学" * 51, "q"),
        ("/lookup/schools/?q=学&anywhere=yes", "anywhere"),
    ],
)
def test_bad_parameters_are_a_400_in_json_with_the_reason_in_chinese(world, url, field):
    response = world.client("xian_admin").get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body["errors"]) == [field]
    assert body["detail"] == body["errors"][field][0]
    assert any("\u4e00" <= char <= "\u9fff" for char in body["detail"])


def test_a_query_of_exactly_fifty_characters_is_still_a_search(world):
    assert regions(world.client("xian_admin"), q="南" * 50).json() == {"results": []}


def test_lookups_need_a_login_and_answer_only_get(client, world):
    for url in ("/lookup/regions/?q=南涧", "/lookup/schools/?q=南涧"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
        assert world.client("xian_admin").post(url).status_code == 405


class HukouForm(forms.Form):
    hukou = lookups.RegionField(label="户籍地")


class TransferForm(forms.Form):
    nearby = lookups.SchoolField(label="本县学校")
    anywhere = lookups.SchoolField(label="转入学校", anywhere=True, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        lookups.bind_user(self, user)


@pytest.mark.parametrize("typed", ["{code}", " {wide} ", "某村 · {code}"])
def test_region_field_cleans_a_code_to_the_region(world, typed):
    village = a_village()
    wide = "".join(chr(ord(digit) + 0xFEE0) for digit in village.code)  # full-width digits
    form = HukouForm({"hukou": typed.format(code=village.code, wide=wide)})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["hukou"] == village


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("532926199999", "请从搜索结果中选择，或填写正确的区划代码。"),
        ("南涧镇", "请从搜索结果中选择，或填写正确的区划代码。"),
        ("532926", "请从搜索结果中选择，或填写正确的区划代码。"),  # a county: not 乡镇 or 村
        ("", "该字段是必填项。"),
    ],
)
def test_region_field_refuses_what_is_not_a_region_of_its_levels(world, typed, error):
    form = HukouForm({"hukou": typed})
    assert not form.is_valid()
    assert form.errors["hukou"] == [error]


def test_school_field_keeps_to_the_users_area_unless_anywhere(world):
    user = world.user("c2_xian_admin")  # county B
    own = School.objects.filter(township__code__startswith=COUNTY_B).first()
    other = School.objects.filter(township__code__startswith=COUNTY_A).first()

    form = TransferForm({"nearby": other.code, "anywhere": other.code}, user=user)
    assert not form.is_valid()
    assert form.errors == {"nearby": ["请从搜索结果中选择，或填写正确的学校标识码。"]}

    form = TransferForm({"nearby": own.code, "anywhere": other.code}, user=user)
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"nearby": own, "anywhere": other}


def test_school_field_of_the_users_area_needs_the_user(world):
    class Unbound(forms.Form):
        school = lookups.SchoolField(label="学校")

    code = School.objects.first().code
    with pytest.raises(ImproperlyConfigured):
        Unbound({"school": code}).is_valid()


def test_the_widget_shows_the_code_in_the_box_and_the_full_name_beside_it(world):
    village = a_village()
    html = str(HukouForm(initial={"hukou": village})["hukou"])
    assert f'value="{village.code}"' in html
    assert 'list="id_hukou-options"' in html and '<datalist id="id_hukou-options">' in html
    assert 'data-lookup-url="/lookup/regions/?levels=4,5"' in html
    township = village.parent.name
    assert f">云南省大理白族自治州南涧彝族自治县{township}{village.name}</span>" in html

    bound = str(HukouForm({"hukou": "532926199999"})["hukou"])
    assert 'value="532926199999"' in bound
    assert '<span class="lookup-name" id="id_hukou-name" aria-live="polite"></span>' in bound
