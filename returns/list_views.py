"""The 劝返 case list and its export. The county (and those above it) sees every case of its
area, overdue first; a township's accounts and team members open on "我的劝返案件", most
urgent first, with a link to every case of their area. Both read ``selectors.cases`` with the
filters ``list_filters`` takes from the query string, so the export is what the list shows."""

from urllib.parse import urlencode

from django.views.decorators.http import require_POST
from django.views.generic import ListView

from accounts.choices import JobKind
from accounts.forms import PlaceFilterForm
from accounts.home import above_county
from accounts.views import start_job
from kongchuo.filters import page_integer
from ledger.transitions import COUNTY

from . import documents, exports, selectors
from .choices import CaseState, Step

MINE_TITLE, ALL_TITLE = "我的劝返案件", "劝返案件"


def place_filters(params, user) -> PlaceFilterForm:
    """The township filter, and the county above the county (both searched by code)."""
    fields = ("county", "township") if above_county(user) else ("township",)
    return PlaceFilterForm(params, user=user, fields=fields)


def is_mine(params, user) -> bool:
    """``mine=1`` / ``mine=0`` as asked, else the user's default (selectors.mine_by_default)."""
    asked = params.get("mine")
    return asked == "1" if asked in ("0", "1") else selectors.mine_by_default(user)


def list_filters(params, user, places: PlaceFilterForm) -> dict:
    """selectors.cases' filters from query parameters; "my cases" are the open ones."""
    mine = is_mine(params, user)
    return {
        "mine": mine,
        "open_only": mine,
        "query": params.get("q", ""),
        **places.ids(),
        "step": page_integer(params.get("step")),
        "state": params.get("state", ""),
        "overdue": params.get("overdue") == "1",
        "due": params.get("due", ""),
    }


class CaseListView(ListView):
    template_name = "returns/list.html"
    paginate_by = 50

    def get_queryset(self):
        self.places = place_filters(self.request.GET, self.request.user)
        self.filters = list_filters(self.request.GET, self.request.user, self.places)
        return selectors.cases(self.request.user, **self.filters)

    def get_context_data(self, **kwargs):
        user, mine = self.request.user, self.filters["mine"]
        context = super().get_context_data(**kwargs)
        # The counts ignore the state filter (they are its links) and keep the others.
        counted = selectors.cases(user, **{**self.filters, "state": "", "open_only": False})
        # The stats' links keep the list's explicit "mine" choice, nothing else.
        keep = (
            urlencode({"mine": self.request.GET["mine"]}) + "&"
            if "mine" in self.request.GET
            else ""
        )
        return {
            **context,
            "title": MINE_TITLE if mine else ALL_TITLE,
            "mine": mine,
            "may_switch": mine or user.role in COUNTY or selectors.mine_by_default(user),
            "rows": [(case, selectors.urgency_reason(case)) for case in context["object_list"]],
            "counts": selectors.state_counts(counted),
            "overdue_count": selectors.cases(user, mine=mine, overdue=True).count(),
            "keep": keep,
            "places": self.places,
            "steps": Step.choices,
            "states": CaseState.choices,
            "dues": selectors.due_labels().items(),
            "document_kinds": documents.KINDS.values(),
        }


@require_POST
def export(request):
    """按当前条件导出: the list's filters (posted back by the list's export form) go to a
    background job, whose page shows its progress and the file (issue 15 §6)."""
    user = request.user
    filters = list_filters(request.POST, user, place_filters(request.POST, user))
    params = {
        "filters": exports.job_filters(filters),
        "title": MINE_TITLE if filters["mine"] else ALL_TITLE,
    }
    return start_job(request, kind=JobKind.RETURN_CASE_EXPORT, params=params, back="returns-list")
