"""Ledger pages. Thin: parse, call a service, render; every record through jurisdiction, and
the actions a user is offered come from the state machine."""

import logging
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import DetailView, ListView

from accounts import jurisdiction, views_log
from accounts.choices import JobKind
from accounts.forms import PlaceFilterForm
from accounts.home import above_county
from accounts.permissions import refusal
from accounts.views import ScopedMixin, ServiceFormView, check, start_job
from kongchuo.errors import AppError
from kongchuo.filters import page_integer
from students import selectors as student_selectors
from students import services as student_services
from students.calendar import term_calendars
from students.choices import KeyGroup
from students.models import Student
from students.permissions import GUARDIAN_PHONES
from students.selectors import Contact

from . import consistency, exports, permissions, selectors, services
from .choices import Action, EntryKind, Reason, State
from .forms import ACTION_FORMS, EntryForm, UpdateForm
from .models import EntryEvent, LedgerEntry
from .panels import entry_page

logger = logging.getLogger(__name__)


def place_filters(params, user) -> PlaceFilterForm:
    """The list's township and school filters, and the county above the county."""
    fields = ("county", "township", "school") if above_county(user) else ("township", "school")
    return PlaceFilterForm(params, user=user, fields=fields)


def list_filters(params, places: PlaceFilterForm) -> dict:
    """The list's filters from query parameters (the export takes the same). Township and
    school come as codes from the search fields, read by ``places``."""
    return {
        "query": params.get("q", ""),
        **places.ids(),
        # A grade no record can have (not a whole number) matches nothing.
        "grade": page_integer(params.get("grade")),
        "kind": params.get("kind", ""),
        "state": params.get("state", ""),
        "reason": params.get("reason", ""),
        "key_group": params.get("key_group", ""),
        "term": params.get("term", ""),
        "overdue": params.get("overdue") == "1",
        "rebound": params.get("rebound") == "1",
        "open_only": params.get("open") == "1",
    }


class EntryListView(ScopedMixin, ListView):
    model = LedgerEntry
    template_name = "ledger/entry_list.html"
    paginate_by = 50

    def get_queryset(self):
        # Every term of every calendar, read once for the page, its counts and its filters;
        # the searched township and school, looked up once too.
        self.calendars = term_calendars()
        self.places = place_filters(self.request.GET, self.request.user)
        self.filters = list_filters(self.request.GET, self.places)
        return selectors.entries(self.request.user, calendars=self.calendars, **self.filters)

    def get_context_data(self, **kwargs):
        user = self.request.user
        unfiltered_state = {**self.filters, "state": ""}
        context = super().get_context_data(**kwargs)
        selectors.name_reviewed_terms(context["object_list"], self.calendars)
        return {
            **context,
            "counts": selectors.state_counts(
                selectors.entries(user, calendars=self.calendars, **unfiltered_state)
            ),
            "overdue_count": selectors.entries(
                user, calendars=self.calendars, overdue=True
            ).count(),
            "places": self.places,
            "chosen_county": self.places.cleaned_data.get("county"),
            "grades": range(1, 10),
            "kinds": EntryKind.choices,
            "states": State.choices,
            "reasons": Reason.choices,
            "key_groups": KeyGroup.choices,
            "terms": selectors.term_options(user),
        }


class EntryDetailView(ScopedMixin, DetailView):
    model = LedgerEntry
    template_name = "ledger/entry_detail.html"

    def get_queryset(self):
        return selectors.with_overdue(
            super()
            .get_queryset()
            .select_related("student", "school__township", "township", "hukou_region", "previous")
        )

    def get_object(self, queryset=None):
        entry = super().get_object(queryset)
        views_log.page_view(self.request, entry)
        return entry

    def get_context_data(self, **kwargs):
        entry, user = self.object, self.request.user
        selectors.name_reviewed_terms([entry])
        return {
            **super().get_context_data(**kwargs),
            "timeline": selectors.timeline(entry),
            "actions": permissions.possible_actions(user, entry),
            "rebounds": entry.rebounds.for_user(user),
            "rule_actor": services.RULE_ACTOR,
            # What a verification call needs: the panels of the apps above (the days that
            # opened the entry), the guardians' numbers (masked unless revealed), the list.
            "panels": entry_page.panels(user, entry),
            "contacts": student_selectors.contacts(entry.student, _entry_contacts(entry)),
            "contacts_url": reverse("ledger-contacts", args=[entry.pk]),
            "contacts_refusal": refusal(user, GUARDIAN_PHONES, entry),
            **_back_context(self.request),
        }


