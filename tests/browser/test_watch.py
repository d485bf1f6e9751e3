"""The watch list on a phone (issue 16): the class teacher opens 重点监测名单 and sees a
left-behind child as a card with the reason and since when, then opens the roll, where the
same child carries a discreet mark (重点监测) and no reason."""

import pytest
from django.utils import timezone

from accounts.models import Region, SchoolClass
from attendance import watch
from tests.attendance.conftest import COUNTY, TEACHER, pupil
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_the_watch_list_and_the_mark_on_the_phone_roll(phone, live_world):
    klass = SchoolClass.objects.get(head_teacher__username=TEACHER)
    child = pupil(live_world, klass, key_groups={"left_behind"})
    pupil(live_world, klass)
    watch.compute([Region.objects.get(code=COUNTY)])
    login(phone, TEACHER, live_world.password)

    phone.goto("/attendance/watch/")
    card = phone.get_by_test_id("watch-card").filter(has_text=child.name)
    card.wait_for()
    assert "重点群体" in card.inner_text()
    assert f"自{timezone.localdate():%Y-%m-%d}" in card.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(f"/attendance/{klass.pk}/{timezone.localdate():%Y-%m-%d}/")
    rows = phone.get_by_test_id("roll-row")
    marked = rows.filter(has=phone.get_by_test_id("watch-mark"))
    assert marked.count() == 1 and child.name in marked.inner_text()
    mark = marked.get_by_test_id("watch-mark")
    assert mark.get_attribute("aria-label") == "重点监测" and mark.is_visible()
    assert "重点群体" not in phone.get_by_test_id("roll-row").first.inner_text()
