"""劝返 case pages (issue 12): opening a case from a confirmed dropout, the case page that
everyone with access reads, one form per case action, the attachments. Thin: each form's
input goes to the one service of its action (returns.services) and its AppError comes back
onto the field it names; every record through the jurisdiction filter (404 outside the
area); the buttons are what returns.permissions allows."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.generic import DetailView

from accounts import jurisdiction, views_log
from accounts.permissions import can, refusal
from accounts.views import ServiceFormView
from ledger.models import LedgerEntry

from . import documents, selectors, services
from .choices import OPEN_CASE_STATES, Action, CaseState, Department, Help, Method, Step
from .forms import (
    AcknowledgeForm,
    ActionForm,
    CloseForm,
    DeferForm,
    NoticeForm,
    OpenForm,
    PlanForm,
    ReassignForm,
    ReturnForm,
    StepForm,
    TeamForm,
)
from .models import CaseAttachment, CaseMember, ReturnCase
from .permissions import DOCUMENT, key, possible_actions, who_refusal
from .transitions import TRANSITIONS

logger = logging.getLogger(__name__)

# The case actions that have a page of their own (returns-<action>).
PAGE_ACTIONS = [action for action in TRANSITIONS if action != Action.OPEN]
# The case page's buttons, the everyday work first (the first is the primary one).
BUTTON_ORDER = [
    Action.ACKNOWLEDGE,
    Action.ACTION,
    Action.STEP,
    Action.RETURN,
    Action.PLAN,
    Action.TEAM,
    Action.NOTICE,
    Action.DEFER,
    Action.CLOSE,
    Action.REASSIGN,
]


def _cases(user):
    return ReturnCase.objects.for_user(user).select_related(
        "entry__student__klass",
        "entry__school",
        "entry__hukou_region",
        "county",
        "township",
        "co_township",
        "school",
        "instructed_by",
        "acknowledged_by",
        "return_school",
        "return_class",
    )


# -- opening a case ----------------------------------------------------------------------------


class OpenView(ServiceFormView):
    """下达劝返指令 from a ledger entry: the proposed 劝返主体 and the rule that named it,
    confirmed or changed with a reason."""

    requires = key(Action.OPEN)
    target_model = LedgerEntry
    form_class = OpenForm
    template_name = "returns/open.html"
    title = "下达劝返指令：{target.name}"

    def proposals(self):
        if not hasattr(self, "_proposals"):
            entry = self.target
            self._proposals = (
                services.propose_responsible(entry),
                services.propose_responsible(entry, moved_after_dropout=True),
            )
        return self._proposals

    def get_form_kwargs(self):
        proposal, moved = self.proposals()
        return {**super().get_form_kwargs(), "moved_applies": moved != proposal}

    def get_context_data(self, **kwargs):
        proposal, moved = self.proposals()
        entry = self.target
        return {
            **super().get_context_data(**kwargs),
            "entry": entry,
            "proposal": proposal,
            "moved": moved if moved != proposal else None,
            "open_case": entry.cases.for_user(self.request.user)
            .filter(state__in=OPEN_CASE_STATES)
            .first(),
            "ack_days": settings.RETURNS_ACK_DAYS,
        }

    def perform(self, data):
        case = services.case_open(
            by=self.request.user,
            entry=self.target,
            township=data["township"],
            reason=data["reason"],
            moved_after_dropout=data.get("moved_after_dropout", False),
            note=data["note"],
        )
        if case.township is None:
            self.success_message = (
                f"已建立劝返案件（{case.get_responsible_rule_display()}）：本案件由县教体局暂管，"
                "书面告知已记入处理过程。下一步：组建包保小组、制定劝返方案并开展劝返。"
            )
        else:
            together = f"，{case.co_township.name}共同劝返" if case.co_township else ""
            self.success_message = (
                f"已向{case.township.name}下达劝返指令（{case.get_responsible_rule_display()}"
                f"{together}），台账记录转为“劝返中”。{case.township.name}须在"
                f"{settings.RETURNS_ACK_DAYS}日内签收，签收后组建包保小组并制定劝返方案。"
            )
        return case

    def get_success_url(self, saved):
        return reverse("returns-detail", args=[saved.pk])


# -- the case page -----------------------------------------------------------------------------


def _steps(case: ReturnCase) -> list[tuple[Step, str]]:
    """The 四步法 as a progress line: each step done, current or ahead."""
    return [
        (step, "done" if step < case.step else "current" if step == case.step else "ahead")
        for step in Step
    ]


def _quiet_days(case: ReturnCase, today) -> int:
    """Days since the case's last action (or, before any, its signature or instruction)."""
    since = (
        case.last_action_on or timezone.localtime(case.acknowledged_at or case.instructed_at).date()
    )
    return (today - since).days


