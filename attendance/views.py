"""Attendance pages (DOMAIN.md §4). Thin: parse, call an attendance service, render.

The overview answers "who has not taken the roll today, and who is away" for the user's
area; the roll page is the class teacher's daily form, built for a phone (one tap a
student); the rules page is the county's setting. Every class comes through jurisdiction,
so a class outside the area is 404.
"""

import datetime
from collections import Counter
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import BoundField
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import home, jurisdiction
from accounts.choices import Capability, RegionLevel, Role
from accounts.models import Region, School, SchoolClass
from accounts.permissions import can
from accounts.views import ServiceFormView, check
from kongchuo.errors import AppError
from students import calendar
from students.models import Student

from . import selectors, services
from .choices import ABSENT, Mark
from .forms import AttendanceDayForm, AttendanceRulesForm, MeasureForm, RollForm, WatchFilterForm
from .models import AttendanceRules, RollCall, WatchRun
from .panels import day_cells, mark_label
from .permissions import RECOMPUTE_WATCH, RECORD_MEASURE, SET_RULES

# How far ahead the roll page looks for the next school day to link to.
_LOOKAHEAD = datetime.timedelta(days=21)


def _day_from_url(value: str) -> datetime.date:
    """The roll's day from the URL (YYYY-MM-DD exactly); anything else is 404."""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404("日期无效。") from None
    if day.isoformat() != value:
        raise Http404("日期无效。")
    return day


def _cutoff_text(rules) -> str:
    when = "考勤当天" if rules.cutoff_days == 0 else f"考勤日后第{rules.cutoff_days}天"
    return f"{when}{rules.cutoff_time:%H:%M}"


# -- overview ---------------------------------------------------------------------------------


@dataclass
class ClassStatus:
    klass: SchoolClass
    roll: RollCall | None


def _school_view(schools: list[School], day: datetime.date) -> dict:
    """One school's day, or a 中心校's with its attached schools (the first one leads)."""
    rules = selectors.rules_for_school(schools[0])
    return {
        **vars(selectors.schools_day(schools, day)),
        "cutoff_text": _cutoff_text(rules),
        "threshold": rules.threshold,
    }


@require_GET
def overview(request):
    user = request.user
    today = timezone.localdate()
    form = AttendanceDayForm(request.GET or None, user=user)
    day, school, county = today, None, None
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["date"] or today
        school, county = form.cleaned_data["school"], form.cleaned_data["county"]
    schools = School.objects.for_user(user).order_by("township__code", "code")
    # A city or province is seen county by county first (aggregates first, DOMAIN.md §2).
    counties = list(
        Region.objects.filter(level=RegionLevel.COUNTY, children__schools__in=schools)
        .distinct()
        .order_by("code")
    )
    if county is not None:
        schools = schools.filter(township__parent=county)
    by_county = len(counties) > 1 and county is None
    context = {
        "form": form,
        "day": day,
        "today": today,
        "counties": counties if len(counties) > 1 else [],
        "county": county,
    }
    # An account that sees only its own classes (a class teacher) gets their day.
    if jurisdiction.area_of(user).kind == jurisdiction.CLASS:
        classes, context["school_day"] = selectors.classes_day(
            SchoolClass.objects.for_user(user), day
        )
        context["my_classes"] = [ClassStatus(klass, roll) for klass, roll in classes]
        return render(request, "attendance/overview.html", context)
    several = not by_county and schools.count() > 1
    context["several_schools"] = several
    # A school account sees its school and, for a 中心校, its attached 村小 and 教学点
    # together (DOMAIN.md §2), its own first; choosing one of them narrows the page to it.
    own = (
        sorted(schools.select_related("township"), key=lambda each: each.pk != user.school_id)
        if school is None and user.school_id
        else []
    )
    if school is not None:
        context.update(_school_view([school], day))
    elif own:
        context.update(_school_view(own, day))
    elif not by_county and not several and schools.exists():
        context.update(_school_view([schools.first()], day))
    elif schools.exists():
        context.update(vars(selectors.area_day(schools, day, by_county=by_county)))
    return render(request, "attendance/overview.html", context)


# -- the roll ---------------------------------------------------------------------------------


@dataclass
class RollRow:
    row: selectors.SheetRow
    mark_field: BoundField
    note_field: BoundField
    strip: list[tuple[datetime.date, str, str, str]]  # (day, symbol, label, mark)
    warn: bool

    @property
    def student(self):
        return self.row.student

    @property
    def errors(self) -> list[str]:
        return [*self.mark_field.errors, *self.note_field.errors]

    @property
    def mark_label(self) -> str:
        return mark_label(self.row.mark)


