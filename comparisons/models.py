"""Comparisons (比对, DOMAIN.md §6; issue 13): the external lists a county uploads (immutable
snapshots and their rows, staged for SQL matching), the column mapping remembered per source
kind, the runs that compare a list with 学籍 and the ledger, the mismatches each run finds, and
what was done about them (dispositions, carried to later runs while the data stays the same)."""

from django.conf import settings
from django.db import models

from accounts import jurisdiction
from accounts.models import Region, School
from kongchuo.append_only import AppendOnlyModel
from kongchuo.masking import mask_id_number
from kongchuo.sealed import LookupHashField, MaskedCopyField, SealedField
from ledger.models import LedgerEntry
from students.models import Student

from .choices import Change, Disposition, MismatchKind, RunStatus, SourceKind, Strength


class Source(AppendOnlyModel):
    """One uploaded list, never changed: who, when, how many rows, the file's hash (the same
    file uploaded twice by a county is recognised) and how its columns were read."""

    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.PROTECT, related_name="comparison_sources"
    )
    kind = models.CharField("名单类型", max_length=20, choices=SourceKind.choices)
    name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("大小（字节）")
    encoding = models.CharField("编码", max_length=20, blank=True)
    mapping = models.JSONField("列对应", default=dict)
    row_count = models.PositiveIntegerField("行数", default=0)
    error_count = models.PositiveIntegerField("有误行数", default=0)
    # The rows refused on reading, each {"row": n, "field": heading, "message": …}.
    errors = models.JSONField("错误清单", default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "比对名单"
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "kind", "sha256"], name="comparison_source_once_per_county"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}"


