from django.db import models

from accounts import jurisdiction
from accounts.models import Region, School, User, grade_label
from kongchuo.append_only import AppendOnlyModel
from kongchuo.json_lookups import HasValue
from kongchuo.masking import mask_id_number, mask_phone
from kongchuo.sealed import LookupHashField, MaskedCopyField, SealedField
from students.choices import Gender, KeyGroup
from students.models import Student

from .choices import (
    OPEN_STATES,
    Action,
    ClosureReason,
    EntryKind,
    Reason,
    RecordCheck,
    Source,
    State,
    Whereabouts,
)


class LedgerEntry(models.Model):
    """One out-of-school child, one episode (DOMAIN.md §5). The state changes only through
    the services, and every change is a line on the entry's timeline (EntryEvent)."""

    student = models.ForeignKey(
        Student,
        verbose_name="学生",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    previous = models.ForeignKey(
        "self",
        verbose_name="上一次销号记录（反弹）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rebounds",
    )
    kind = models.CharField("类别", max_length=20, choices=EntryKind.choices)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    state = models.CharField(
        "状态", max_length=20, choices=State.choices, default=State.PENDING, editable=False
    )
    # Where a rejected closure proposal sends the entry back to.
    proposed_from = models.CharField(
        "申请销号前状态", max_length=20, choices=State.choices, blank=True, editable=False
    )
    # The child as they were when put on the ledger (a 未入学 child may have no student).
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    # Sealed like Student.id_number (issue 15 §3), looked up and joined through ``id_hash``.
    id_number = SealedField("身份证号", max_length=18, blank=True)
    id_hash = LookupHashField("身份证号查找码", source="id_number")
    id_masked = MaskedCopyField("身份证号（脱敏）", source="id_number")
    school = models.ForeignKey(
        School,
        verbose_name="学校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    grade = models.PositiveSmallIntegerField("年级", null=True, blank=True)
    hukou_region = models.ForeignKey(
        Region,
        verbose_name="户籍地",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    township = models.ForeignKey(
        Region, verbose_name="责任乡镇", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    record_check = models.CharField(
        "学籍核查结果", max_length=20, choices=RecordCheck.choices, blank=True
    )
    person_status = models.CharField("人员现状说明", max_length=500, blank=True)
    family_situation = SealedField("家庭情况", max_length=500, blank=True)
    parent_contact = SealedField("父母联系方式", max_length=100, blank=True)
    department_opinion = models.CharField("相关部门意见", max_length=500, blank=True)
    reason = models.CharField("主要辍学原因", max_length=20, choices=Reason.choices)
    other_reasons = models.JSONField("其他原因", default=list, blank=True)
    whereabouts = models.CharField("人员现状", max_length=20, choices=Whereabouts.choices)
    key_groups = models.JSONField("重点群体", default=list, blank=True)
    measures = models.TextField("控辍保学措施", blank=True)
    found_on = models.DateField("发现日期")
    # The day of the last 学期分类复核 (the day of creation until the first): see ledger.terms.
    reviewed_on = models.DateField("最近分类复核日期", editable=False)
    closure_reason = models.CharField(
        "销号原因", max_length=20, choices=ClosureReason.choices, blank=True
    )
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    # None: opened by a rule (the attendance rule), not by a person.
    created_by = models.ForeignKey(
        User,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when a correction undoes what opened the entry (an attendance correction removed
    # the absences); cleared by the next verification step.
    review_flag = models.CharField("待核实提示", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "台账记录"
        ordering = ["-found_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(state__in=sorted(OPEN_STATES)),
                name="one_open_ledger_entry_per_student",
            ),
        ]
        indexes = [
            models.Index(fields=["township", "state"], name="ledger_township_state"),
            # With the GIN index on other_reasons (PostgreSQL, migration 0007) the reason
            # filter (main reason or another reason) is a bitmap OR of two index scans.
            models.Index(fields=["reason"], name="ledger_reason"),
            models.Index(fields=["id_hash"], name="ledger_id_hash"),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def masked_id_number(self) -> str:
        return self.id_masked or mask_id_number(self.id_number)

    @property
    def masked_parent_contact(self) -> str:
        return mask_phone(self.parent_contact)

    @property
    def grade_label(self) -> str:
        return grade_label(self.grade) if self.grade else ""

    @property
    def key_group_labels(self) -> list[str]:
        return [KeyGroup(group).label for group in self.key_groups]

    @property
    def other_reason_labels(self) -> list[str]:
        return [Reason(reason).label for reason in self.other_reasons]

    @property
    def audit_region_code(self) -> str:
        return self.township.code


# Both hold JSON lists of choice values: ``key_groups__has_value="left_behind"``.
for _field in ("key_groups", "other_reasons"):
    LedgerEntry._meta.get_field(_field).register_lookup(HasValue)


class EntryEvent(AppendOnlyModel):
    """One line of an entry's timeline: who did what, when, from which state to which, and
    with what note or evidence. Never edited."""

    entry = models.ForeignKey(
        LedgerEntry, verbose_name="台账记录", on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField("操作", max_length=20, choices=Action.choices)
    state_before = models.CharField("操作前状态", max_length=20, choices=State.choices, blank=True)
    state_after = models.CharField("操作后状态", max_length=20, choices=State.choices)
    note = models.TextField("说明", blank=True)
    evidence = models.FileField("证明材料", upload_to="ledger/evidence/%Y/%m/", blank=True)
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
        verbose_name = verbose_name_plural = "台账操作记录"
        ordering = ["entry_id", "at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def audit_region_code(self) -> str:
        return self.entry.township.code


class ConsistencyRun(models.Model):
    """One 人账相符 check of a county, kept so the county sees what the nightly run, or a
    check one of its staff asked for, found."""

    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.PROTECT, related_name="+"
    )
    ran_at = models.DateTimeField("检查时间", auto_now_add=True)
    # Empty: the nightly run (or the management command), not a person.
    ran_by = models.ForeignKey(
        User,
        verbose_name="核查人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    problem_count = models.PositiveIntegerField("问题数")
    problems = models.JSONField("问题清单", default=list)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "人账相符检查"
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"{self.county.name} {self.ran_at:%Y-%m-%d}"


_ENTRY = {
    "region": ("township__code", "school__township__code"),
    "school": ("school_id",),
    "klass": ("student__klass_id",),
}

# An entry is seen by the responsible township, the school's township and the county above
# both (a migrant child's old and new places alike), and by the school itself.
jurisdiction.register(LedgerEntry, **_ENTRY)
jurisdiction.register(
    EntryEvent, **{key: tuple(f"entry__{path}" for path in paths) for key, paths in _ENTRY.items()}
)
# County-wide lists: the county (and the city and province above it) see them.
jurisdiction.register(ConsistencyRun, region=("county__code",))
