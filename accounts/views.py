"""Pages of the organisation tree, accounts and audit trail. Thin: parse, call a service,
render. Every record comes through the jurisdiction filter, so out-of-area ids are 404."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, TemplateView

from kongchuo.errors import AppError

from . import (
    home,
    jobs,
    jurisdiction,
    lockout,
    notifications,
    permissions,
    selectors,
    services,
    tokens,
    two_factor,
)
from .choices import Capability, SchoolKind
from .forms import (
    AccountForm,
    AuditFilterForm,
    PlaceFilterForm,
    RegionForm,
    RegionRenameForm,
    SchoolClassForm,
    SchoolForm,
    TwoFactorCodeForm,
)
from .models import Job, Region, School, SchoolClass, User


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked account: 429 saying until when (accounts.lockout)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    message = lockout.message(lockout.locked_until(username))
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked.html", {"message": message}, status=429)


# -- login with two-factor ----------------------------------------------------------------
# Between the password and the code the account is not logged in: the session only holds
# who gave the right password, when, and where to go next.
_PENDING = "two_factor_pending"


def _pending_user(request) -> User | None:
    pending = request.session.get(_PENDING)
    if not pending or time.time() - pending["at"] > settings.TWO_FACTOR_PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is not None:
        user.backend = pending["backend"]
    return user


def _finish_login(request, user: User):
    """Log in for real (a new session key), then go where the login page was asked to."""
    goto = request.session.pop(_PENDING, {}).get("next") or reverse(settings.LOGIN_REDIRECT_URL)
    auth_login(request, user, backend=user.backend)
    return goto


def _start_again(request):
    request.session.pop(_PENDING, None)
    messages.error(request, "登录已超时，请重新输入用户名和密码。")
    return redirect("login")


class LoginView(auth_views.LoginView):
    """Django's login page; for an account with two-factor (or one whose role requires it)
    the password leads to the code (or the enrolment) page instead of logging in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        step = two_factor.next_step(user)
        if step is None:
            return super().form_valid(form)
        self.request.session[_PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login-code" if step == two_factor.CODE else "login-enrol")


@login_not_required
def login_code(request):
    user = _pending_user(request)
    if user is None:
        return _start_again(request)
    form = TwoFactorCodeForm(request.POST or None)
    if form.is_valid():
        if two_factor.verify(user, form.cleaned_data["code"]):
            return redirect(_finish_login(request, user))
        two_factor.record_wrong_code(user, "登录页")
        form.add_error("code", two_factor.WRONG_CODE)
    return render(request, "registration/login_code.html", {"form": form, "account": user})


def _enrol(request, user: User, *, action: str, after_login: bool):
    """The enrolment page: a QR code and the key, then the first code; the recovery codes
    are shown once, on the answer to that code."""
    form = TwoFactorCodeForm(request.POST or None)
    if form.is_valid():
        try:
            codes = two_factor.confirm(user, form.cleaned_data["code"])
        except AppError as exc:
            form.add_error("code", exc.message)
        else:
            goto = _finish_login(request, user) if after_login else reverse("account-security")
            return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": goto})
    device = two_factor.pending_device(user)
    context = {
        "form": form,
        "action": action,
        "qr": two_factor.qr_svg(device),
        "secret": two_factor.secret(device),
        "required": two_factor.is_required(user),
        "after_login": after_login,
    }
    return render(request, "accounts/two_factor_enrol.html", context)


@login_not_required
def login_enrol(request):
    user = _pending_user(request)
    if user is None:
        return _start_again(request)
    if two_factor.is_enrolled(user):
        return redirect("login-code")
    return _enrol(request, user, action=reverse("login-enrol"), after_login=True)


# -- the account's own security page: tokens and two-factor -----------------------------


def account_security(request):
    user = request.user
    context = {
        "tokens": tokens.live(user).select_related("created_by"),
        "enrolled": two_factor.is_enrolled(user),
        "required": two_factor.is_required(user),
        "code_form": TwoFactorCodeForm(),
    }
    return render(request, "accounts/token_list.html", context)


def two_factor_enrol(request):
    if two_factor.is_enrolled(request.user):
        messages.info(request, "两步验证已启用。")
        return redirect("account-security")
    return _enrol(request, request.user, action=reverse("two-factor-enrol"), after_login=False)


@require_POST
def two_factor_remove(request):
    try:
        two_factor.remove(user=request.user, code=request.POST.get("code", ""))
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "两步验证已停用，登录时只需密码；可随时重新启用。")
    return redirect("account-security")


