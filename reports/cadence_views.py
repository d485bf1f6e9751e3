"""四个一 pages: the sign-offs of the levels above the school and the province's 双月报
switch. Thin: reads are reports.cadence's selectors, each write its one service; records
through the jurisdiction filter (404 outside the area)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, TemplateView

from accounts import jurisdiction, permissions
from accounts.views import ScopedMixin, ServiceFormView
from kongchuo.errors import AppError

from . import cadence
from .cadence_forms import CadenceForm, SignOffForm
from .choices import Period
from .models import ReportCadence, SignOff


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def chosen_period(request, level: cadence.Level, default: cadence.SignPeriod):
    """The period the query string names (?year=&number=) for the level, or ``default``."""
    try:
        return cadence.sign_period(
            level.period,
            _int(request.GET.get("year"), default.year),
            _int(request.GET.get("number"), default.number),
        )
    except AppError:
        return default


class SignOffListView(LoginRequiredMixin, TemplateView):
    """What the user's level must sign, the areas below for the chosen period, and every
    sign-off the user may see."""

    template_name = "reports/signoff_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        today = timezone.localdate()
        level = cadence.level_of(user)
        context = {"level": level, "today": today}
        if level is not None:
            due = cadence.due_for(user, today)
            shown = chosen_period(self.request, level, due[0].sign)
            context.update(due=due, shown=shown, can_sign=permissions.can(user, cadence.SIGN))
            if level.period == Period.QUARTER:
                context["months"] = cadence.county_reports(user, shown)
            else:
                context["below"], context["rows"] = cadence.areas_below(user, shown)
        page = Paginator(cadence.sign_offs(user), 20).get_page(self.request.GET.get("page"))
        context.update(
            page_obj=page,
            object_list=page.object_list,
            can_set_cadence=permissions.can(user, cadence.CADENCE),
        )
        return {**super().get_context_data(**kwargs), **context}


class SignOffDetailView(LoginRequiredMixin, ScopedMixin, DetailView):
    model = SignOff
    template_name = "reports/signoff_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("region", "signed_by")


class SignOffSignView(LoginRequiredMixin, ServiceFormView):
    """Sign one of the level's periods: ?period=&year=&number= name it."""

    requires = cadence.SIGN
    form_class = SignOffForm
    template_name = "reports/signoff_form.html"
    success_message = "已签发。上级可在“逐级审核”中看到本级的签发情况。"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                self.which = cadence.sign_period(
                    request.GET.get("period", ""),
                    _int(request.GET.get("year"), 0),
                    _int(request.GET.get("number"), 0),
                )
            except AppError:
                raise Http404("未找到该审核周期。") from None
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": f"签发{self.which.label}审核",
            "which": self.which,
        }

    def perform(self, data):
        return cadence.sign(by=self.request.user, which=self.which, summary=data["summary"])

    def get_success_url(self, saved):
        return reverse("report-sign-off", args=[saved.pk])


class CadenceView(LoginRequiredMixin, ServiceFormView):
    """The province's 双月报 switch."""

    requires = cadence.CADENCE
    form_class = CadenceForm
    template_name = "reports/cadence_form.html"
    title = "报送周期（月报 / 双月报）"
    success_message = ""

    def _province(self):
        user = self.request.user
        return user.region if user.region_id else None

    def get_initial(self):
        province = self._province()
        current = ReportCadence.objects.filter(province=province).first() if province else None
        return {"bimonthly": "1" if current and current.bimonthly else "0"}

    def get_context_data(self, **kwargs):
        cadences = jurisdiction.scope(
            self.request.user, ReportCadence.objects.select_related("province", "changed_by")
        )
        return {
            **super().get_context_data(**kwargs),
            "cadences": cadences.order_by("province__code"),
            "system_admin": permissions.is_system_admin(self.request.user),
        }

    def perform(self, data):
        saved, change = cadence.set_cadence(
            by=self.request.user, bimonthly=data["bimonthly"], province=data["province"]
        )
        self.success_message = f"已保存。{change}"
        return saved

    def get_success_url(self, saved):
        return reverse("report-cadence")
