from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from kongchuo import partitions
from kongchuo.append_only import AppendOnlyModel

from . import jurisdiction
from .choices import (
    CODE_LENGTH,
    PREFIX_LENGTH,
    ROLE_REGION_LEVEL,
    SCHOOL_ROLES,
    AuditAction,
    JobKind,
    JobStatus,
    NotificationKind,
    RegionLevel,
    Role,
    SchoolKind,
)


class Region(models.Model):
    """An administrative division: 省 → 市 → 县 → 乡镇 → 村, keyed by its official code."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("级别", choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def prefix(self) -> str:
        """The leading digits shared by this region's code and every descendant's."""
        return self.code[: PREFIX_LENGTH[self.level]]

    @property
    def audit_region_code(self) -> str:
        return self.code

    def clean(self):
        length = CODE_LENGTH.get(self.level)
        if not self.code.isdigit() or len(self.code) != length:
            raise ValidationError(
                {"code": f"{self.get_level_display()}级区划代码应为{length}位数字。"}
            )
        if self.level == RegionLevel.PROVINCE:
            if self.parent_id:
                raise ValidationError({"parent": "省级区划没有上级区划。"})
            if not self.code.endswith("0000"):
                raise ValidationError({"code": "省级区划代码的后4位应为0000。"})
            return
        if self.parent is None or self.parent.level != self.level - 1:
            raise ValidationError(
                {
                    "parent": f"{self.get_level_display()}级区划的上级应为{RegionLevel(self.level - 1).label}级区划。"
                }
            )
        if not self.code.startswith(self.parent.prefix):
            raise ValidationError(
                {
                    "code": f"区划代码应以上级区划“{self.parent.name}”的代码{self.parent.prefix}开头。"
                }
            )
        if self.level == RegionLevel.CITY and (
            self.code.endswith("0000") or not self.code.endswith("00")
        ):
            raise ValidationError({"code": "市级区划代码的后2位应为00，第3–4位不能为00。"})
        if self.level == RegionLevel.COUNTY and self.code.endswith("00"):
            raise ValidationError({"code": "县级区划代码的后2位不能为00。"})
        if self.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE) and self.code.endswith("000"):
            raise ValidationError({"code": "乡镇、村级区划代码的后3位不能为000。"})


class School(models.Model):
    code = models.CharField("学校标识码", max_length=10, unique=True)
    name = models.CharField("学校名称", max_length=100)
    kind = models.CharField("办学类型", max_length=20, choices=SchoolKind.choices)
    township = models.ForeignKey(
        Region,
        verbose_name="所在乡镇",
        on_delete=models.PROTECT,
        related_name="schools",
        limit_choices_to={"level": RegionLevel.TOWNSHIP},
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="所属中心校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "学校"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def audit_region_code(self) -> str:
        return self.township.code

    def clean(self):
        if not (self.code.isdigit() and len(self.code) == 10):
            raise ValidationError({"code": "学校标识码应为10位数字。"})
        if self.township_id and self.township.level != RegionLevel.TOWNSHIP:
            raise ValidationError({"township": "所在地应选择乡镇级区划。"})
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": "学校不能以自身为中心校。"})
            if self.parent.parent_id:
                raise ValidationError(
                    {"parent": "所选中心校本身隶属于其他中心校，不能再作为中心校。"}
                )
            if self.township_id and self.parent.township.parent_id != self.township.parent_id:
                raise ValidationError({"parent": "中心校应与本校在同一个县。"})


class SchoolClass(models.Model):
    school = models.ForeignKey(
        School, verbose_name="学校", on_delete=models.PROTECT, related_name="classes"
    )
    school_year = models.PositiveSmallIntegerField(
        "学年", help_text="学年开始的年份，如 2026 表示 2026–2027 学年"
    )
    grade = models.PositiveSmallIntegerField(
        "年级", help_text="1–6 为小学一至六年级，7–9 为初一至初三"
    )
    name = models.CharField("班级名称", max_length=30)
    head_teacher = models.ForeignKey(
        "User",
        verbose_name="班主任",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="head_of_classes",
    )

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "班级"
        ordering = ["school_id", "-school_year", "grade", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=9), name="class_grade_1_to_9"
            ),
            models.UniqueConstraint(
                fields=["school", "school_year", "grade", "name"], name="class_unique_per_year"
            ),
        ]

    def __str__(self):
        return f"{self.grade_label}{self.name}"

    @property
    def grade_label(self) -> str:
        return grade_label(self.grade)

    @property
    def audit_region_code(self) -> str:
        return self.school.township.code

    def clean(self):
        if self.grade is not None and not 1 <= self.grade <= 9:
            raise ValidationError({"grade": "年级应在1–9之间（小学一年级至初三）。"})
        if self.school_year is not None and not 2000 <= self.school_year <= 2100:
            raise ValidationError({"school_year": "学年应为四位年份，如 2026。"})
        if self.head_teacher_id and self.head_teacher.school_id != self.school_id:
            raise ValidationError({"head_teacher": "班主任应为本校教职工账号。"})


_GRADE_LABELS = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"]


def grade_label(grade: int) -> str:
    return _GRADE_LABELS[grade - 1] if grade and 1 <= grade <= 9 else str(grade)


def current_school_year(today=None) -> int:
    """The school year ``today`` falls in, by the year it starts (a school year starts in
    September: 2026 is 2026–2027)."""
    today = today or timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


class ScopedUserManager(UserManager.from_queryset(jurisdiction.ScopedQuerySet)):
    pass


class User(AbstractUser):
    """An account. It belongs to one organisation unit: a region or a school."""

    full_name = models.CharField("姓名", max_length=50)
    role = models.CharField("角色", max_length=30, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name="所属区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    school = models.ForeignKey(
        School,
        verbose_name="所属学校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    phone = models.CharField("手机号", max_length=11, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = verbose_name_plural = "账号"
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(region__isnull=False, school__isnull=False),
                name="user_one_org_unit",
            ),
        ]

    def __str__(self):
        return f"{self.full_name}（{self.username}）" if self.full_name else self.username

    @property
    def org_unit(self):
        return self.school or self.region

    @property
    def audit_region_code(self) -> str:
        if self.school_id:
            return self.school.township.code
        return self.region.code if self.region_id else ""

    def clean(self):
        super().clean()
        if self.is_superuser and not self.role:
            return
        if not self.role:
            raise ValidationError({"role": "请选择角色。"})
        if self.region_id and self.school_id:
            raise ValidationError({"school": "账号只能属于一个单位：区划或学校。"})
        if self.role in SCHOOL_ROLES:
            if not self.school_id:
                raise ValidationError({"school": f"{self.get_role_display()}账号应属于一所学校。"})
        elif self.role == Role.API_CLIENT:
            if not (self.school_id or self.region_id):
                raise ValidationError({"region": "接口账号应属于一个区划或一所学校。"})
        else:
            level = ROLE_REGION_LEVEL[self.role]
            if not self.region_id or self.region.level != level:
                raise ValidationError(
                    {"region": f"{self.get_role_display()}账号应属于{level.label}级区划。"}
                )
        if self.phone and not (
            len(self.phone) == 11 and self.phone.isdigit() and self.phone[0] == "1"
        ):
            raise ValidationError({"phone": "手机号应为以1开头的11位数字。"})


class AuditEvent(AppendOnlyModel):
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    detail = models.CharField("说明", max_length=500, blank=True)
    region_code = models.CharField("所属区划代码", max_length=12, blank=True, db_index=True)
    client_address = models.GenericIPAddressField("客户端地址", null=True, blank=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        # A record's history and who viewed it (issue 15 §4), newest first.
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()}"

    @property
    def object_type_display(self) -> str:
        from django.apps import apps

        try:
            return apps.get_model(self.object_type)._meta.verbose_name
        except (LookupError, ValueError):
            return self.object_type


class AuditSeal(AppendOnlyModel):
    """One link of the audit trail's hash chain (accounts.audit_chain): the digest of an audit
    row's content and the previous link's digest. Kept beside the rows, which stay untouched,
    so that a row changed or deleted by someone with database rights breaks the chain."""

    seq = models.PositiveBigIntegerField("链序号", unique=True)
    # No database constraint: a deleted audit row must leave its link behind to be found.
    event = models.OneToOneField(
        AuditEvent,
        verbose_name="审计记录",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="seal",
    )
    digest = models.CharField("链哈希", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "审计链"
        ordering = ["seq"]

    def __str__(self):
        return f"{self.seq} {self.digest[:12]}"


class Job(models.Model):
    """Work a user asked for that runs in the background (exports, imports, comparisons),
    with its progress and its result file."""

    kind = models.CharField("类型", max_length=30, choices=JobKind.choices)
    requested_by = models.ForeignKey(
        User, verbose_name="申请人", on_delete=models.PROTECT, related_name="jobs"
    )
    params = models.JSONField("参数", default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    done = models.PositiveIntegerField("已处理", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    message = models.CharField("结果说明", max_length=500, blank=True)
    result = models.FileField("结果文件", upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField("结果文件名", max_length=200, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class Notification(models.Model):
    """A message in one account's notification centre (also e-mailed when the account has an
    address). Created only through ``accounts.notifications.notify``."""

    recipient = models.ForeignKey(
        User, verbose_name="接收人", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("类型", max_length=30, choices=NotificationKind.choices)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=500, blank=True, help_text="站内相对地址")
    # Lets a rule that runs repeatedly ("the same day, once per student") notify only once.
    dedupe_key = models.CharField("去重键", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            # The dedupe look-up (recipient, key). Not unique: the table is partitioned by
            # month (kongchuo.partitions) and a key holds across months; ``notify`` takes a
            # lock on the key instead.
            models.Index(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe_key",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Heartbeat(models.Model):
    """The last time each Celery worker ran a heartbeat through each queue it consumes
    (accounts.tasks.heartbeat, scheduled every minute, sends one to every queue): the health
    endpoint reads it to tell a load balancer whether background work is being done. Not
    personal data; seen by no page."""

    worker = models.CharField("工作进程", max_length=200)
    # The queue the heartbeat came through: every queue needs a worker behind it.
    queue = models.CharField("队列", max_length=100, default="")
    at = models.DateTimeField("最近心跳")

    class Meta:
        verbose_name = verbose_name_plural = "后台进程心跳"
        constraints = [
            models.UniqueConstraint(fields=["worker", "queue"], name="heartbeat_worker_queue")
        ]

    def __str__(self):
        return f"{self.worker} {self.queue} {self.at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """One API client's token (accounts.tokens). Only the SHA-256 digest of the secret is
    stored: the secret is shown once, when it is issued."""

    user = models.ForeignKey(
        User, verbose_name="账号", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("客户端名称", max_length=64)
    digest = models.CharField("令牌摘要", max_length=64, unique=True)
    prefix = models.CharField("令牌开头", max_length=8)
    read_only = models.BooleanField("只读", default=False)
    created_at = models.DateTimeField("签发时间", default=timezone.now)
    created_by = models.ForeignKey(
        User,
        verbose_name="签发人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField("到期时间")
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True)
    last_used_ip = models.GenericIPAddressField("最近使用地址", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"


class RecoveryCode(models.Model):
    """One two-factor recovery code (accounts.two_factor). Only a salted SHA-256 digest of
    the code is stored (``salt$hex``): the code is shown once, when it is made, and the row
    is deleted when the code is used."""

    user = models.ForeignKey(
        User, verbose_name="账号", on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField("恢复码摘要", max_length=100)
    created_at = models.DateTimeField("生成时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "两步验证恢复码"

    def __str__(self):
        return f"{self.user}的恢复码 #{self.pk}"


# Where each kind of record sits in the jurisdiction tree (see accounts/jurisdiction.py).
jurisdiction.register(Region, region=("code",), reference=True)
jurisdiction.register(School, region=("township__code",), school=("pk",))
jurisdiction.register(
    SchoolClass, region=("school__township__code",), school=("school_id",), klass=("pk",)
)
jurisdiction.register(
    User, region=("region__code", "school__township__code"), school=("school_id",)
)
jurisdiction.register(AuditEvent, region=("region_code",))
jurisdiction.register(Job, owner="requested_by")
jurisdiction.register(Notification, owner="recipient")
jurisdiction.register(ApiToken, owner="user")
# Partitioned by month (issue 19 §2). The audit trail is never archived: its hash chain
# (accounts.audit_chain) would break.
partitions.register(AuditEvent, "at", partitions.MONTH, archived=False)
partitions.register(Notification, "created_at", partitions.MONTH)
jurisdiction.register(RecoveryCode, owner="user")
