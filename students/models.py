from django.db import models

from accounts import jurisdiction
from accounts.models import Region, School, SchoolClass, User, grade_label
from kongchuo.append_only import AppendOnlyModel
from kongchuo.masking import mask_id_number, mask_phone
from kongchuo.sealed import LookupHashField, MaskedCopyField, SealedField, SealedIntegerField

from .choices import (
    DisabilityGrade,
    DisabilityType,
    EventKind,
    Gender,
    KeyGroup,
    Status,
    TransferStatus,
)


class IdType(models.TextChoices):
    """身份证件类型 as the national 学籍 system codes it (issue 18). Kept here rather than in
    choices.py: the student's document is its only user."""

    RESIDENT = "1", "居民身份证"
    HONG_KONG = "6", "香港特区护照/身份证明"
    MACAO = "7", "澳门特区护照/身份证明"
    TAIWAN = "8", "台湾居民来往大陆通行证"
    PERMANENT_RESIDENCE = "9", "境外永久居住证"
    PASSPORT = "A", "护照"
    OTHER = "Z", "其他"


class Student(models.Model):
    """A child and their current 学籍. The status changes only through EnrollmentEvent."""

    # Indexed in Meta (a plain index: names are searched by exact value or by 包含, which
    # no index serves), not by db_index, which on PostgreSQL adds an unused LIKE index.
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=10, default="汉族")
    # Unique by the constraints in Meta, not unique=True: on PostgreSQL that adds a second
    # (varchar_pattern_ops) index for LIKE, which no query uses — look-ups are exact — and
    # which every roster import pays for, as it pays for every index of this table. NULL,
    # not "", for a child without one: the unique constraints keep NULLs apart.
    # Sealed (issue 15 §3): looked up, joined and kept unique through ``id_hash``; lists show
    # ``id_masked`` without decrypting anything.
    id_number = SealedField("身份证号", max_length=18, null=True, blank=True)
    id_hash = LookupHashField("身份证号查找码", source="id_number")
    id_masked = MaskedCopyField("身份证号（脱敏）", source="id_number")
    # 身份证件类型 (issue 18): which document ``id_number`` is the number of. One unique
    # constraint for every type (a look-up by number alone stays unambiguous): the shapes of
    # the types do not overlap, and GB 11643 is checked only for a 居民身份证.
    id_type = models.CharField(
        "身份证件类型", max_length=1, choices=IdType.choices, default=IdType.RESIDENT
    )
    hukou_region = models.ForeignKey(
        Region,
        verbose_name="户籍地",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.CharField("现住址", max_length=200, blank=True)
    student_number = models.CharField("学籍号", max_length=30, null=True, blank=True)  # noqa: DJ001
    # No index of its own: student_school_status (school, status) serves look-ups by school.
    school = models.ForeignKey(
        School,
        verbose_name="学校",
        on_delete=models.PROTECT,
        related_name="students",
        db_index=False,
    )
    klass = models.ForeignKey(
        SchoolClass,
        verbose_name="班级",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="students",
    )
    grade = models.PositiveSmallIntegerField("年级")
    entry_date = models.DateField("入学日期", null=True, blank=True)
    status = models.CharField(
        "学籍状态", max_length=20, choices=Status.choices, default=Status.ENROLLED, editable=False
    )
    poverty_registered = models.BooleanField(KeyGroup.POVERTY_REGISTERED.label, default=False)
    relapse_monitored = models.BooleanField(KeyGroup.RELAPSE_MONITORED.label, default=False)
    low_income = models.BooleanField(KeyGroup.LOW_INCOME.label, default=False)
    left_behind = models.BooleanField(KeyGroup.LEFT_BEHIND.label, default=False)
    migrant = models.BooleanField(KeyGroup.MIGRANT.label, default=False)
    disabled = models.BooleanField(KeyGroup.DISABLED.label, default=False)
    learning_difficulty = models.BooleanField(KeyGroup.LEARNING_DIFFICULTY.label, default=False)
    financial_hardship = models.BooleanField(KeyGroup.FINANCIAL_HARDSHIP.label, default=False)
    parent_in_prison = models.BooleanField(KeyGroup.PARENT_IN_PRISON.label, default=False)
    orphan = models.BooleanField(KeyGroup.ORPHAN.label, default=False)
    disability_type = SealedField(
        "残疾类型", max_length=20, choices=DisabilityType.choices, blank=True
    )
    disability_grade = SealedIntegerField(
        "残疾等级", choices=DisabilityGrade.choices, null=True, blank=True
    )
    # Set by students.merge on a duplicate record: the record it was merged into (always a
    # record that is not merged itself). Its page redirects there.
    merged_into = models.ForeignKey(
        "self",
        verbose_name="已合并到",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_records",
    )
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "学生"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=9), name="student_grade_1_to_9"
            ),
            models.UniqueConstraint(fields=["id_hash"], name="student_id_number_unique"),
            models.UniqueConstraint(fields=["student_number"], name="student_number_unique"),
        ]
        indexes = [
            models.Index(fields=["school", "status"], name="student_school_status"),
            models.Index(fields=["name"], name="student_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def grade_label(self) -> str:
        return grade_label(self.grade)

    @property
    def masked_id_number(self) -> str:
        return self.id_masked or mask_id_number(self.id_number or "")

    @property
    def id_missing(self) -> bool:
        # The masked copy first: lists ask for every row, and it needs no decrypting.
        return not (self.id_masked or self.id_number)

    @property
    def key_group_values(self) -> list[str]:
        """The key groups the student belongs to, as stored values (``left_behind``)."""
        return [group.value for group in KeyGroup if getattr(self, group.value)]

    @property
    def key_group_labels(self) -> list[str]:
        """The same groups as their Chinese names, for display only (``农村留守儿童``)."""
        return [group.label for group in KeyGroup if getattr(self, group.value)]

    @property
    def audit_region_code(self) -> str:
        return self.school.township.code


class Guardian(models.Model):
    student = models.ForeignKey(
        Student, verbose_name="学生", on_delete=models.CASCADE, related_name="guardians"
    )
    name = models.CharField("监护人姓名", max_length=50)
    relation = models.CharField("关系", max_length=10)
    phone = SealedField("联系电话", max_length=20, blank=True)
    # The masked phone beside it, so that lists and the bulk sync show it without decrypting.
    phone_masked = MaskedCopyField("联系电话（脱敏）", source="phone", mask="phone", max_length=20)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "监护人"
        ordering = ["id"]

    def __str__(self):
        return f"{self.name}（{self.relation}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class EnrollmentEvent(AppendOnlyModel):
    """学籍异动: 情况清楚、材料齐全、手续完备 — date, reason, document and operator, never
    edited."""

    student = models.ForeignKey(
        Student, verbose_name="学生", on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField("异动类型", max_length=20, choices=EventKind.choices)
    date = models.DateField("异动日期")
    reason = models.CharField("原因", max_length=200)
    document = models.CharField("证明材料", max_length=200, blank=True)
    school = models.ForeignKey(
        School, verbose_name="学校", on_delete=models.PROTECT, related_name="+"
    )
    other_school = models.ForeignKey(
        School,
        verbose_name="转入/转出学校",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    destination = models.CharField("转往/来自（系统外）", max_length=200, blank=True)
    status_after = models.CharField("异动后状态", max_length=20, choices=Status.choices)
    operator = models.ForeignKey(
        User, verbose_name="经办人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "学籍异动"
        ordering = ["student_id", "date", "id"]
        # The indicators read an area's events of one kind in a date range (入学注册 of a
        # cohort's first year, 转入/转出/死亡/毕业 since): one index range per school.
        indexes = [models.Index(fields=["school", "kind", "date"], name="event_school_kind_date")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d}"

    @property
    def audit_region_code(self) -> str:
        return self.school.township.code


class Transfer(models.Model):
    """A 转出 to another school in the system, waiting for the receiving school (籍随人走)."""

    student = models.ForeignKey(
        Student, verbose_name="学生", on_delete=models.PROTECT, related_name="transfers"
    )
    from_school = models.ForeignKey(
        School, verbose_name="转出学校", on_delete=models.PROTECT, related_name="+"
    )
    to_school = models.ForeignKey(
        School, verbose_name="转入学校", on_delete=models.PROTECT, related_name="incoming_transfers"
    )
    date = models.DateField("转出日期")
    reason = models.CharField("原因", max_length=200)
    document = models.CharField("证明材料", max_length=200, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    requested_by = models.ForeignKey(
        User, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        User,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    note = models.CharField("处理意见", max_length=200, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "转学申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(status="pending"),
                name="one_pending_transfer_per_student",
            )
        ]

    def __str__(self):
        return f"{self.student.name} 转学申请"

    @property
    def audit_region_code(self) -> str:
        return self.from_school.township.code


_STUDENT = {
    "region": ("school__township__code", "hukou_region__code"),
    "school": ("school_id",),
    "klass": ("klass_id",),
}


def _through(prefix: str) -> dict[str, tuple[str, ...]]:
    return {key: tuple(f"{prefix}__{path}" for path in paths) for key, paths in _STUDENT.items()}


# Township officials see students whose school *or* 户籍地 is in their township (issue 3).
jurisdiction.register(Student, **_STUDENT)
jurisdiction.register(Guardian, **_through("student"))
jurisdiction.register(EnrollmentEvent, **_through("student"))
# Both schools of a transfer see it: the sender to follow it, the receiver to confirm it.
jurisdiction.register(
    Transfer,
    region=("from_school__township__code", "to_school__township__code"),
    school=("from_school_id", "to_school_id"),
)


class MergeRecord(AppendOnlyModel):
    """One merge of a duplicate student record into the kept one (issue 13 rule 4), so that
    it can be explained: who, when, why, what moved and the merged record as it was."""

    kept = models.ForeignKey(
        Student, verbose_name="保留的记录", on_delete=models.PROTECT, related_name="merges"
    )
    merged = models.OneToOneField(
        Student, verbose_name="合并的记录", on_delete=models.PROTECT, related_name="merge_record"
    )
    by = models.ForeignKey(User, verbose_name="操作人", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("合并时间", auto_now_add=True)
    reason = models.CharField("合并原因", max_length=200)
    # The merged record's fields and guardians before the merge (personal data: shown masked).
    snapshot = models.JSONField("合并前的记录", default=dict)
    # {label: count} of the related rows moved, as students.hooks' movers report them.
    moved = models.JSONField("转移的数据", default=dict)
    # The kept record's fields filled from the merged one, and what a conflict left behind.
    filled = models.JSONField("补充的字段", default=list)
    notes = models.JSONField("说明", default=list)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "学生记录合并"
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.snapshot.get('name', '')} 合并到 {self.kept.name}"

    @property
    def audit_region_code(self) -> str:
        return self.kept.school.township.code


class DuplicateDismissal(AppendOnlyModel):
    """“不是同一人”: a pair of students the finder proposed that a person said are two
    children; the finder does not propose the pair again. ``first`` is the lower id."""

    first = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(User, verbose_name="操作人", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)
    note = models.CharField("说明", max_length=200, blank=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "非重复学生确认"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="dismissal_once_per_pair"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="dismissal_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.first.name} / {self.second.name} 不是同一人"

    @property
    def audit_region_code(self) -> str:
        return self.first.school.township.code


jurisdiction.register(MergeRecord, **_through("kept"))
jurisdiction.register(DuplicateDismissal, **_through("first"))


# The school calendar (DOMAIN.md §4): a county default that a school may override. Each row
# belongs to exactly one owner, the county (a county-level Region) or one school.

_ONE_OWNER = models.Q(county__isnull=False, school__isnull=True) | models.Q(
    county__isnull=True, school__isnull=False
)


class DayKind(models.TextChoices):
    # Kept beside its model rather than in choices.py: calendar rows are the only user.
    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "调休上班"


class CalendarOwned(models.Model):
    county = models.ForeignKey(
        Region,
        verbose_name="县（默认校历）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    school = models.ForeignKey(
        School,
        verbose_name="学校（本校校历）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def owner(self) -> Region | School:
        return self.school if self.school_id else self.county

    @property
    def audit_region_code(self) -> str:
        return self.school.township.code if self.school_id else self.county.code


class Term(CalendarOwned):
    """学期: the span of dates a school is in session, weekends and holidays aside."""

    name = models.CharField("学期名称", max_length=50)
    start = models.DateField("开学日期")
    end = models.DateField("结束日期")

    class Meta:
        verbose_name = verbose_name_plural = "学期"
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_OWNER, name="term_one_owner"),
            models.CheckConstraint(
                condition=models.Q(start__lte=models.F("end")), name="term_start_not_after_end"
            ),
        ]
        indexes = [
            models.Index(fields=["county", "start"], name="term_county_start"),
            models.Index(fields=["school", "start"], name="term_school_start"),
        ]

    def __str__(self):
        return self.name


class CalendarDay(CalendarOwned):
    """A single day that departs from the weekly rhythm: a holiday on a weekday or a
    make-up working day (调休上班) on a weekend."""

    date = models.DateField("日期")
    kind = models.CharField("类型", max_length=10, choices=DayKind.choices)
    note = models.CharField("说明", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "校历特殊日"
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_OWNER, name="calendarday_one_owner"),
            # NULLs are distinct, so each constraint binds only the rows of its owner kind.
            models.UniqueConstraint(fields=["county", "date"], name="calendarday_county_date"),
            models.UniqueConstraint(fields=["school", "date"], name="calendarday_school_date"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


# County rows are placed by the county's code, school rows by their school. A school account
# sees only its own school's rows here; it reads the county default through
# students.calendar (calendar_for / calendar_rows), which follows its school to its county.
_CALENDAR = {"region": ("county__code", "school__township__code"), "school": ("school_id",)}
jurisdiction.register(Term, **_CALENDAR)
jurisdiction.register(CalendarDay, **_CALENDAR)