def back_to_list(request) -> str:
    """The ledger list the user came from, with its filters and page: the ``back`` parameter
    (which the list's links and this page's forms carry) or else the Referer, whichever is
    the list on this site; otherwise the whole list. Nothing but the list's own path is ever
    taken from them, so no link leads elsewhere."""
    base = reverse("ledger-list")
    candidates = [
        (request.GET.get("back") or request.POST.get("back") or "", False),
        (request.META.get("HTTP_REFERER", ""), True),
    ]
    for candidate, absolute in candidates:
        parts = urlsplit(candidate)
        if absolute and not url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            continue
        if not absolute and (parts.scheme or parts.netloc):
            continue
        if parts.path == base:
            return f"{base}?{parts.query}" if parts.query else base
    return base


def _back_context(request) -> dict:
    """``back``, the list to return to, and ``back_query``, the query string that carries it
    to the entry's other pages (empty for the whole list)."""
    back = back_to_list(request)
    return {
        "back": back,
        "back_query": "" if back == reverse("ledger-list") else urlencode({"back": back}),
    }


def entry_url(entry_pk: int, request) -> str:
    """The entry's page, carrying the list the user came from (see ``back_to_list``)."""
    query = _back_context(request)["back_query"]
    detail = reverse("ledger-detail", args=[entry_pk])
    return f"{detail}?{query}" if query else detail


def _entry_contacts(entry: LedgerEntry) -> list[Contact]:
    """The entry's own 父母联系方式, after the student record's guardians."""
    if not entry.parent_contact:
        return []
    return [Contact(name="父母联系方式", relation="台账登记", phone=entry.parent_contact)]