def _rows(sheet: selectors.Sheet, form: RollForm) -> list[RollRow]:
    return [
        RollRow(
            row=row,
            mark_field=form[f"mark_{row.student.pk}"],
            note_field=form[f"note_{row.student.pk}"],
            strip=day_cells(row.recent),
            warn=row.warn,
        )
        for row in sheet.rows
    ]


def _roll_page(request, sheet: selectors.Sheet, form: RollForm, *, status=200):
    """The roll; after a refused submission the user's marks stay on the form (with the
    reason) so that nothing they entered is lost."""
    cal = calendar.calendar_for(sheet.klass.school_id)
    day, today = sheet.day, timezone.localdate()
    earlier = cal.previous_school_days(day, 1)
    later = cal.school_days(day + datetime.timedelta(days=1), day + _LOOKAHEAD)
    problem = services.refusal(request.user, sheet.klass, day, sheet.rules)
    reason = problem.message if problem else ""
    context = {
        "sheet": sheet,
        "klass": sheet.klass,
        "day": day,
        "roll": sheet.roll,
        "rows": _rows(sheet, form),
        "form": form,
        "marks": Mark.choices,
        "reason": reason,
        "editable": not reason or form.is_bound,
        "cutoff": selectors.cutoff(sheet.rules, day),
        "school_day": cal.is_school_day(day),
        "previous_day": earlier[-1] if earlier else None,
        "next_day": later[0] if later and later[0] <= today else None,
        "today": today,
        "threshold": sheet.rules.threshold,
        "cutoff_text": _cutoff_text(sheet.rules),
        # Kept on the phone for offline use: a class teacher's own class, today only.
        "offline_roll": day == today
        and jurisdiction.area_of(request.user).kind == jurisdiction.CLASS,
    }
    return render(request, "attendance/roll.html", context, status=status)


def _attach(form: RollForm, exc: AppError) -> None:
    for key, errors in exc.errors.items():
        for error in errors:
            form.add_error(form.field_for(key), error)


def _submitted_message(request, result: services.Submission, marks, threshold: int) -> None:
    """What the submission did: the counts, and for each child it put on the ledger, the run
    of unexcused days and who was told."""
    counts = Counter(mark.status for mark in marks)
    away = sum(counts[m] for m in ABSENT)
    present = len(marks) - away
    late = f"（含迟到{counts[Mark.LATE]}人）" if counts[Mark.LATE] else ""
    verb = "已提交考勤" if result.created or not result.changes else "已修改考勤"
    messages.success(request, f"{verb}：出勤{present}人{late}，缺勤/请假{away}人。")
    if result.flagged:
        runs = selectors.opening_runs(result.flagged)
        told = selectors.notified_roles(result.flagged)
        for entry in result.flagged:
            run = runs.get(entry.pk)
            messages.warning(
                request,
                format_html(
                    '<a href="{}">{}</a>已连续旷课{}天，已登记为疑似辍学{}。请尽快核实并开展劝返。',
                    reverse("ledger-detail", args=[entry.pk]),
                    entry.name,
                    run.length if run else threshold,
                    _told(told[entry.pk]),
                ),
            )


# Whom the 疑似辍学 notification reaches (attendance.rule), named as the teacher knows them.
_TOLD = {Role.PRINCIPAL: "校长", Role.TOWNSHIP_OFFICIAL: "乡镇干部"}


def _told(roles: set[str]) -> str:
    """Who the rule's notification reached, as the message says it (并通知校长和乡镇干部)."""
    names = [name for role, name in _TOLD.items() if role in roles]
    names += sorted(Role(role).label for role in roles if role not in _TOLD)
    if not names:
        return "，但学校和乡镇暂无接收通知的账号，请直接告知校长"
    return "并通知" + ("、".join(names[:-1]) + "和" + names[-1] if len(names) > 1 else names[0])


def _class_or_404(request, pk) -> SchoolClass:
    return jurisdiction.get_or_404(
        request.user,
        SchoolClass.objects.select_related("school__township__parent", "head_teacher"),
        pk=pk,
    )


@require_GET
def roll_today(request, pk):
    _class_or_404(request, pk)
    return redirect("attendance-roll", pk=pk, day=timezone.localdate().isoformat())


@require_http_methods(["GET", "POST"])
def roll(request, pk, day):
    klass = _class_or_404(request, pk)
    day = _day_from_url(day)
    if request.method == "POST":
        check(request.user, Capability.TAKE_ATTENDANCE)
    sheet = selectors.sheet(klass, day)
    if request.method == "GET":
        return _roll_page(request, sheet, RollForm(rows=sheet.rows))
    form = RollForm(request.POST, rows=sheet.rows)
    if form.is_valid():
        marks = form.marks()
        try:
            result = services.submit(by=request.user, klass=klass, day=day, marks=marks)
        except AppError as exc:
            _attach(form, exc)
        else:
            _submitted_message(request, result, marks, sheet.rules.threshold)
            return redirect("attendance-roll", pk=klass.pk, day=day.isoformat())
    return _roll_page(request, sheet, form, status=400)


