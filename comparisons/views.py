"""The comparisons' result pages (issue 13): the runs with their progress, a run's counts and
what changed since the previous one, the mismatch list with its filters, one-click
follow-ups and export, and the 三统一 view. Thin: parse, call a selector or a service, render;
every record through jurisdiction (outside the area: 404)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from accounts import jurisdiction
from accounts.choices import JobKind
from accounts.forms import PlaceFilterForm
from accounts.home import above_county
from accounts.permissions import can
from accounts.views import ScopedMixin, ServiceFormView, check, start_job
from kongchuo.errors import AppError
from kongchuo.filters import page_integer
from ledger.views import place_filters

from . import exports, permissions, runs, selectors, services
from .choices import FINISHED_RUN_STATUSES, Change, MismatchKind, RunStatus, Strength
from .mismatch_forms import CorrectFlagForm, ExplainForm, LinkForm, OpenEntryForm
from .models import Mismatch, Run
from .services import FollowUp

HANDLED_CHOICES = [("0", "待处理"), ("1", "已处理")]
CHANGE_LABELS = {**dict(Change.choices), "gone": "已消除"}


# -- runs ----------------------------------------------------------------------------------------


class RunListView(ScopedMixin, ListView):
    model = Run
    template_name = "comparisons/run_list.html"
    paginate_by = 30

    def get_queryset(self):
        return selectors.runs(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {
            **context,
            "under_way": any(
                run.status not in FINISHED_RUN_STATUSES for run in context["object_list"]
            ),
            "can_upload": can(self.request.user, permissions.UPLOAD),
            # Above a county, runs of several counties: each says whose it is.
            "show_county": above_county(self.request.user),
        }


class RunDetailView(ScopedMixin, DetailView):
    model = Run
    template_name = "comparisons/run_detail.html"

    def get_queryset(self):
        return selectors.runs(self.request.user).select_related("previous", "source__uploaded_by")

    def get_context_data(self, **kwargs):
        run, user = self.object, self.request.user
        found = selectors.mismatches(user, run=run.pk)
        return {
            **super().get_context_data(**kwargs),
            "finished": run.status in FINISHED_RUN_STATUSES,
            "by_kind": [row for row in selectors.counts_by_kind(found) if row[2]],
            "by_township": selectors.counts_by_township(found),
            "total": found.count(),
            "changes": [
                (key, CHANGE_LABELS[key], run.changes.get(key, 0))
                for key in CHANGE_LABELS
                if key in (run.changes or {})
            ],
            "can_cancel": run.status not in FINISHED_RUN_STATUSES
            and can(user, permissions.RUN, run),
        }


def run_progress(request, pk):
    """How far a run is, for static/js/comparisons.js to poll."""
    run = jurisdiction.get_or_404(request.user, Run, pk=pk)
    return JsonResponse(runs.run_progress(run), json_dumps_params={"ensure_ascii": False})


@require_POST
def run_cancel(request, pk):
    run = jurisdiction.get_or_404(request.user, Run, pk=pk)
    check(request.user, permissions.RUN, run)
    try:
        run = runs.run_cancel(by=request.user, run=run)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "已取消比对，之前的比对结果不受影响。"
            if run.status == RunStatus.CANCELLED
            else "已要求取消比对，正在停止；页面会显示最终状态。",
        )
    return redirect("comparisons-run", pk=run.pk)


# -- mismatches ----------------------------------------------------------------------------------


def list_filters(params, places: PlaceFilterForm) -> dict:
    """selectors.mismatches' filters from the query string (the export takes the same)."""
    return {
        "query": params.get("q", ""),
        **places.ids(),
        "kind": params.get("kind", ""),
        "strength": params.get("strength", ""),
        "handled": {"0": False, "1": True}.get(params.get("handled", "")),
        "change": params.get("change", ""),
        "run": page_integer(params.get("run")),
    }


class MismatchListView(ListView):
    template_name = "comparisons/mismatch_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.places = place_filters(self.request.GET, self.request.user)
        self.filters = list_filters(self.request.GET, self.places)
        return selectors.mismatches(self.request.user, **self.filters)

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        run_pk = self.filters["run"]
        run = selectors.runs(user).filter(pk=run_pk).first() if run_pk and run_pk > 0 else None
        return {
            **context,
            "rows": [
                (
                    mismatch,
                    selectors.shown_details(mismatch),
                    [
                        (f, services.one_click(mismatch, f))
                        for f in services.offered(user, mismatch)
                    ],
                )
                for mismatch in context["object_list"]
            ],
            "counts": selectors.counts_by_kind(
                selectors.mismatches(user, **{**self.filters, "kind": ""})
            ),
            "places": self.places,
            "chosen_run": run,
            "kinds": MismatchKind.choices,
            "strengths": Strength.choices,
            "handled_choices": HANDLED_CHOICES,
            "changes": Change.choices,
            "weak": Strength.WEAK,
            "follow_up": FollowUp,
        }


