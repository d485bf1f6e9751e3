"""四个一 above the school (DOMAIN.md §8, issue 14): each level signs off its own period with a
summary, from the period's last month, once; the level above sees who has and has not; the
province's 双月报 switch (004)."""

import datetime
import json

import pytest

from accounts.models import AuditEvent, Region
from accounts.permissions import can
from kongchuo.errors import AppError
from reports import cadence, periods
from reports.choices import Period
from reports.models import ReportCadence, SignOff

pytestmark = pytest.mark.django_db

Q1 = cadence.SignPeriod(Period.QUARTER, 2026, 1)
MARCH = datetime.date(2026, 3, 1)


def _sign(world, username="xian_staff", which=Q1, summary="本季度台账核查完毕。", today=MARCH):
    return cadence.sign(by=world.user(username), which=which, summary=summary, today=today)


def test_periods_quarter_term_year_and_their_last_months():
    assert Q1.months == [(2026, 1), (2026, 2), (2026, 3)]
    assert Q1.opens_on == MARCH and Q1.last_day == datetime.date(2026, 3, 31)
    term = cadence.SignPeriod(Period.TERM, 2025, 1)
    assert term.label == "2025—2026学年第一学期"
    assert term.months[0] == (2025, 9) and term.last_day == datetime.date(2026, 1, 31)
    assert cadence.SignPeriod(Period.TERM, 2025, 2).last_month == (2026, 7)
    assert cadence.SignPeriod(Period.YEAR, 2026, 1).opens_on == datetime.date(2026, 12, 1)
    assert [p.number for p in cadence.periods_below(term)] == [3, 4]  # Q3, Q4 of 2025
    year = cadence.SignPeriod(Period.YEAR, 2026, 1)
    assert [(p.year, p.number) for p in cadence.periods_below(year)] == [(2025, 1), (2025, 2)]
    assert cadence.period_containing(Period.TERM, datetime.date(2026, 8, 10)) is None


def test_county_signs_its_quarter_from_the_quarters_last_month_audited(world):
    with pytest.raises(AppError, match="尚未进入最后一个月，2026年03月01日起方可签发") as refused:
        _sign(world, today=datetime.date(2026, 2, 28))
    assert refused.value.errors.keys() == {"number"}
    assert not SignOff.objects.exists()
    signed = _sign(world)
    assert signed.region.code == "532926" and signed.summary == "本季度台账核查完毕。"
    event = AuditEvent.objects.get(object_id=str(signed.pk), detail__contains="签发")
    assert event.region_code == "532926" and "签发2026年第1季度审核" in event.detail


def test_signing_twice_is_refused_and_nothing_changes(world):
    first = _sign(world)
    with pytest.raises(AppError, match="不能重复签发"):
        _sign(world, username="xian_admin", summary="另一份意见")
    assert list(SignOff.objects.values_list("pk", "summary")) == [(first.pk, first.summary)]


def test_empty_summary_is_refused(world):
    with pytest.raises(AppError, match="请填写审核意见") as refused:
        _sign(world, summary="   ")
    assert refused.value.errors.keys() == {"summary"}
    assert not SignOff.objects.exists()


def test_signing_another_areas_or_another_levels_period_is_refused(world):
    other = Region.objects.get(code="530102")
    with pytest.raises(AppError, match="只能签发本级（.*）的审核"):
        cadence.sign(by=world.user("xian_staff"), which=Q1, summary="x", region=other, today=MARCH)
    term = cadence.SignPeriod(Period.TERM, 2025, 1)
    with pytest.raises(AppError, match="县级按季度签发"):
        _sign(world, which=term, today=datetime.date(2026, 2, 1))
    assert not SignOff.objects.exists()


def test_only_county_city_and_province_sign(world):
    for username in ("xz1_ganbu", "xz1_xx1_xiaozhang", "api_xian"):
        assert not can(world.user(username), cadence.SIGN)
        with pytest.raises(AppError, match="只有县教体局、市级督导和省级督导"):
            _sign(world, username=username)
    term = cadence.SignPeriod(Period.TERM, 2025, 1)
    signed = _sign(world, username="shi_dudao", which=term, today=datetime.date(2026, 1, 5))
    assert signed.region.level == 2


