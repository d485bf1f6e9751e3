"""The ledger's panels (students.panels): on the student page, the child's open entry — or,
when there is none, 上报 for those who may put a child on the ledger; and the ledger entry
page's own slot, which the apps above the ledger fill (attendance: the unexcused days that
opened the entry; later the 劝返 case). Registered by LedgerConfig.ready()."""

from accounts.permissions import can
from students.panels import Panel, Slot, student_page

from .choices import OPEN_STATES
from .models import LedgerEntry
from .permissions import CREATE

# The ledger entry page (ledger.views.EntryDetailView): providers get (user, entry).
entry_page = Slot("ledger entry page")


def open_entry(user, student) -> Panel:
    """The student's open entry if the user sees it; an open entry they do not see is only
    said to exist (it stops a second one); none: 上报 for those who may."""
    entry = (
        LedgerEntry.objects.filter(student=student, state__in=OPEN_STATES)
        .select_related("township")
        .first()
    )
    visible = entry is not None and LedgerEntry.objects.for_user(user).filter(pk=entry.pk).exists()
    return Panel(
        "ledger/panels/student_entry.html",
        {
            "entry": entry if visible else None,
            "elsewhere": entry is not None and not visible,
            "may_report": entry is None and can(user, CREATE),
            "student": student,
        },
    )


student_page.register("ledger.open_entry", open_entry, order=10)
