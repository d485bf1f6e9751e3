from django.db import models

from accounts import jurisdiction
from accounts.models import Region, School, SchoolClass, User, grade_label
from kongchuo.append_only import AppendOnlyModel
from kongchuo.offline import OfflineWrite
from ledger.models import LedgerEntry

from .choices import (
    OPEN_CASE_STATES,
    Action,
    CaseState,
    DocumentType,
    Duty,
    Method,
    Placement,
    ResponsibleRule,
    Step,
)


class ReturnCase(models.Model):
    """One 劝返 case: the work to bring a confirmed dropout back (DOMAIN.md §7), opened by the
    county from a ledger entry. Changed only through returns.services; every change bumps
    ``version`` and is a line on the case's timeline (CaseEvent)."""

    entry = models.ForeignKey(
        LedgerEntry, verbose_name="台账记录", on_delete=models.PROTECT, related_name="cases"
    )
    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.PROTECT, related_name="+"
    )
    # None: the county holds the case (户籍地在县外) until another county takes it over.
    township = models.ForeignKey(
        Region,
        verbose_name="责任乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_cases",
    )
    co_township = models.ForeignKey(
        Region,
        verbose_name="共同劝返乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="co_return_cases",
    )
    # The child's school when the case opened (none for 未入学).
    school = models.ForeignKey(
        School,
        verbose_name="学校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_cases",
    )
    responsible_rule = models.CharField(
        "劝返主体认定依据", max_length=20, choices=ResponsibleRule.choices
    )
    responsible_note = models.CharField("认定说明", max_length=300, blank=True)
    override_reason = models.CharField("改派理由", max_length=300, blank=True)
    state = models.CharField(
        "状态",
        max_length=20,
        choices=CaseState.choices,
        default=CaseState.INSTRUCTED,
        editable=False,
    )
    step = models.PositiveSmallIntegerField(
        "劝返步骤", choices=Step.choices, default=Step.PERSUASION, editable=False
    )
    step_deadline = models.DateField("责令改正期限", null=True, blank=True)
    instructed_by = models.ForeignKey(
        User, verbose_name="下达人", on_delete=models.PROTECT, related_name="+"
    )
    instructed_at = models.DateTimeField("下达时间")
    acknowledged_by = models.ForeignKey(
        User,
        verbose_name="签收人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    last_action_on = models.DateField("最近劝返日期", null=True, blank=True)
    placement = models.CharField("安置方式", max_length=20, choices=Placement.choices, blank=True)
    return_school = models.ForeignKey(
        School,
        verbose_name="复学学校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    return_class = models.ForeignKey(
        SchoolClass,
        verbose_name="复学班级",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    return_grade = models.PositiveSmallIntegerField("复学年级", null=True, blank=True)
    returned_on = models.DateField("复学日期", null=True, blank=True)
    follow_up_until = models.DateField("跟踪截止日期", null=True, blank=True)
    deferral_reason = models.TextField("延缓入学或休学理由", blank=True)
    deferred_on = models.DateField("延缓入学或休学日期", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    # Bumped by every change: offline clients send the version they edited.
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "劝返案件"
        ordering = ["-instructed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=models.Q(state__in=sorted(OPEN_CASE_STATES)),
                name="one_open_return_case_per_entry",
            ),
            models.CheckConstraint(
                condition=models.Q(step__gte=1, step__lte=4), name="return_case_step_1_to_4"
            ),
        ]
        indexes = [
            models.Index(fields=["township", "state"], name="return_case_township_state"),
            models.Index(fields=["county", "state"], name="return_case_county_state"),
        ]

    def __str__(self):
        return f"{self.entry.name}（劝返）"

    def get_absolute_url(self) -> str:
        # The case page (issue 12's pages) answers at this path.
        return f"/returns/{self.pk}/"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CASE_STATES

    @property
    def held_by_county(self) -> bool:
        return self.township_id is None

    @property
    def return_grade_label(self) -> str:
        return grade_label(self.return_grade) if self.return_grade else ""

    @property
    def audit_region_code(self) -> str:
        return (self.township or self.county).code


class CaseMember(models.Model):
    """结对包保: one account on a case's team. Who joined and left is on the timeline."""

    case = models.ForeignKey(
        ReturnCase, verbose_name="劝返案件", on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        User, verbose_name="包保人员", on_delete=models.PROTECT, related_name="case_memberships"
    )
    duty = models.CharField("包保身份", max_length=20, choices=Duty.choices)
    added_by = models.ForeignKey(
        User, verbose_name="添加人", on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField("添加时间", auto_now_add=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "包保人员"
        ordering = ["case_id", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="one_membership_per_case")
        ]

    def __str__(self):
        return f"{self.get_duty_display()} {self.user}"

    @property
    def audit_region_code(self) -> str:
        return self.case.audit_region_code


class CasePlan(AppendOnlyModel):
    """一人一案: one version of the case's plan; a change is a new version, all are kept."""

    case = models.ForeignKey(
        ReturnCase, verbose_name="劝返案件", on_delete=models.PROTECT, related_name="plans"
    )
    version = models.PositiveSmallIntegerField("版本")
    cause = models.TextField("原因分析")
    measures = models.TextField("劝返措施")
    help = models.JSONField("帮扶措施", default=list, blank=True)
    author = models.ForeignKey(
        User, verbose_name="制定人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("制定时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "劝返方案"
        ordering = ["case_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="one_plan_per_version")
        ]

    def __str__(self):
        return f"劝返方案 第{self.version}版"


class CaseAction(AppendOnlyModel):
    """One persuasion action (a home visit, a call, an interview, a joint persuasion): date,
    who took part, how, what came of it, and its photos or documents."""

    case = models.ForeignKey(
        ReturnCase, verbose_name="劝返案件", on_delete=models.PROTECT, related_name="actions"
    )
    date = models.DateField("劝返日期")
    step = models.PositiveSmallIntegerField("所处步骤", choices=Step.choices)
    method = models.CharField("劝返方式", max_length=20, choices=Method.choices)
    departments = models.JSONField("参与部门", default=list, blank=True)
    participants = models.ManyToManyField(
        User, verbose_name="参与人员（账号）", related_name="+", blank=True
    )
    participant_names = models.CharField("其他参与人员", max_length=200, blank=True)
    result = models.TextField("劝返情况及结果")
    recorded_by = models.ForeignKey(
        User, verbose_name="记录人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "劝返记录"
        ordering = ["case_id", "-date", "-id"]
        indexes = [models.Index(fields=["case", "method"], name="case_action_method")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_method_display()}"


class CaseAttachment(AppendOnlyModel):
    """A photo (metadata stripped) or a PDF of an action."""

    action = models.ForeignKey(
        CaseAction, verbose_name="劝返记录", on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField("文件", upload_to="returns/attachments/%Y/%m/")
    content_type = models.CharField("文件类型", max_length=50)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "劝返记录附件"
        ordering = ["action_id", "id"]

    def __str__(self):
        return self.file.name


class CaseEvent(AppendOnlyModel):
    """One line of a case's timeline: who did what and when, with the state and step before
    and after, and the region a notice went to. Never edited."""

    case = models.ForeignKey(
        ReturnCase, verbose_name="劝返案件", on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField("操作", max_length=20, choices=Action.choices)
    state_before = models.CharField(
        "操作前状态", max_length=20, choices=CaseState.choices, blank=True
    )
    state_after = models.CharField("操作后状态", max_length=20, choices=CaseState.choices)
    step_before = models.PositiveSmallIntegerField(
        "操作前步骤", choices=Step.choices, null=True, blank=True
    )
    step_after = models.PositiveSmallIntegerField("操作后步骤", choices=Step.choices)
    # A notice's addressee, an instruction's township.
    region = models.ForeignKey(
        Region,
        verbose_name="告知/指派对象",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField("说明", blank=True)
    # None: the follow-up watch (a rule), not a person.
    actor = models.ForeignKey(
        User,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "劝返过程记录"
        ordering = ["case_id", "at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def audit_region_code(self) -> str:
        return self.case.audit_region_code


class CaseDocument(AppendOnlyModel):
    """A printed document of a case as it was generated: the PDF, its SHA-256 and the version
    of the template it was printed with. A new print is a new row; none is ever replaced."""

    case = models.ForeignKey(
        ReturnCase, verbose_name="劝返案件", on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField("文书类型", max_length=30, choices=DocumentType.choices)
    title = models.CharField("文书名称", max_length=50)
    # The stored name carries the case and the hash, never the child's name.
    file = models.FileField("文件", upload_to="returns/documents/%Y/%m/", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    template_version = models.CharField("模板版本", max_length=20)
    size = models.PositiveIntegerField("大小（字节）")
    generated_by = models.ForeignKey(
        User, verbose_name="生成人", on_delete=models.PROTECT, related_name="+"
    )
    generated_at = models.DateTimeField("生成时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "劝返文书"
        ordering = ["case_id", "-generated_at", "-id"]

    def __str__(self):
        return f"{self.title}（{self.generated_at:%Y-%m-%d %H:%M}）"

    @property
    def audit_region_code(self) -> str:
        return self.case.audit_region_code


# A case is seen by its responsible township(s), the township of the child's school, the
# county (and those above it), the school and the child's class teacher, and its team
# wherever they work (DOMAIN.md §7). All of them work in the county that keeps the case (the
# team is made of that county's accounts).
_CASE = {
    "region": ("township__code", "co_township__code", "school__township__code", "county__code"),
    "school": ("school_id",),
    "klass": ("entry__student__klass_id",),
    "members": ("members__user",),
}
_COUNTY = "county"


def _below(path: str) -> dict:
    return {key: tuple(f"{path}__{each}" for each in paths) for key, paths in _CASE.items()}


jurisdiction.register(ReturnCase, **_CASE, county=_COUNTY)
for _model in (CaseMember, CasePlan, CaseAction, CaseEvent, CaseDocument):
    jurisdiction.register(_model, **_below("case"), county=f"case__{_COUNTY}")
jurisdiction.register(CaseAttachment, **_below("action__case"), county=f"action__case__{_COUNTY}")


class OfflineVisit(OfflineWrite):
    """A home visit recorded offline on a phone and sent later, by its client-generated UUID:
    a replay of the same UUID answers the kept result (kongchuo.offline.once)."""

    action = models.ForeignKey(
        CaseAction, verbose_name="劝返记录", on_delete=models.CASCADE, related_name="offline_writes"
    )

    class Meta:
        verbose_name = verbose_name_plural = "离线劝返记录"