@require_POST
def token_revoke(request):
    _revoke_token(request, owner=request.user)
    return redirect("account-security")


def _revoke_token(request, *, owner: User) -> None:
    try:
        token = tokens.revoke(by=request.user, owner=owner, token_id=request.POST.get("token"))
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"令牌“{token.name}”已吊销，使用它的客户端需重新申请令牌；其他令牌不受影响。"
        )


# -- a county administrator on an account's tokens and two-factor ------------------------


def account_security_admin(request, pk):
    account = jurisdiction.get_or_404(request.user, User, pk=pk)
    check(request.user, Capability.MANAGE_ACCOUNTS)
    context = {
        "account": account,
        "tokens": tokens.live(account).select_related("created_by"),
        "enrolled": two_factor.is_enrolled(account),
        "required": two_factor.is_required(account),
    }
    return render(request, "accounts/token_admin.html", context)


@require_POST
def account_token_revoke(request, pk):
    account = jurisdiction.get_or_404(request.user, User, pk=pk)
    check(request.user, Capability.MANAGE_ACCOUNTS)
    _revoke_token(request, owner=account)
    return redirect("account-security-admin", pk=account.pk)


@require_POST
def account_two_factor_reset(request, pk):
    account = jurisdiction.get_or_404(request.user, User, pk=pk)
    check(request.user, Capability.MANAGE_ACCOUNTS)
    try:
        two_factor.reset(by=request.user, user=account)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已重置 {account.username} 的两步验证；该账号下次登录时重新绑定验证器。"
        )
    return redirect("account-security-admin", pk=account.pk)


def check(user, action: str, obj=None) -> None:
    """Pages answer 403, with the reason, to a user who sees a record but may not act on it
    (accounts.permissions: the same question the services and the API ask)."""
    reason = permissions.refusal(user, action, obj)
    if reason is not None:
        raise PermissionDenied(reason)


class RequiresMixin:
    """``requires``: the permission action a page needs, checked before anything else."""

    requires: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.requires:
            check(request.user, self.requires)
        return super().dispatch(request, *args, **kwargs)


class ScopedMixin(RequiresMixin):
    """Lists and details read only what the user's area holds."""

    model = None

    def get_queryset(self):
        return jurisdiction.scope(self.request.user, super().get_queryset())


class ServiceFormView(RequiresMixin, FormView):
    """A form whose valid input goes to one service; its AppError comes back onto the form.

    ``target_model`` set: the view works on one record of the user's area, found by the URL's
    ``target_kwarg`` (404 outside the area), available as ``self.target``.
    """

    template_name = "accounts/form.html"
    target_model = None
    target_kwarg = "pk"
    title = ""

    def dispatch(self, request, *args, **kwargs):
        if self.target_model is not None:
            self.target = jurisdiction.get_or_404(
                request.user, self.target_model, pk=kwargs[self.target_kwarg]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        title = self.title.format(target=getattr(self, "target", None))
        return {**super().get_context_data(**kwargs), "title": title}

    def perform(self, data: dict):
        raise NotImplementedError

    def form_valid(self, form):
        self.form = form
        try:
            saved = self.perform(form.cleaned_data)
        except AppError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url(saved))


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        where = home.desk(user, timezone.localdate())
        items, counted_at = home.today_work(where)
        return {
            **super().get_context_data(**kwargs),
            **selectors.home_summary(user),
            "today": where.day,
            "counted_at": counted_at,
            "items": items,
            "waiting": sum(item.urgent for item in items),
            "county_columns": [item for item in items if item.by_county is not None],
            "county_rows": home.county_rows(where.counties, items),
            "my_classes": SchoolClass.objects.for_user(user)
            .filter(head_teacher=user)
            .select_related("school"),
        }


