"""Panels that higher apps add to a record's page (STYLE.md §4: a lower app never imports a
higher one; the higher app registers a hook).

A *slot* is a place on a page, such as the student page's. An app above the page's app
registers a provider in its ``AppConfig.ready()``: a function ``(user, record) -> Panel |
None`` that reads what it needs (through its own selectors, within the user's area) and
names the template that shows it; ``None`` shows nothing for this user or record. The page
renders every panel in ``order``, each template with its ``context`` as ``panel``::

    # attendance/panels.py, imported by AttendanceConfig.ready()
    from students.panels import Panel, student_page

    def recent_days(user, student):
        return Panel("attendance/panels/student_days.html", {"days": ...})

    student_page.register("attendance.recent_days", recent_days, order=20)

Providers run once per page view: each should cost a few queries whatever the record holds.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts import selectors, views_log
from accounts.choices import AuditAction, Capability
from accounts.permissions import can


@dataclass(frozen=True)
class Panel:
    """One panel on a page: the template that shows it and what it shows."""

    template: str
    context: dict = field(default_factory=dict)


Provider = Callable[..., Panel | None]


class Slot:
    """A place on a page that other apps fill with panels."""

    def __init__(self, name: str):
        self.name = name
        self._providers: dict[str, tuple[int, Provider]] = {}

    def register(self, key: str, provider: Provider, *, order: int = 100) -> None:
        """Show ``provider``'s panel in this slot, sorted by ``order`` (then ``key``).
        Called once per key, when the registering app loads."""
        known = self._providers.get(key)
        if known is not None and known[1] is not provider:
            raise ImproperlyConfigured(f"panel {key!r} is registered twice in {self.name}")
        self._providers[key] = (order, provider)

    def panels(self, user, record) -> list[Panel]:
        """The panels ``user`` gets on ``record``'s page, in order."""
        ordered = sorted(self._providers.items(), key=lambda item: (item[1][0], item[0]))
        shown = (provider(user, record) for _, (_, provider) in ordered)
        return [panel for panel in shown if panel is not None]


# The student page (students.views.StudentDetailView): the ledger's open entry, attendance's
# recent school days, the 劝返 case.
student_page = Slot("student page")


# -- 谁查看过该学生 (issue 15 §4) -----------------------------------------------------------------

VIEWERS_SHOWN = 10


def viewers(user, student) -> Panel | None:
    """The latest views of the child and of their ledger entries and cases, for the
    principal and the county (``accounts.views_log``); the whole list in the audit trail."""
    if not views_log.may_see_viewers(user):
        return None
    views = list(selectors.child_views(user, student)[: VIEWERS_SHOWN + 1])
    context = {"views": views[:VIEWERS_SHOWN], "more": len(views) > VIEWERS_SHOWN}
    if can(user, Capability.VIEW_AUDIT):
        context["audit_url"] = (
            f"{reverse('audit-list')}?action={AuditAction.VIEW}&child={student.pk}"
        )
    return Panel("students/panels/viewers.html", context)


student_page.register("students.viewers", viewers, order=1000)