def test_city_sees_which_counties_have_and_have_not_signed(world):
    term = cadence.SignPeriod(Period.TERM, 2025, 1)
    _sign(
        world, which=cadence.SignPeriod(Period.QUARTER, 2025, 3), today=datetime.date(2025, 10, 1)
    )
    below, rows = cadence.areas_below(world.user("shi_dudao"), term)
    assert [p.label for p in below] == ["2025年第3季度", "2025年第4季度"]
    assert [row.region.code for row in rows] == ["532926"]  # county B is another city's
    assert rows[0].signed[below[0].key] is not None and rows[0].signed[below[1].key] is None
    assert rows[0].missing == 1
    _, province_rows = cadence.areas_below(
        world.user("sheng_dudao"), cadence.SignPeriod(Period.YEAR, 2026, 1)
    )
    assert {row.region.code for row in province_rows} == {"532900", "530100"}
    assert all(row.missing == 2 for row in province_rows)


def test_county_sees_its_schools_monthly_reports_for_the_quarters_months(world):
    months = cadence.county_reports(world.user("xian_staff"), Q1)
    assert [m.period.label for m in months] == ["2026年1月", "2026年2月", "2026年3月"]
    schools = world.user("xian_staff").region.code
    assert all(m.total == len(m.unsigned) > 0 for m in months)
    assert all(s.township_id for m in months for s in m.unsigned) and schools
    ReportCadence.objects.create(
        province=Region.objects.get(code="530000"),
        bimonthly=True,
        changed_by=world.user("sheng_dudao"),
    )
    months = cadence.county_reports(world.user("xian_staff"), Q1)
    assert [m.period.label for m in months] == ["2026年1—2月"]  # 双月报: report months only


def test_sign_off_api_lists_and_signs_with_chinese_errors(world, settings):
    client = world.client("xian_staff")
    url = "/api/v1/reports/sign-offs/sign/"
    body = {"period": "quarter", "year": 2025, "number": 4, "summary": ""}
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["summary"] == ["请填写审核意见。"]
    body["summary"] = "第四季度审核通过"
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["region_code"] == "532926"
    again = client.post(url, json.dumps(body), content_type="application/json")
    assert again.status_code == 400 and "不能重复签发" in again.json()["detail"]
    listed = world.client("shi_dudao").get("/api/v1/reports/sign-offs/").json()["results"]
    assert [row["summary"] for row in listed] == ["第四季度审核通过"]
    assert world.client("c2_xian_staff").get("/api/v1/reports/sign-offs/").json()["results"] == []
    refused = world.client("xz1_ganbu").post(url, json.dumps(body), content_type="application/json")
    assert refused.status_code == 403
    bad = client.post(url, json.dumps({**body, "number": 9}), content_type="application/json")
    assert bad.status_code == 400 and "number" in bad.json()["errors"]


def test_sign_off_pages_sign_and_show_status(world):
    client = world.client("xian_staff")
    page = client.get("/reports/sign-offs/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "本级应签发（县级）" in text and "本季度各期月报表的签发情况" in text
    url = "/reports/sign-offs/sign/?period=quarter&year=2025&number=4"
    empty = client.post(url, {"summary": ""})
    assert "请填写审核意见" in empty.content.decode() and not SignOff.objects.exists()
    done = client.post(url, {"summary": "审核通过"}, follow=True)
    assert "已签发" in done.content.decode()
    signed = SignOff.objects.get()
    assert done.redirect_chain[-1][0] == f"/reports/sign-offs/{signed.pk}/"
    assert client.get("/reports/sign-offs/sign/?period=bogus").status_code == 404
    assert world.client("xz1_ganbu").get(url).status_code == 403
    city = world.client("shi_dudao").get("/reports/sign-offs/?year=2025&number=1")
    assert "2025年第3季度" in city.content.decode()


def test_province_switches_the_bimonthly_report_audited(world):
    province = Region.objects.get(code="530000")
    supervisor = world.user("sheng_dudao")
    _, change = cadence.set_cadence(by=supervisor, bimonthly=True, today=datetime.date(2026, 3, 5))
    assert "自2026年3—4月起实行双月报" in change
    assert periods.is_bimonthly(province)
    assert AuditEvent.objects.filter(region_code="530000", action="create").exists()
    with pytest.raises(AppError, match="已实行双月报，未作更改"):
        cadence.set_cadence(by=supervisor, bimonthly=True)
    with pytest.raises(AppError, match="只有省级督导可以设置报送周期"):
        cadence.set_cadence(by=world.user("shi_dudao"), bimonthly=False)
    response = world.client("sheng_dudao").post(
        "/reports/sign-offs/cadence/", {"bimonthly": "0"}, follow=True
    )
    assert "恢复每月报送月报表" in response.content.decode()
    assert not periods.is_bimonthly(province)
    assert world.client("xian_staff").get("/reports/sign-offs/cadence/").status_code == 403