class RegionListView(ScopedMixin, ListView):
    """The divisions of the area, a page at a time: a province holds tens of thousands of
    villages once the national table is loaded."""

    model = Region
    template_name = "accounts/region_list.html"
    paginate_by = 100

    def get_queryset(self):
        return selectors.regions(self.request.user, query=self.request.GET.get("q", ""))


class RegionCreateView(ServiceFormView):
    requires = Capability.MANAGE_ORG
    form_class = RegionForm
    title = "新增乡镇或村"
    success_message = "区划已新增。"

    def get_initial(self):
        return {"parent": self.request.GET.get("parent")}

    def perform(self, data):
        return services.region_create(by=self.request.user, **data)

    def get_success_url(self, saved):
        return reverse("region-list")


class RegionUpdateView(ServiceFormView):
    requires = Capability.MANAGE_ORG
    form_class = RegionRenameForm
    target_model = Region
    title = "修改区划：{target.name}"
    success_message = "区划名称已修改。"

    def get_initial(self):
        return {"name": self.target.name}

    def perform(self, data):
        return services.region_update(by=self.request.user, region=self.target, **data)

    def get_success_url(self, saved):
        return reverse("region-list")


class SchoolListView(ScopedMixin, ListView):
    model = School
    template_name = "accounts/school_list.html"
    paginate_by = 50

    def get_queryset(self):
        params = self.request.GET
        # The township comes as a code from the search field; one the area lacks finds nothing.
        self.places = PlaceFilterForm(params, user=self.request.user, fields=("township",))
        return selectors.schools(
            self.request.user,
            **self.places.ids(),
            kind=params.get("kind", ""),
            query=params.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "places": self.places,
            "kinds": SchoolKind.choices,
        }


class SchoolDetailView(ScopedMixin, DetailView):
    model = School
    template_name = "accounts/school_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "classes": SchoolClass.objects.for_user(user)
            .filter(school=self.object)
            .select_related("head_teacher"),
            "branches": School.objects.for_user(user).filter(parent=self.object),
        }


class SchoolCreateView(ServiceFormView):
    requires = Capability.MANAGE_ORG
    form_class = SchoolForm
    title = "新增学校"
    success_message = "学校已新增。"

    def perform(self, data):
        return services.school_create(by=self.request.user, **data)

    def get_success_url(self, saved):
        return reverse("school-detail", args=[saved.pk])


class SchoolUpdateView(ServiceFormView):
    requires = Capability.MANAGE_ORG
    form_class = SchoolForm
    target_model = School
    title = "修改学校：{target.name}"
    success_message = "学校信息已保存。"

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["code"].disabled = True
        return form

    def get_initial(self):
        s = self.target
        return {
            "code": s.code,
            "name": s.name,
            "kind": s.kind,
            "township": s.township,
            "parent": s.parent,
        }

    def perform(self, data):
        data.pop("code")
        return services.school_update(by=self.request.user, school=self.target, **data)

    def get_success_url(self, saved):
        return reverse("school-detail", args=[saved.pk])


class SchoolClassDetailView(ScopedMixin, DetailView):
    model = SchoolClass
    template_name = "accounts/class_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("school", "head_teacher")


class SchoolClassCreateView(ServiceFormView):
    requires = Capability.MANAGE_ORG
    form_class = SchoolClassForm
    target_model = School
    target_kwarg = "school_pk"
    title = "新增班级：{target.name}"
    success_message = "班级已新增。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "school": self.target}

    def perform(self, data):
        return services.class_create(by=self.request.user, school=self.target, **data)

    def get_success_url(self, saved):
        return reverse("school-detail", args=[self.target.pk])


class SchoolClassUpdateView(ServiceFormView):
    requires = Capability.MANAGE_ORG
    form_class = SchoolClassForm
    target_model = SchoolClass
    title = "修改班级：{target.school.name} {target}"
    success_message = "班级信息已保存。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "school": self.target.school}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["school_year"].disabled = True
        return form

    def get_initial(self):
        k = self.target
        return {
            "school_year": k.school_year,
            "grade": k.grade,
            "name": k.name,
            "head_teacher": k.head_teacher_id,
        }

    def perform(self, data):
        data.pop("school_year")
        return services.class_update(by=self.request.user, klass=self.target, **data)

    def get_success_url(self, saved):
        return reverse("class-detail", args=[saved.pk])