@require_POST
def export(request):
    """按当前条件导出: the list's filters (posted back by the list's export form) go to a
    background job, whose page shows its progress and the file (issue 15 §6)."""
    user = request.user
    filters = list_filters(request.POST, place_filters(request.POST, user))
    params = {"filters": exports.job_filters(filters)}
    return start_job(
        request, kind=JobKind.MISMATCH_EXPORT, params=params, back="comparisons-mismatches"
    )


def back_to_list(request) -> str:
    """The mismatch list the user came from (the ``back`` parameter the list's links and
    forms carry), with its filters; only a path of that list is ever taken from it."""
    base = reverse("comparisons-mismatches")
    parts = urlsplit(request.POST.get("back") or request.GET.get("back") or "")
    if parts.scheme or parts.netloc or parts.path != base:
        return base
    return f"{base}?{parts.query}" if parts.query else base


class FollowUpView(ServiceFormView):
    """One follow-up on one mismatch of the user's area (404 outside it): a page with its
    form on GET, the service on POST; a role that may not take it gets 403. Done, back to
    the list the user came from, saying what happened."""

    follow_up: FollowUp = FollowUp.EXPLAIN
    template_name = "comparisons/mismatch_action.html"

    def dispatch(self, request, *args, **kwargs):
        self.target = jurisdiction.get_or_404(
            request.user,
            Mismatch.objects.select_related("handled__by", "student__school", "township", "school"),
            pk=kwargs["pk"],
        )
        check(request.user, permissions.DISPOSE)
        needs = services.FOLLOW_UP_PERMISSIONS.get(self.follow_up)
        if needs is not None:
            check(request.user, needs)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        mismatch = self.target
        return {
            **super().get_context_data(**kwargs),
            "title": f"{self.follow_up.label}：{mismatch.name}",
            "mismatch": mismatch,
            "details": selectors.shown_details(mismatch),
            "back": back_to_list(self.request),
            "weak": mismatch.strength == Strength.WEAK,
            "follow_up": self.follow_up,
        }

    def get_success_url(self, saved):
        return back_to_list(self.request)


class ExplainView(FollowUpView):
    follow_up = FollowUp.EXPLAIN
    form_class = ExplainForm
    success_message = "已记录情况说明；下次比对时，数据不变的这条不一致仍为已处理。"

    def perform(self, data):
        return services.explain(by=self.request.user, mismatch=self.target, note=data["note"])


class LinkStudentView(FollowUpView):
    follow_up = FollowUp.LINK_STUDENT
    form_class = LinkForm
    success_message = "已关联到学生档案。"

    def get_initial(self):
        return {"student": self.target.student_id}

    def perform(self, data):
        return services.link_student(
            by=self.request.user, mismatch=self.target, student=data["student"], note=data["note"]
        )


class CorrectFlagView(FollowUpView):
    follow_up = FollowUp.CORRECT_FLAG
    form_class = CorrectFlagForm

    def perform(self, data):
        student = services.correct_flag(
            by=self.request.user,
            mismatch=self.target,
            confirmed=data["confirmed"],
            note=data["note"],
        )
        groups = "、".join(student.key_group_labels) or "无"
        self.success_message = f"已更正{student.name}的学生标识，现为：{groups}。"
        return student


class OpenEntryView(FollowUpView):
    follow_up = FollowUp.OPEN_ENTRY
    form_class = OpenEntryForm
    template_name = "comparisons/mismatch_entry.html"
    success_message = (
        "已登记到台账（未入学，来源：数据比对），这条不一致已处理。请在本页继续核实和劝返。"
    )

    def get_initial(self):
        return services.entry_prefill(self.target)

    def perform(self, data):
        return services.open_entry(
            by=self.request.user, mismatch=self.target, **self.form.entry_fields()
        )

    def get_success_url(self, saved):
        return reverse("ledger-detail", args=[saved.pk])


FOLLOW_UP_VIEWS = {
    FollowUp.OPEN_ENTRY: OpenEntryView,
    FollowUp.CORRECT_FLAG: CorrectFlagView,
    FollowUp.LINK_STUDENT: LinkStudentView,
    FollowUp.EXPLAIN: ExplainView,
}


# -- 三统一 ----------------------------------------------------------------------------------------


def three_way(request):
    """The 三统一 view of the user's area; above a county, of the county chosen (a province's
    every township on one page would be thousands of rows)."""
    user = request.user
    places = None
    county = None
    if above_county(user):
        places = PlaceFilterForm(request.GET, user=user, fields=("county",))
        county = places.cleaned_data.get("county") if places.is_valid() else None
    rows = selectors.three_way(user, county=county) if places is None or county else []
    return render(
        request,
        "comparisons/three_way.html",
        {
            "places": places,
            "county": county,
            "rows": rows,
            "totals": selectors.ThreeWayTotals.of(rows),
        },
    )
