"""The lookup inputs on a phone: typing part of a name offers the matches, choosing one puts
its code in the box and its full name beside it, and the form submits the code.

The page is this module's own (``pytest.mark.urls``): a form with a RegionField and a
SchoolField, on top of the project's URLs for the login page, plus the lookup endpoints.
"""

import pytest
from django import forms
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from accounts import lookups
from accounts.choices import RegionLevel
from accounts.models import Region
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.urls(__name__)]

PAGE = engines["django"].from_string(
    """{% load static %}<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>查找测试</title>
<link rel="stylesheet" href="{% static 'css/app.css' %}">
<link rel="stylesheet" href="{% static 'css/lookup.css' %}">
<script src="{% static 'js/lookup.js' %}" defer></script>
</head><body><main class="content"><section class="card">
{% if chosen %}<p data-testid="chosen">{{ chosen }}</p>{% endif %}
<form method="post" novalidate>{% csrf_token %}{% include "form_fields.html" %}
<button type="submit" class="primary">保存</button></form>
</section></main></body></html>"""
)


class LookupForm(forms.Form):
    hukou = lookups.RegionField(label="户籍地")
    school = lookups.SchoolField(label="转入学校", anywhere=True)


def lookup_page(request):
    form = LookupForm(request.POST or None)
    chosen = ""
    if form.is_valid():
        chosen = f"{form.cleaned_data['hukou'].code} {form.cleaned_data['school'].code}"
    return HttpResponse(PAGE.render({"form": form, "chosen": chosen}, request))


urlpatterns = [
    path("lookup-test/", lookup_page),
    path("", include("accounts.lookup_urls")),
    path("", include("kongchuo.urls")),
]


def options(page, field_id: str, typed: str) -> list[str]:
    """The suggestions the input's datalist offers once the search for all of ``typed`` has
    answered (a slow run may have searched for its first characters on the way)."""
    page.wait_for_function(
        """([selector, typed]) => {
            const values = [...document.querySelectorAll(selector)].map(o => o.value);
            return values.length > 0 && values.every(value => value.includes(typed));
        }""",
        arg=[f"#{field_id}-options option", typed],
    )
    return page.locator(f"#{field_id}-options option").evaluate_all(
        "list => list.map(o => o.value)"
    )


def test_typing_a_name_offers_matches_and_the_chosen_code_is_submitted(phone, live_world):
    page = phone
    login(page, "xz1_xx1_guanli", live_world.password)
    page.goto("/lookup-test/")
    hukou = page.get_by_label("户籍地")
    assert hukou.bounding_box()["height"] >= 44

    hukou.press_sequentially("南涧镇", delay=30)
    offered = options(page, "id_hukou", "南涧镇")
    # Both demo counties have a 南涧镇: the user's own county comes first.
    own, other = (
        Region.objects.get(level=RegionLevel.TOWNSHIP, name="南涧镇", code__startswith=county).code
        for county in ("532926", "530102")
    )
    assert offered[:2] == [
        f"云南省大理白族自治州南涧彝族自治县南涧镇 · {own}",
        f"云南省昆明市五华区南涧镇 · {other}",
    ]
    # A datalist choice sets the input to the option's value, as fill() does; the native
    # popup itself is drawn by the browser and cannot be driven headless.
    hukou.fill(offered[1])
    assert hukou.input_value() == other
    assert page.locator("#id_hukou-name").inner_text() == "云南省昆明市五华区南涧镇"

    school = page.get_by_label("转入学校")
    school.press_sequentially("中心学校", delay=30)
    offered = options(page, "id_school", "中心学校")
    other_county = next(value for value in offered if "五华区" in value)
    school.fill(other_county)
    code = school.input_value()
    assert code.isdigit() and len(code) == 10 and other_county.endswith(f" · {code}")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="保存").click()
    assert page.get_by_test_id("chosen").inner_text() == f"{other} {code}"
    # The form shown again keeps the codes in the boxes and the names beside them.
    assert page.get_by_label("户籍地").input_value() == other
    assert page.locator("#id_hukou-name").inner_text() == "云南省昆明市五华区南涧镇"
