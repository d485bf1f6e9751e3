"""The 劝返 case's panels on lower apps' pages (students.panels): on the student page and on
the ledger entry page, the child's case — its state, step, township, last action and a link
— for whoever sees the case; on a 已确认辍学 entry without an open case, 下达劝返指令 for the
county. Registered by ReturnsConfig.ready()."""

from django.db.models import Case, IntegerField, Value, When

from accounts.permissions import can
from ledger.choices import State as EntryState
from ledger.panels import entry_page
from students.panels import Panel, student_page

from .choices import Action, CaseState
from .models import ReturnCase
from .permissions import key

TEMPLATE = "returns/panels/case.html"


def _latest(user, **lookup) -> ReturnCase | None:
    """The user's visible case matching ``lookup``: the open one, else the latest closed."""
    return (
        ReturnCase.objects.for_user(user)
        .filter(**lookup)
        .select_related("township", "co_township")
        .order_by(
            Case(
                When(state=CaseState.CLOSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            "-instructed_at",
            "-id",
        )
        .first()
    )


def _panel(case: ReturnCase | None, **context) -> Panel:
    last = case.actions.order_by("-date", "-id").first() if case is not None else None
    return Panel(TEMPLATE, {"case": case, "last_action": last, **context})


def student_case(user, student) -> Panel | None:
    case = _latest(user, entry__student=student)
    return _panel(case) if case is not None else None


def entry_case(user, entry) -> Panel | None:
    case = _latest(user, entry=entry)
    may_open = (
        entry.state == EntryState.CONFIRMED
        and (case is None or not case.is_open)
        and can(user, key(Action.OPEN), entry)
    )
    if case is None and not may_open:
        return None
    return _panel(case, open_entry=entry if may_open else None)


student_page.register("returns.case", student_case, order=30)
entry_page.register("returns.case", entry_case, order=20)
