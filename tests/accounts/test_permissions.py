"""One permission check (issue 10, item 3): ``can(user, action, obj=None)`` answers for pages,
the API, templates and services alike, from the roles' capabilities and the other apps'
registered actions (the ledger's state machine table among them)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template

from accounts import permissions
from accounts.choices import ROLE_CAPABILITIES, Capability
from accounts.models import Region, School, User
from attendance.permissions import SET_RULES
from kongchuo.errors import AppError
from ledger import permissions as ledger_permissions
from ledger import services as ledger_services
from ledger.choices import Action, State
from ledger.transitions import TRANSITIONS
from students.permissions import CALENDAR_EDIT
from tests.ledger.conftest import ROLE_USERS, entry_data, make_student

pytestmark = pytest.mark.django_db


def test_capabilities_follow_the_roles_table(world):
    for role, username in ROLE_USERS.items():
        user = world.user(username)
        for capability in Capability:
            granted = capability in ROLE_CAPABILITIES.get(role, frozenset())
            assert permissions.can(user, capability) == granted, (role, capability)


def test_ledger_actions_follow_the_state_machine_table(world):
    for role, username in ROLE_USERS.items():
        user = world.user(username)
        for action, transition in TRANSITIONS.items():
            allowed = role in transition.roles
            assert permissions.can(user, ledger_permissions.key(action)) == allowed


def test_an_unknown_action_fails_loudly(world):
    with pytest.raises(ImproperlyConfigured):
        permissions.can(world.user("xian_admin"), "ledger.destroy")


def test_an_inactive_account_may_do_nothing(world):
    admin = world.user("xian_admin")
    admin.is_active = False
    assert not permissions.can(admin, Capability.MANAGE_ORG)
    with pytest.raises(AppError):
        permissions.require(admin, Capability.MANAGE_ORG)


def test_the_system_administrator_may_do_everything(world):
    root = User.objects.create_superuser("root", password="Root@Kongchuo-2026")
    assert permissions.can(root, Capability.MANAGE_ACCOUNTS)
    assert permissions.can(root, ledger_permissions.CONSISTENCY)


def test_templates_ask_the_same_function(world):
    template = Template('{% if user|can:"manage_org" %}维护{% else %}只读{% endif %}')
    assert template.render(Context({"user": world.user("xian_admin")})) == "维护"
    assert template.render(Context({"user": world.user("xian_staff")})) == "只读"


def test_on_an_entry_the_state_and_the_further_rules_decide(world):
    staff = world.user("xian_staff")
    entry = ledger_services.entry_create(by=staff, data=entry_data(make_student(world)))
    confirm = ledger_permissions.key(Action.CONFIRM)
    assert permissions.can(staff, confirm, entry)
    ledger_services.entry_confirm(by=staff, entry=entry)
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED
    reason = permissions.refusal(staff, confirm, entry)
    assert reason == "台账记录状态为“已确认辍学”，不能执行“确认辍学”。"
    ledger_services.entry_propose_closure(
        by=staff, entry=entry, reason="error", evidence_text="重复登记"
    )
    entry.refresh_from_db()
    approve = ledger_permissions.key(Action.APPROVE)
    assert "不能审批自己提交的销号申请" in permissions.refusal(staff, approve, entry)
    assert permissions.can(world.user("xian_admin"), approve, entry)


def test_page_api_and_service_give_the_same_reason(world):
    """A township official may not confirm a dropout: the page's 403, the API's 403 and the
    service's refusal say the same thing."""
    school_staff = world.user("xz1_xx1_guanli")
    entry = ledger_services.entry_create(by=school_staff, data=entry_data(make_student(world)))
    official = world.user("xz1_ganbu")
    with pytest.raises(AppError) as refused:
        ledger_services.entry_confirm(by=official, entry=entry)
    page = world.client("xz1_ganbu").get(f"/ledger/{entry.pk}/confirm/")
    api = world.token_client("xz1_ganbu").post(f"/api/v1/ledger-entries/{entry.pk}/confirm/")
    assert page.status_code == 403 and api.status_code == 403
    assert refused.value.message in page.content.decode()
    assert api.json()["detail"] == refused.value.message


def test_calendars_are_edited_by_their_own_unit(world):
    county = Region.objects.get(code="532926")
    own = world.user("xz1_xx1_guanli").school
    other = School.objects.filter(township__code__startswith="532926").exclude(pk=own.pk)
    other = other.exclude(parent=own).first()
    assert permissions.can(world.user("xian_staff"), CALENDAR_EDIT, county)
    assert not permissions.can(world.user("xian_staff"), CALENDAR_EDIT, own)
    assert permissions.can(world.user("xz1_xx1_guanli"), CALENDAR_EDIT, own)
    assert not permissions.can(world.user("xz1_xx1_guanli"), CALENDAR_EDIT, other)
    assert not permissions.can(world.user("xz1_xx1_guanli"), CALENDAR_EDIT, county)
    assert "管理校历" in permissions.refusal(world.user("xz1_ganbu"), CALENDAR_EDIT)


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("xian_staff", True),
        ("xian_admin", True),
        ("xz1_xx1_xiaozhang", False),
        ("shi_dudao", False),
    ],
)
def test_county_calendar_keepers_set_the_attendance_rules(world, username, allowed):
    assert permissions.can(world.user(username), SET_RULES) == allowed