class SourceRow(models.Model):
    """One row of a list as read (normalised), staged for the matching queries."""

    # Rows are COPYed in by the million, so each costs as little as it can: no index of the
    # source alone (the (source, id_hash) one leads with it), none on the name (the weak
    # pass reads the few unmatched rows in Python), and no per-row check of the division,
    # reference data that is never deleted, or of the source, written in the same
    # transaction as its rows (the deferred check cost 3 s at commit for a million rows;
    # deleting a source still deletes its rows, through Django's cascade).
    source = models.ForeignKey(
        Source,
        verbose_name="名单",
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    row = models.PositiveIntegerField("行号")
    # Sealed (issue 15 §3); matched by ``id_hash``.
    id_number = SealedField("身份证号", max_length=18, blank=True)
    id_hash = LookupHashField("身份证号查找码", source="id_number")
    id_valid = models.BooleanField("身份证号校验通过", default=False)
    name = models.CharField("姓名", max_length=50)
    # The name normalised for matching (full/half width, spaces, middle dots).
    name_key = models.CharField("姓名（比对用）", max_length=50)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    gender = models.CharField("性别", max_length=1, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name="户籍地",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    guardian = models.CharField("监护人", max_length=50, blank=True)
    school_name = models.CharField("就读学校", max_length=100, blank=True)
    # The list's own fields that a kind of source carries (a poverty list's 户类型, a 残联
    # list's 残疾类别和等级, a 学籍 look-up's 学籍状态 and 学校标识码).
    extra = models.JSONField("其他信息", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "名单行"
        ordering = ["source_id", "row"]
        indexes = [models.Index(fields=["source", "id_hash"], name="source_row_id_hash")]

    def __str__(self):
        return f"{self.source_id}:{self.row} {self.name}"


class ColumnMapping(models.Model):
    """How a county's lists of one kind name their columns, remembered from the last upload:
    our field → the list's heading."""

    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("名单类型", max_length=20, choices=SourceKind.choices)
    mapping = models.JSONField("列对应", default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="设置人", on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("设置时间", auto_now=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "名单列对应"
        constraints = [
            models.UniqueConstraint(fields=["county", "kind"], name="column_mapping_per_kind")
        ]

    def __str__(self):
        return f"{self.county} {self.get_kind_display()}"


class Run(models.Model):
    """One comparison of one county's latest list of a kind with 学籍 and the ledger. Runs are
    kept; each is compared with the previous one of its county and kind."""

    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.PROTECT, related_name="comparison_runs"
    )
    kind = models.CharField("名单类型", max_length=20, choices=SourceKind.choices)
    source = models.ForeignKey(
        Source, verbose_name="名单", on_delete=models.PROTECT, related_name="runs"
    )
    previous = models.ForeignKey(
        "self",
        verbose_name="上一次比对",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        "状态", max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    done = models.PositiveIntegerField("已完成", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    cancel_requested = models.BooleanField("已要求取消", default=False)
    # Mismatches found by kind, and against the previous run: new, same, changed, gone.
    counts = models.JSONField("各类不一致数", default=dict, blank=True)
    changes = models.JSONField("与上次相比", default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )  # None: the schedule
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "比对任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.county} {self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class Mismatch(models.Model):
    """One disagreement a run found, assigned to the township or school that must act.
    ``key`` identifies the same disagreement across runs (kind + the person); ``fingerprint``
    the data it was found on, so that what was dealt with stays dealt with until it changes."""

    run = models.ForeignKey(
        Run, verbose_name="比对任务", on_delete=models.CASCADE, related_name="mismatches"
    )
    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("不一致类型", max_length=30, choices=MismatchKind.choices)
    key = models.CharField("标识", max_length=64)
    fingerprint = models.CharField("数据指纹", max_length=64)
    strength = models.CharField(
        "匹配方式", max_length=10, choices=Strength.choices, default=Strength.NONE
    )
    change = models.CharField(
        "与上次相比", max_length=10, choices=Change.choices, default=Change.NEW
    )
    source_row = models.ForeignKey(
        SourceRow,
        verbose_name="名单行",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    student = models.ForeignKey(
        Student,
        verbose_name="学生",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entry = models.ForeignKey(
        LedgerEntry,
        verbose_name="台账记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    township = models.ForeignKey(
        Region,
        verbose_name="责任乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    school = models.ForeignKey(
        School,
        verbose_name="责任学校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField("姓名", max_length=50)
    id_number = SealedField("身份证号", max_length=18, blank=True)
    id_hash = LookupHashField("身份证号查找码", source="id_number")
    id_masked = MaskedCopyField("身份证号（脱敏）", source="id_number")
    birth_date = models.DateField("出生日期", null=True, blank=True)
    # What disagrees, as the page shows it: {"名单": …, "系统": …} and the like.
    details = models.JSONField("详情", default=dict, blank=True)
    handled = models.ForeignKey(
        "MismatchDisposition",
        verbose_name="处理情况",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "比对不一致"
        ordering = ["run_id", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="mismatch_once_per_run")]
        indexes = [models.Index(fields=["county", "key"], name="mismatch_county_key")]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.name}"

    @property
    def masked_id_number(self) -> str:
        return self.id_masked or mask_id_number(self.id_number)


class MismatchDisposition(AppendOnlyModel):
    """What someone did about a disagreement (with who and when): the one-click follow-ups
    and written explanations. Kept per county and key with the fingerprint it was made on."""

    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField("标识", max_length=64)
    fingerprint = models.CharField("数据指纹", max_length=64)
    mismatch = models.ForeignKey(
        Mismatch,
        verbose_name="比对不一致",
        null=True,
        on_delete=models.SET_NULL,
        related_name="dispositions",
    )
    disposition = models.CharField("处理方式", max_length=20, choices=Disposition.choices)
    note = models.TextField("说明", blank=True)
    student = models.ForeignKey(
        Student,
        verbose_name="学生",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entry = models.ForeignKey(
        LedgerEntry,
        verbose_name="台账记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("处理时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "比对处理情况"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["county", "key", "-at"], name="disposition_latest")]

    def __str__(self):
        return f"{self.get_disposition_display()} {self.at:%Y-%m-%d}"


_COUNTY = {"region": ("county__code",), "county": "county"}
for _model in (Source, ColumnMapping, Run, MismatchDisposition):
    jurisdiction.register(_model, **_COUNTY)
# A mismatch is seen by the township and the school that must act, and the county (and
# those above it): a school sees its own, a township its own, the county all.
jurisdiction.register(
    Mismatch,
    region=("township__code", "school__township__code", "county__code"),
    school=("school_id",),
    county="county",
)
