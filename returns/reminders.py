"""The 劝返 reminders (DOMAIN.md §9, issue 12 rule 8) through the notification centre: an
instruction not signed for in RETURNS_ACK_DAYS, a 责令改正 deadline near and passed (the county
too, after), no action logged for RETURNS_IDLE_DAYS, the follow-up due. Each is sent once per
person per deadline: its dedupe key names the case and the deadline, so a second run the same
day (or the next) sends nothing more."""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.choices import NotificationKind
from accounts.notifications import notify

from . import selectors
from .models import ReturnCase
from .services import case_subject


def _send(case: ReturnCase, recipients, *, what: str, title: str, body: str, due) -> int:
    return len(
        notify(
            recipients,
            kind=NotificationKind.RETURN_REMINDER,
            title=f"{case_subject(case)}：{title}",
            body=body,
            link=case.get_absolute_url(),
            dedupe_key=f"returns:{what}:{case.pk}:{due}",
        )
    )


def _cases(condition: Q):
    return ReturnCase.objects.filter(condition).select_related(
        "entry__student__klass", "entry__school", "county", "township", "co_township"
    )


def send(today: datetime.date | None = None) -> int:
    """Send every reminder due on ``today``; returns how many notifications went out."""
    today = today or timezone.localdate()
    sent = 0
    for case in _cases(selectors.unacknowledged_q(today)):
        sent += _send(
            case,
            [*selectors.workers(case), *selectors.county_staff(case.county)],
            what="ack",
            title=f"劝返指令超过{settings.RETURNS_ACK_DAYS}天未签收",
            body=f"劝返指令于{timezone.localtime(case.instructed_at):%Y-%m-%d}下达，"
            "请责任乡镇尽快签收并开展劝返。",
            due=f"{case.instructed_at:%Y%m%d%H%M%S}",
        )
    for case in _cases(selectors.deadline_near_q(today)):
        sent += _send(
            case,
            selectors.workers(case),
            what="deadline-near",
            title=f"责令改正期限{case.step_deadline:%Y-%m-%d}将到",
            body="请核实监护人是否已送子女返校；期满仍未返校的，进入下一步。",
            due=case.step_deadline,
        )
    for case in _cases(selectors.overdue_q(today)):
        sent += _send(
            case,
            [*selectors.workers(case), *selectors.county_staff(case.county)],
            what="deadline-passed",
            title=f"责令改正期限{case.step_deadline:%Y-%m-%d}已过",
            body="期限已满，请登记复学或依法推进行政处罚。",
            due=case.step_deadline,
        )
    for case in _cases(selectors.idle_q(today)):
        last = (
            case.last_action_on
            or timezone.localtime(case.acknowledged_at or case.instructed_at).date()
        )
        sent += _send(
            case,
            selectors.workers(case),
            what="idle",
            title=f"超过{settings.RETURNS_IDLE_DAYS}天未开展劝返",
            body=f"最近一次劝返（或签收）为{last:%Y-%m-%d}，请尽快上门劝返并登记。",
            due=last,
        )
    for case in _cases(selectors.follow_up_due_q(today)):
        sent += _send(
            case,
            selectors.workers(case),
            what="follow-up",
            title="复学跟踪期满，请复核",
            body=f"跟踪期至{case.follow_up_until:%Y-%m-%d}。请复核就读情况后结案，"
            "并在台账申请“已复学”销号。",
            due=case.follow_up_until,
        )
    return sent