# -- the county's rules -----------------------------------------------------------------------


class RulesView(ServiceFormView):
    requires = SET_RULES
    form_class = AttendanceRulesForm
    template_name = "attendance/rules.html"
    title = "考勤规则"
    success_message = "考勤规则已保存。"

    def dispatch(self, request, *args, **kwargs):
        check(request.user, self.requires)
        self.county = request.user.region
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        rules = selectors.rules_for(self.county)
        return {name: getattr(rules, name) for name in AttendanceRules.FORM_FIELDS}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "county": self.county}

    def perform(self, data):
        return services.rules_save(by=self.request.user, county=self.county, **data)

    def get_success_url(self, saved):
        return reverse("attendance-rules")


# -- the watch list ---------------------------------------------------------------------------

WATCH_PAGE_SIZE = 30


def _watch_counts(user, periods) -> tuple[list[tuple[object, int]], str]:
    """For an area of several schools, the watched children per school (per county above the
    county), most first; empty for a school or a class teacher."""
    if jurisdiction.area_of(user).kind not in (jurisdiction.REGION, jurisdiction.ALL):
        return [], ""
    above = home.above_county(user)
    path = "student__school__township__parent" if above else "student__school"
    counts = selectors.watch_counts(periods, path)
    places = (Region if above else School).objects.in_bulk(list(counts))
    rows = sorted(((places[pk], n) for pk, n in counts.items()), key=lambda r: (-r[1], r[0].name))
    return rows, "县" if above else "学校"


@require_GET
def watch_list(request):
    """重点监测名单: the watched children of the user's area, most at risk first, each as a
    card with its reasons, since when, and the last measure; above a school, the counts per
    school (per county above the county) first."""
    user = request.user
    form = WatchFilterForm(request.GET or None, user=user)
    periods = selectors.watch_open(user)
    counts, counted_by = _watch_counts(user, periods)
    reason = school = None
    if form.is_bound and form.is_valid():
        reason, school = form.cleaned_data["reason"], form.cleaned_data["school"]
    if school is not None:
        periods = periods.filter(student__school=school)
    if reason:
        periods = periods.filter(student__in=periods.filter(reason=reason).values("student_id"))
    page = Paginator(selectors.watch_ranked(periods), WATCH_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cards = selectors.watch_cards([row["student_id"] for row in page])
    county = request.user.region if can(user, RECOMPUTE_WATCH) else None
    return render(
        request,
        "attendance/watch_list.html",
        {
            "form": form,
            "page_obj": page,
            "cards": [(card, MeasureForm(auto_id=f"m{card.student.pk}_%s")) for card in cards],
            "counts": counts,
            "counted_by": counted_by,
            "county": county,
            "last_run": WatchRun.objects.filter(county=county).order_by("-ran_at").first()
            if county
            else None,
            "due_days": selectors.MEASURE_DUE_DAYS,
        },
    )


@require_POST
def watch_recompute(request):
    check(request.user, RECOMPUTE_WATCH)
    try:
        outcome = services.watch_recompute(by=request.user, county=request.user.region)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"重点监测名单已更新：新列入{outcome.started}项原因，移出{outcome.ended}项。"
            "各校可在名单中查看并登记帮扶措施。",
        )
    return redirect("attendance-watch")


class WatchChildView(ServiceFormView):
    """One child's watch history (every period, ended ones too, and every measure) with the
    form to record a measure; from a card, the form comes back to the list."""

    target_model = Student.objects.select_related("school", "klass")
    form_class = MeasureForm
    template_name = "attendance/watch_child.html"

    def post(self, request, *args, **kwargs):
        check(request.user, RECORD_MEASURE)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        periods, measures = selectors.watch_history(self.target)
        return {
            **super().get_context_data(**kwargs),
            "student": self.target,
            "current": [period for period in periods if period.ended_on is None],
            "ended": [period for period in periods if period.ended_on is not None],
            "measures": measures,
        }

    def perform(self, data):
        return services.measure_record(by=self.request.user, student=self.target, **data)

    @property
    def success_message(self):
        return (
            f"已为{self.target.name}登记帮扶措施。下一步：按计划继续跟进，"
            "名单每晚按考勤重新计算，原因都不再成立时孩子自动移出名单。"
        )

    def get_success_url(self, saved):
        if self.request.POST.get("back") == "list":
            return reverse("attendance-watch")
        return reverse("attendance-watch-child", args=[self.target.pk])