class CaseDetailView(DetailView):
    template_name = "returns/case_detail.html"
    context_object_name = "case"

    def get_queryset(self):
        cases = _cases(self.request.user).prefetch_related(
            Prefetch("members", queryset=CaseMember.objects.select_related("user"))
        )
        return selectors.with_urgency(cases, timezone.localdate())

    def get_object(self, queryset=None):
        case = super().get_object(queryset)
        views_log.page_view(self.request, case)
        return case

    def get_context_data(self, **kwargs):
        case, user = self.object, self.request.user
        today = timezone.localdate()
        plans = list(case.plans.select_related("author"))
        for plan in plans:
            plan.help_labels = [Help(value).label for value in plan.help]
        actions = list(
            case.actions.select_related("recorded_by").prefetch_related(
                "participants", "attachments"
            )
        )
        for action in actions:
            action.department_labels = [Department(value).label for value in action.departments]
        return {
            **super().get_context_data(**kwargs),
            "entry": case.entry,
            "steps": _steps(case),
            "quiet_days": _quiet_days(case, today),
            "idle_days": settings.RETURNS_IDLE_DAYS,
            "members": case.members.all(),
            "plan": plans[0] if plans else None,
            "older_plans": plans[1:],
            "actions": actions,
            "joint_count": selectors.joint_count(case),
            "timeline": selectors.timeline(case),
            "possible": sorted(possible_actions(user, case), key=BUTTON_ORDER.index),
            "documents": documents.stored(case),
            "printable": documents.available(case) if can(user, DOCUMENT, case) else [],
            "entry_visible": LedgerEntry.objects.for_user(user).filter(pk=case.entry_id).exists(),
            "rule_actor": services.RULE_ACTOR,
            "active": case.state in (CaseState.WORKING, CaseState.DEFERRED),
        }


# -- the case actions --------------------------------------------------------------------------

FORMS = {
    Action.ACKNOWLEDGE: AcknowledgeForm,
    Action.REASSIGN: ReassignForm,
    Action.NOTICE: NoticeForm,
    Action.TEAM: TeamForm,
    Action.PLAN: PlanForm,
    Action.ACTION: ActionForm,
    Action.STEP: StepForm,
    Action.RETURN: ReturnForm,
    Action.DEFER: DeferForm,
    Action.CLOSE: CloseForm,
}
SUBMIT = {
    Action.ACKNOWLEDGE: "签收",
    Action.ACTION: "保存劝返记录",
    Action.STEP: "推进",
    Action.RETURN: "登记复学",
    Action.CLOSE: "结案",
}


