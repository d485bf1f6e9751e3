"""School calendar pages. Thin: parse, call a students.calendar service, render."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import jurisdiction
from accounts.models import School
from accounts.permissions import can
from accounts.views import check
from kongchuo.errors import AppError

from . import calendar
from .models import CalendarDay, DayKind, Term
from .permissions import CALENDAR_EDIT

_DATE = forms.DateInput(attrs={"type": "date"})


class TermForm(forms.Form):
    name = forms.CharField(label="学期名称", max_length=50, help_text="如 2026-2027学年第一学期")
    start = forms.DateField(label="开学日期", widget=_DATE)
    end = forms.DateField(label="结束日期", widget=_DATE)


class DayForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=DayKind.choices)
    start = forms.DateField(label="日期", widget=_DATE)
    end = forms.DateField(
        label="至（可选）", widget=_DATE, required=False, help_text="连续放假时填写最后一天"
    )
    note = forms.CharField(label="说明", max_length=50, required=False, help_text="如 国庆节")


def _owner(request):
    owner = calendar.calendar_owner(request.user)
    if owner is None:
        raise PermissionDenied("只有县级账号和学校账号有校历。")
    return owner


def _editable_owner(request):
    check(request.user, CALENDAR_EDIT)
    owner = _owner(request)
    check(request.user, CALENDAR_EDIT, owner)
    return owner


def _page(request, *, term_form=None, day_form=None, status=200):
    user = request.user
    owner = _owner(request)
    terms, days = calendar.calendar_rows(owner)
    # Asked once per owner (the county and at most the school), not once per row.
    editable = {}
    for row in (*terms, *days):
        key = (type(row.owner), row.owner.pk)
        if key not in editable:
            editable[key] = can(user, CALENDAR_EDIT, row.owner)
        row.editable = editable[key]
    context = {
        "owner": owner,
        "is_school": isinstance(owner, School),
        "terms": terms,
        "days": days,
        "can_edit": can(user, CALENDAR_EDIT, owner),
        "forms": [
            (term_form or TermForm(prefix="term"), "calendar-term-create", "添加学期"),
            (day_form or DayForm(prefix="day"), "calendar-day-create", "添加放假或调休上班日"),
        ],
    }
    return render(request, "students/calendar.html", context, status=status)


def _attach(form, exc: AppError) -> None:
    for name, errors in exc.errors.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


@require_GET
def calendar_page(request):
    return _page(request)


@require_POST
def term_create(request):
    owner = _editable_owner(request)
    form = TermForm(request.POST, prefix="term")
    if form.is_valid():
        try:
            term = calendar.term_save(by=request.user, owner=owner, **form.cleaned_data)
        except AppError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"已添加学期“{term.name}”。")
            return redirect("calendar")
    return _page(request, term_form=form, status=400)


@require_POST
def day_create(request):
    owner = _editable_owner(request)
    form = DayForm(request.POST, prefix="day")
    if form.is_valid():
        try:
            calendar.days_set(by=request.user, owner=owner, **form.cleaned_data)
        except AppError as exc:
            _attach(form, exc)
        else:
            messages.success(request, "已保存校历特殊日。")
            return redirect("calendar")
    return _page(request, day_form=form, status=400)


def _deletable(request, model, pk):
    """The row if it is inside the user's area (404 otherwise) and theirs to edit (403)."""
    row = jurisdiction.get_or_404(request.user, model, pk=pk)
    check(request.user, CALENDAR_EDIT)
    check(request.user, CALENDAR_EDIT, row.owner)
    return row


@require_POST
def term_delete(request, pk):
    term = _deletable(request, Term, pk)
    try:
        calendar.term_delete(by=request.user, term=term)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已删除学期“{term.name}”。")
    return redirect("calendar")


@require_POST
def day_delete(request, pk):
    day = _deletable(request, CalendarDay, pk)
    try:
        calendar.day_clear(by=request.user, owner=day.owner, date=day.date)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已删除{day}。")
    return redirect("calendar")