class AccountListView(ScopedMixin, ListView):
    requires = Capability.MANAGE_ACCOUNTS
    model = User
    template_name = "accounts/account_list.html"
    paginate_by = 50

    def get_queryset(self):
        users = super().get_queryset().select_related("region", "school")
        query = self.request.GET.get("q", "").strip()
        if query:
            users = users.filter(username__icontains=query) | users.filter(
                full_name__icontains=query
            )
        role = self.request.GET.get("role", "")
        if role:
            users = users.filter(role=role)
        return users


class AccountCreateView(ServiceFormView):
    requires = Capability.MANAGE_ACCOUNTS
    form_class = AccountForm
    title = "新增账号"
    success_message = "账号已创建。"

    def perform(self, data):
        return services.account_create(by=self.request.user, **data)

    def get_success_url(self, saved):
        return reverse("account-list")


class AccountUpdateView(ServiceFormView):
    requires = Capability.MANAGE_ACCOUNTS
    form_class = AccountForm
    target_model = User
    title = "修改账号：{target.username}"
    success_message = "账号信息已保存。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "editing": True}

    def get_initial(self):
        a = self.target
        return {
            "username": a.username,
            "full_name": a.full_name,
            "role": a.role,
            "region": a.region,
            "school": a.school,
            "phone": a.phone,
            "email": a.email,
        }

    def perform(self, data):
        data.pop("username")
        return services.account_update(by=self.request.user, user=self.target, **data)

    def get_success_url(self, saved):
        return reverse("account-list")


@require_POST
def account_set_active(request, pk):
    account = jurisdiction.get_or_404(request.user, User, pk=pk)
    check(request.user, Capability.MANAGE_ACCOUNTS)
    active = request.POST.get("active") == "1"
    try:
        services.account_set_active(by=request.user, user=account, active=active)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"账号 {account.username} 已{'启用' if active else '停用'}。")
    return redirect("account-list")


def start_job(request, *, kind: str, params: dict, back: str):
    """Start a job for the page's user and open its page (progress, then the file); a
    refusal goes back to the page named ``back`` with the reason. The export buttons of the
    lists all start theirs so (issue 15 §6)."""
    try:
        job = jobs.job_start(by=request.user, kind=kind, params=params)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return redirect("job-detail", pk=job.pk)


@require_POST
def job_create(request):
    try:
        job = jobs.job_start(by=request.user, kind=request.POST.get("kind", ""))
    except AppError as exc:
        raise PermissionDenied(exc.message) from None
    return redirect("job-detail", pk=job.pk)


def job_detail(request, pk):
    job = jurisdiction.get_or_404(request.user, Job, pk=pk)
    return render(request, "accounts/job_detail.html", {"job": job})


def job_download(request, pk):
    job = jurisdiction.get_or_404(request.user, Job, pk=pk)
    if (missing := jobs.missing_result(job)) is not None:
        raise Http404(missing)
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)


def audit_list(request):
    check(request.user, Capability.VIEW_AUDIT)
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_events(request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit_list.html", {"form": form, "page_obj": page})


def notification_list(request):
    page = Paginator(selectors.notifications(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/notification_list.html", {"page_obj": page})


@require_POST
def notification_read(request, pk):
    notice = jurisdiction.get_or_404(request.user, selectors.notifications(request.user), pk=pk)
    notifications.mark_read(request.user, ids=[notice.pk])
    # notify() accepts only site paths; checked again because the browser follows it.
    if notice.link and url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None):
        return redirect(notice.link)
    return redirect("notification-list")


@require_POST
def notification_read_all(request):
    count = notifications.mark_read(request.user)
    messages.success(request, f"已将 {count} 条通知标为已读。" if count else "没有未读通知。")
    return redirect("notification-list")