def _run(action: Action, by, case: ReturnCase, form) -> tuple[object, str]:
    """Hand a valid form to its service; what to tell the user, with what comes next."""
    data, common = form.cleaned_data, {"by": by, "case": case}
    if action == Action.ACKNOWLEDGE:
        services.case_acknowledge(**common, note=data["note"])
        return (
            case,
            "已签收劝返指令，案件进入“宣传教育”。下一步：组建包保小组、制定劝返方案并上门劝返。",
        )
    if action == Action.REASSIGN:
        case = services.case_reassign(**common, township=data["township"], reason=data["reason"])
        return case, (
            f"已改派给{case.township.name}，并通知其在{settings.RETURNS_ACK_DAYS}日内签收。"
        )
    if action == Action.NOTICE:
        event = services.case_notice(**common, region=data["region"], text=data["text"])
        return event, f"已记录对{event.region.name}的书面告知，并通知对方。"
    if action == Action.TEAM:
        team = services.team_set(
            **common, members=[(user, services.duty_for(user)) for user in form.people()]
        )
        return team, f"包保小组现有{len(team)}人，新加入的人员已收到通知。"
    if action == Action.PLAN:
        plan = services.plan_save(
            **common, cause=data["cause"], measures=data["measures"], help=data["help"]
        )
        return plan, f"已保存劝返方案第{plan.version}版，此前的版本仍可查看。"
    if action == Action.ACTION:
        record = services.action_record(
            **common,
            date=data["date"],
            method=data["method"],
            result=data["result"],
            participants=data.get("participants") or (),
            participant_names=data["participant_names"],
            departments=data["departments"],
            attachments=data["attachments"],
        )
        files = f"，附件{len(data['attachments'])}个" if data["attachments"] else ""
        return record, (
            f"已记录{record.date:%m月%d日}的{Method(record.method).label}劝返{files}。"
            "下一步：按方案继续劝返，孩子返校后登记复学。"
        )
    if action == Action.STEP:
        case = services.step_advance(
            **common, step=data["step"], reason=data["reason"], deadline=data["step_deadline"]
        )
        said = f"已推进到“{case.get_step_display()}”。"
        if case.step == Step.ORDER:
            said += f"限期改正至{case.step_deadline:%Y-%m-%d}，可生成责令限期改正通知书送达监护人。"
        return case, said
    if action == Action.RETURN:
        case = services.case_return(
            **common,
            placement=data["placement"],
            school=data["school"],
            klass=data["klass"],
            grade=data["grade"],
            returned_on=data["returned_on"],
            note=data["note"],
            student=data.get("student"),
        )
        return case, (
            f"已登记复学（{case.get_placement_display()}，{case.return_school.name}"
            f"{case.return_grade_label}），台账记录转为“已复学（跟踪）”。"
            f"跟踪至{case.follow_up_until:%Y-%m-%d}，期间旷课会立即提醒包保小组。"
        )
    if action == Action.DEFER:
        services.case_defer(**common, reason=data["reason"], court_ruling=data["court_ruling"])
        return case, "已办理延缓入学或休学。案件继续开放，请继续劝返。"
    services.case_close(**common, note=data["note"])
    return case, "已结案。下一步：在台账记录中申请销号。"


class CaseActionView(ServiceFormView):
    """One form per case action. A role that never takes it, or someone who reads the case
    but does not work it, gets 403 with the reason; a case no longer in a state the action
    starts from goes back to its page with the reason."""

    action: Action = Action.ACKNOWLEDGE
    template_name = "returns/case_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.case = jurisdiction.get_or_404(request.user, _cases(request.user), pk=kwargs["pk"])
        who = who_refusal(request.user, self.case, self.action)
        if who:
            raise PermissionDenied(who)
        problem = refusal(request.user, key(self.action), self.case)
        if problem:
            messages.error(request, problem)
            return redirect("returns-detail", pk=self.case.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        if self.action == Action.ACTION:
            return ["returns/case_action.html"]
        return [self.template_name]

    def get_form_class(self):
        return FORMS[self.action]

    def suggestion(self):
        return services.suggested_grade(self.case.entry, timezone.localdate())

    def get_form_kwargs(self):
        extra = {"case": self.case}
        if self.action == Action.RETURN:
            extra["suggested_grade"] = self.suggestion().grade
        return {**super().get_form_kwargs(), **extra}

    def get_context_data(self, **kwargs):
        case = self.case
        context = {
            **super().get_context_data(**kwargs),
            "title": f"{self.action.label}：{case.entry.name}",
            "case": case,
            "action": self.action.value,
            "submit": SUBMIT.get(self.action, "保存"),
        }
        if self.action == Action.RETURN:
            context["suggestion"] = self.suggestion()
        if self.action == Action.DEFER:
            context["grounds"] = services.deferral_grounds(case)
            context["joint_count"] = selectors.joint_count(case)
            context["joint_needed"] = settings.RETURNS_DEFER_JOINT_ACTIONS
        return context

    def perform(self, data):
        saved, self.success_message = _run(self.action, self.request.user, self.case, self.form)
        return saved

    def get_success_url(self, saved):
        return reverse("returns-detail", args=[self.case.pk])


@require_GET
def attachment(request, pk):
    """A photo or PDF of an action, to those who see the case."""
    item = jurisdiction.get_or_404(
        request.user, CaseAttachment.objects.select_related("action"), pk=pk
    )
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        logger.error("劝返记录附件文件缺失：附件 %s（%s）", item.pk, item.file.name)
        messages.error(request, "附件文件已丢失，请联系系统管理员。")
        return redirect("returns-detail", pk=item.action.case_id)
    extension = item.file.name.rsplit(".", 1)[-1]
    return FileResponse(
        handle, content_type=item.content_type, filename=f"劝返记录附件{item.pk}.{extension}"
    )