@require_POST
def entry_contacts(request, pk):
    """The guardians' full numbers on an entry's page: the same audited reveal as the
    student page's (students.services.reveal_contacts), of the entry."""
    entry = jurisdiction.get_or_404(
        request.user, LedgerEntry.objects.select_related("student"), pk=pk
    )
    check(request.user, GUARDIAN_PHONES, entry)
    detail = entry_url(entry.pk, request)
    try:
        contacts = student_services.reveal_contacts(
            by=request.user, record=entry, student=entry.student, extra=_entry_contacts(entry)
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect(detail)
    return render(
        request,
        "students/reveal.html",
        {"title": entry.name, "contacts": contacts, "back": detail},
    )


class EntryCreateView(ServiceFormView):
    requires = permissions.CREATE
    form_class = EntryForm
    template_name = "ledger/entry_form.html"
    title = "登记台账记录"
    success_message = "已登记到台账。"

    def dispatch(self, request, *args, **kwargs):
        self.student = None
        if request.GET.get("student"):
            self.student = jurisdiction.get_or_404(request.user, Student, pk=request.GET["student"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"student": self.student.pk} if self.student else {}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "student": self.student}

    def perform(self, data):
        return services.entry_create(by=self.request.user, data=self.form.to_data())

    def get_success_url(self, saved):
        return reverse("ledger-detail", args=[saved.pk])


def _run(action: Action, by, entry: LedgerEntry, data: dict) -> LedgerEntry:
    """Hand a valid action form to its service."""
    common = {"by": by, "entry": entry}
    if action == Action.EXCLUDE:
        return services.entry_exclude(**common, note=data["note"])
    if action == Action.CONFIRM:
        return services.entry_confirm(**common, note=data["note"])
    if action == Action.ASSIGN:
        return services.entry_assign(**common, township=data["township"], note=data["note"])
    if action == Action.RETURN:
        return services.entry_return(**common, note=data["note"], student=data["student"])
    if action == Action.PROPOSE:
        return services.entry_propose_closure(
            **common,
            reason=data["closure_reason"],
            evidence_text=data["evidence_text"],
            evidence_file=data["evidence_file"],
        )
    if action == Action.APPROVE:
        return services.entry_approve(**common, comment=data["comment"])
    if action == Action.REJECT:
        return services.entry_reject(**common, comment=data["comment"])
    if action == Action.REOPEN:
        return services.entry_reopen(**common, note=data["note"])
    if action == Action.REVIEW:
        return services.entry_review(**common, note=data["note"])
    return services.entry_update(**common, **data)


class EntryActionView(ServiceFormView):
    """One form per action. A role that may not take it gets 403; an entry not in a state
    the action starts from goes back to its page with the reason. The list the user came
    from (``back``) goes through the form and its redirect back to the entry's page."""

    action: Action = Action.REVIEW
    template_name = "ledger/action_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.target = jurisdiction.get_or_404(request.user, LedgerEntry, pk=kwargs["pk"])
        check(request.user, permissions.key(self.action))
        problem = refusal(request.user, permissions.key(self.action), self.target)
        if problem:
            messages.error(request, problem)
            return redirect(entry_url(self.target.pk, request))
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return ACTION_FORMS[self.action]

    def get_initial(self):
        return UpdateForm.initial_for(self.target) if self.action == Action.UPDATE else {}

    def get_context_data(self, **kwargs):
        title = f"{self.action.label}：{self.target.name}"
        return {
            **super().get_context_data(**kwargs),
            **_back_context(self.request),
            "title": title,
            "entry": self.target,
            "entry_url": entry_url(self.target.pk, self.request),
        }

    def perform(self, data):
        self.success_message = f"已{self.action.label}。"
        return _run(self.action, self.request.user, self.target, data)

    def get_success_url(self, saved):
        return entry_url(saved.pk, self.request)


def evidence(request, pk):
    event = jurisdiction.get_or_404(request.user, EntryEvent, pk=pk)
    if not event.evidence:
        raise Http404("该操作没有上传证明材料。")
    try:
        handle = event.evidence.open("rb")
    except FileNotFoundError:
        # The record says a file was uploaded but storage lost it: tell, don't crash.
        logger.error("证明材料文件缺失：操作记录 %s（%s）", event.pk, event.evidence.name)
        messages.error(request, "证明材料文件已丢失，请联系系统管理员。")
        return redirect("ledger-detail", pk=event.entry_id)
    return FileResponse(handle, as_attachment=True)


@require_POST
def export(request):
    """按当前条件导出: the list's filters (posted back by the list's export form) go to a
    background job, whose page shows its progress and the file (issue 15 §6)."""
    places = place_filters(request.POST, request.user)
    params = {
        "filters": exports.job_filters(list_filters(request.POST, places)),
        "reveal": request.POST.get("reveal") == "1",
    }
    return start_job(request, kind=JobKind.LEDGER_EXPORT, params=params, back="ledger-list")


@require_http_methods(["GET", "POST"])
def consistency_list(request):
    """The live mismatches of the user's area and the latest kept check; POST is 立即核查:
    the check of the user's county as a background job, whose progress the page shows."""
    user = request.user
    check(user, permissions.CONSISTENCY)
    if request.method == "POST":
        try:
            _, started = consistency.check_now(by=user)
        except AppError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                "已开始核查本县台账，完成后本页显示结果。"
                if started
                else "上一次核查还在进行，请稍候查看结果。",
            )
        return redirect("ledger-consistency")
    last_run, job = consistency.latest(user)
    return render(
        request,
        "ledger/consistency.html",
        {
            "mismatches": consistency.for_user(user),
            "last_run": last_run,
            "job": job,
            "can_check_now": consistency.may_check_now(user),
        },
    )
