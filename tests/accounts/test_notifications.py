"""The notification centre (issue 5 item 6): notify once per active recipient, e-mail after
commit to those with an address, unread count in the navigation, owner-only list and marks."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import notifications, selectors
from accounts.choices import NotificationKind, Role
from accounts.models import Notification
from kongchuo.errors import AppError

pytestmark = pytest.mark.django_db

PRINCIPAL, OFFICIAL, OTHER_COUNTY = "xz1_xx1_xiaozhang", "xz1_ganbu", "c2_xz1_ganbu"


def send(*users, **kwargs):
    kwargs = {"kind": NotificationKind.GENERAL, "title": "开学报到提醒", **kwargs}
    return notifications.notify(users, **kwargs)


def api_client(world, username):
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def test_notify_creates_one_per_recipient_and_mails_only_those_with_an_address(
    world, django_capture_on_commit_callbacks
):
    principal, official = world.user(PRINCIPAL), world.user(OFFICIAL)
    principal.email = "xiaozhang@example.cn"
    principal.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = send(principal, official, principal, body="请核实。", link="/students/")
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert len(created) == 2 and len(callbacks) == 1
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        PRINCIPAL,
        OFFICIAL,
    }
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["xiaozhang@example.cn"] and message.subject == "开学报到提醒"
    assert "请核实。" in message.body and "在“通知”中查看" in message.body


def test_mail_carries_the_whole_link_when_the_site_address_is_set(
    world, settings, django_capture_on_commit_callbacks
):
    settings.KONGCHUO_SITE_URL = "https://kzbx.example.gov.cn/"
    principal = world.user(PRINCIPAL)
    principal.email = "xiaozhang@example.cn"
    principal.save()
    with django_capture_on_commit_callbacks(execute=True):
        send(principal, body="请核实。", link="/ledger/7/")
    assert "查看详情：https://kzbx.example.gov.cn/ledger/7/" in mail.outbox[0].body


def test_no_mail_is_queued_when_nobody_has_an_address(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send(world.user(OFFICIAL))
    assert callbacks == [] and mail.outbox == []


def test_dedupe_key_prevents_a_second_notification(world, django_capture_on_commit_callbacks):
    principal, official = world.user(PRINCIPAL), world.user(OFFICIAL)
    principal.email = "xiaozhang@example.cn"
    principal.save()
    key = "no_show:2026-09-01:student-1"
    with django_capture_on_commit_callbacks(execute=True):
        send(principal, dedupe_key=key)
        again = send(principal, official, dedupe_key=key)
    assert [n.recipient for n in again] == [official]
    assert Notification.objects.filter(recipient=principal, dedupe_key=key).count() == 1
    assert len(mail.outbox) == 1
    send(principal, dedupe_key="no_show:2026-09-02:student-1")  # another day: notified again
    assert Notification.objects.filter(recipient=principal).count() == 2


def test_inactive_accounts_are_skipped(world):
    official = world.user(OFFICIAL)
    official.is_active = False
    official.save()
    assert send(official, world.user(PRINCIPAL))[0].recipient.username == PRINCIPAL
    assert not Notification.objects.filter(recipient=official).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"title": "  "}, "title"),
        ({"link": "https://example.com/"}, "link"),
        ({"link": "//example.com/"}, "link"),
    ],
)
def test_bad_input_is_refused(world, kwargs, field):
    with pytest.raises(AppError) as caught:
        send(world.user(PRINCIPAL), **kwargs)
    assert field in caught.value.errors


def test_recipient_helpers_return_active_principals_and_township_officials(world):
    school = world.user(PRINCIPAL).school
    assert [u.username for u in selectors.recipients_for_school(school)] == [PRINCIPAL]
    township = world.user(OFFICIAL).region
    assert [u.username for u in selectors.recipients_for_township(township)] == [OFFICIAL]
    both = selectors.recipients_for_township(
        township, roles=[Role.TOWNSHIP_OFFICIAL, Role.VILLAGE_CADRE]
    )
    assert {u.username for u in both} == {OFFICIAL, "xz1_cungan"}
    official = world.user(OFFICIAL)
    official.is_active = False
    official.save()
    assert not selectors.recipients_for_township(township).exists()


def test_unread_count_in_the_navigation(world, django_assert_num_queries):
    principal = world.user(PRINCIPAL)
    client = world.client(PRINCIPAL)
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()
    send(principal)
    send(principal)
    html = client.get("/").content.decode()
    assert 'data-testid="unread-count">2<' in html
    with django_assert_num_queries(1):
        assert notifications.unread_count(principal) == 2


def test_list_shows_only_the_users_own_notifications_newest_first(world):
    send(world.user(PRINCIPAL), title="第一条")
    send(world.user(PRINCIPAL), title="第二条", link="/students/")
    send(world.user(OFFICIAL), title="干部的通知")
    response = world.client(PRINCIPAL).get("/notifications/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "干部的通知" not in html and "全部标为已读" in html
    assert html.index("第二条") < html.index("第一条")


def test_mark_read_redirects_to_the_link_and_only_for_the_owner(world):
    own = send(world.user(PRINCIPAL), link="/students/")[0]
    other = send(world.user(OFFICIAL))[0]
    client = world.client(PRINCIPAL)
    response = client.post(f"/notifications/{own.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/students/"
    own.refresh_from_db()
    assert own.read_at is not None
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    assert client.get(f"/notifications/{own.pk}/read/").status_code == 405
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_read_without_link_returns_to_the_list(world):
    own = send(world.user(PRINCIPAL))[0]
    response = world.client(PRINCIPAL).post(f"/notifications/{own.pk}/read/")
    assert response["Location"] == "/notifications/"


def test_mark_all_read_touches_only_the_users_own(world):
    principal = world.user(PRINCIPAL)
    send(principal)
    send(principal)
    send(world.user(OFFICIAL))
    response = world.client(PRINCIPAL).post("/notifications/read/")
    assert response.status_code == 302
    assert notifications.unread_count(principal) == 0
    assert notifications.unread_count(world.user(OFFICIAL)) == 1


def test_mark_read_service_ignores_other_users_ids(world):
    principal, official = world.user(PRINCIPAL), world.user(OFFICIAL)
    other = send(official)[0]
    own = send(principal)[0]
    assert notifications.mark_read(principal, ids=[other.pk, own.pk]) == 1
    assert notifications.unread_count(official) == 1


def test_api_lists_own_newest_first_and_filters_unread(world):
    principal = world.user(PRINCIPAL)
    first = send(principal, title="第一条")[0]
    send(principal, title="第二条", kind=NotificationKind.NO_SHOW)
    send(world.user(OFFICIAL), title="干部的通知")
    notifications.mark_read(principal, ids=[first.pk])
    client = api_client(world, PRINCIPAL)
    body = client.get("/api/v1/notifications/").json()
    assert [n["title"] for n in body["results"]] == ["第二条", "第一条"]
    assert "next" in body and "count" not in body  # cursor pagination
    assert body["results"][0]["kind_display"] == "开学未报到"
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert [n["title"] for n in unread] == ["第二条"]


def test_api_read_and_read_all_touch_only_the_callers_own(world):
    principal, official = world.user(PRINCIPAL), world.user(OFFICIAL)
    own = send(principal)[0]
    send(principal)
    other = send(official)[0]
    foreign = send(world.user(OTHER_COUNTY))[0]
    client = api_client(world, PRINCIPAL)
    response = client.post(f"/api/v1/notifications/{own.pk}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    for notice in (other, foreign):
        assert client.post(f"/api/v1/notifications/{notice.pk}/read/").status_code == 404
        assert client.get(f"/api/v1/notifications/{notice.pk}/").status_code == 404
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert notifications.unread_count(principal) == 0
    assert notifications.unread_count(official) == 1


def test_api_needs_a_login(world):
    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)
    assert APIClient().post("/api/v1/notifications/read-all/").status_code in (401, 403)
