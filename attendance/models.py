"""Daily attendance (DOMAIN.md §4): one roll call per class per school day, and one mark per
student who was not simply present. A school day without a roll call is "not recorded".

The tables were created by the students app and keep their names (``db_table``).
"""

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts import jurisdiction
from accounts.choices import RegionLevel
from accounts.models import Region, School, SchoolClass, User
from kongchuo import partitions
from kongchuo.append_only import AppendOnlyModel
from kongchuo.offline import OfflineWrite
from students.models import Student

from .choices import NOT_PRESENT, Mark, MeasureKind, WatchReason


class AttendanceRules(models.Model):
    """A county's attendance settings; a county without a row uses the defaults."""

    county = models.OneToOneField(
        Region,
        verbose_name="县",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": RegionLevel.COUNTY},
    )
    threshold = models.PositiveSmallIntegerField(
        "连续旷课天数",
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        help_text="连续这么多个上学日无故缺勤，即自动登记为疑似辍学",
    )
    cutoff_days = models.PositiveSmallIntegerField(
        "班主任可修改天数",
        default=0,
        validators=[MaxValueValidator(30)],
        help_text="0 表示只能在当天提交和修改；1 表示到次日，依此类推",
    )
    cutoff_time = models.TimeField(
        "截止时间", default=datetime.time(18, 0), help_text="截止当天的这个时间以后，由校长修改"
    )
    # Per-group thresholds of the same rule (attendance.rule): empty = the general one.
    key_group_threshold = models.PositiveSmallIntegerField(
        "连续旷课天数（重点群体）",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="重点群体学生（建档立卡、留守、残疾等）适用的更低天数；不填则同上",
    )
    returned_threshold = models.PositiveSmallIntegerField(
        "连续旷课天数（复学学生）",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="劝返复学跟踪中的学生适用的更低天数；不填则同上",
    )
    # The watch list's signals (attendance.signals).
    watch_unexcused_days = models.PositiveSmallIntegerField(
        "重点监测：旷课天数",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(40)],
        help_text="在下面的上学日数内旷课达到这么多天，列入重点监测（不必连续）",
    )
    watch_unexcused_window = models.PositiveSmallIntegerField(
        "重点监测：旷课统计上学日数",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    watch_rate = models.PositiveSmallIntegerField(
        "重点监测：出勤率低于（%）",
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="出勤率 = 已记录的上学日中到校（出勤或迟到）的比例；请假和旷课都算未到校",
    )
    watch_rate_window = models.PositiveSmallIntegerField(
        "重点监测：出勤率统计上学日数",
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(60)],
        help_text="至少一半的上学日有考勤记录才计算出勤率",
    )
    watch_late_days = models.PositiveSmallIntegerField(
        "重点监测：未说明原因的迟到天数",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="迟到且备注为空，在下面的上学日数内达到这么多天",
    )
    watch_late_window = models.PositiveSmallIntegerField(
        "重点监测：迟到统计上学日数",
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    watch_return_days = models.PositiveSmallIntegerField(
        "重点监测：复学后跟踪天数",
        default=180,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="以“已复学”销号后仍跟踪这么多天；已复学（跟踪）中的学生一直在名单上",
    )

    objects = jurisdiction.ScopedQuerySet.as_manager()

    # What the 考勤规则 page sets, in its order.
    FORM_FIELDS = (
        "threshold",
        "key_group_threshold",
        "returned_threshold",
        "cutoff_days",
        "cutoff_time",
        "watch_unexcused_days",
        "watch_unexcused_window",
        "watch_rate",
        "watch_rate_window",
        "watch_late_days",
        "watch_late_window",
        "watch_return_days",
    )

    class Meta:
        verbose_name = verbose_name_plural = "考勤规则"
        db_table = "students_attendancerules"

    def __str__(self):
        return f"{self.county.name}考勤规则"

    @property
    def audit_region_code(self) -> str:
        return self.county.code


class RollCall(models.Model):
    """点名: one class's attendance for one school day."""

    klass = models.ForeignKey(
        SchoolClass, verbose_name="班级", on_delete=models.PROTECT, related_name="roll_calls"
    )
    school = models.ForeignKey(
        School, verbose_name="学校", on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField("日期")
    submitted_by = models.ForeignKey(
        User, verbose_name="提交人", on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)
    changed_by = models.ForeignKey(
        User, verbose_name="最后修改人", on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField("最后修改时间", auto_now=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "考勤"
        db_table = "students_rollcall"
        ordering = ["-date", "klass_id"]
        constraints = [
            models.UniqueConstraint(fields=["klass", "date"], name="rollcall_class_date"),
        ]
        indexes = [
            models.Index(fields=["school", "date"], name="rollcall_school_date"),
            # The API's newest-first cursor over a whole area.
            models.Index(fields=["-date", "-id"], name="rollcall_newest_first"),
            # A day's roll calls of every class, read from the index alone: which classes
            # of a province owe the day's roll (attendance.selectors.schools_missing_roll).
            models.Index(fields=["date", "klass"], name="rollcall_date_class"),
            # The bulk sync's order: changed since a moment, resumed after a cursor.
            models.Index(fields=["changed_at", "id"], name="rollcall_changed"),
        ]

    def __str__(self):
        return f"{self.klass} {self.date:%Y-%m-%d}考勤"

    @property
    def audit_region_code(self) -> str:
        return self.school.township.code


class AttendanceMark(models.Model):
    """One student who was not simply present on a roll call."""

    # Roll calls are partitioned (kongchuo.partitions): no database constraint can point at
    # them; Django cascades the deletion.
    roll = models.ForeignKey(
        RollCall,
        verbose_name="考勤",
        on_delete=models.CASCADE,
        related_name="marks",
        db_constraint=False,
    )
    student = models.ForeignKey(
        Student, verbose_name="学生", on_delete=models.PROTECT, related_name="marks"
    )
    # The roll call's date, repeated so that a student's days are read without a join.
    date = models.DateField("日期")
    status = models.CharField(
        "考勤状态", max_length=10, choices=[(m.value, m.label) for m in Mark if m in NOT_PRESENT]
    )
    note = models.CharField("备注", max_length=100, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "缺勤记录"
        db_table = "students_attendancemark"
        ordering = ["date", "id"]
        constraints = [
            # With the partition column: the date is the roll call's, so once per roll call.
            models.UniqueConstraint(fields=["roll", "student", "date"], name="mark_once_per_roll"),
        ]
        indexes = [
            models.Index(fields=["student", "date"], name="mark_student_date"),
            models.Index(
                fields=["date"],
                name="mark_unexcused_date",
                condition=models.Q(status=Mark.UNEXCUSED),
            ),
        ]

    def __str__(self):
        return f"{self.student.name} {self.date:%Y-%m-%d} {self.get_status_display()}"


class WatchPeriod(models.Model):
    """One reason holding for one child for a while (重点监测名单, DOMAIN.md §4b): opened the
    day the computation (attendance.watch) first finds it, ended the first day it no longer
    holds. A child is on the watch list while any period is open; ended periods stay."""

    student = models.ForeignKey(
        Student, verbose_name="学生", on_delete=models.CASCADE, related_name="watch_periods"
    )
    reason = models.CharField("监测原因", max_length=20, choices=WatchReason.choices)
    started_on = models.DateField("列入日期")
    ended_on = models.DateField("移出日期", null=True, blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "重点监测记录"
        ordering = ["-started_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "reason"],
                condition=models.Q(ended_on__isnull=True),
                name="watch_one_open_period",
            ),
        ]
        indexes = [
            # The open periods, newest first: the watch lists and the week's new entries.
            models.Index(
                fields=["-started_on"],
                name="watch_open_started",
                condition=models.Q(ended_on__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.student.name} {self.get_reason_display()}"


class WatchMeasure(AppendOnlyModel):
    """A measure taken for a watched child (结对帮扶, 家访, 资助, 谈心): append-only, with who
    recorded it and when."""

    student = models.ForeignKey(
        Student, verbose_name="学生", on_delete=models.PROTECT, related_name="watch_measures"
    )
    kind = models.CharField("措施", max_length=20, choices=MeasureKind.choices)
    date = models.DateField("日期")
    partner = models.CharField(
        "帮扶责任人", max_length=50, blank=True, help_text="结对帮扶的教师或干部"
    )
    note = models.CharField("情况", max_length=500)
    recorded_by = models.ForeignKey(
        User, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = jurisdiction.AppendOnlyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["student", "-date"], name="watch_measure_student")]

    def __str__(self):
        return f"{self.student.name} {self.date:%Y-%m-%d} {self.get_kind_display()}"

    @property
    def audit_region_code(self) -> str:
        return self.student.school.township.code


class WatchRun(models.Model):
    """One computation of a county's watch list (nightly or on demand)."""

    county = models.ForeignKey(
        Region, verbose_name="县", on_delete=models.CASCADE, related_name="+"
    )
    as_of = models.DateField("计算日期")
    ran_at = models.DateTimeField("计算时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "重点监测计算"
        get_latest_by = "ran_at"
        indexes = [models.Index(fields=["county", "-ran_at"], name="watch_run_latest")]

    def __str__(self):
        return f"{self.county.name} {self.as_of:%Y-%m-%d}重点监测"


_ROLL = {"region": ("school__township__code",), "school": ("school_id",), "klass": ("klass_id",)}
jurisdiction.register(AttendanceRules, region=("county__code",))
jurisdiction.register(RollCall, **_ROLL)
jurisdiction.register(
    AttendanceMark,
    **{key: tuple(f"roll__{path}" for path in paths) for key, paths in _ROLL.items()},
)
_WATCHED = {
    "region": ("student__school__township__code", "student__hukou_region__code"),
    "school": ("student__school_id",),
    "klass": ("student__klass_id",),
}
jurisdiction.register(WatchPeriod, **_WATCHED)
jurisdiction.register(WatchMeasure, **_WATCHED)
# Partitioned by school year (issue 19 §2); archived whole (archive_school_year).
partitions.register(RollCall, "date", partitions.YEAR)
partitions.register(AttendanceMark, "date", partitions.YEAR)


class OfflineRoll(OfflineWrite):
    """A roll taken offline on a phone and sent later, by its client-generated UUID: a replay
    of the same UUID answers the kept result (kongchuo.offline.once)."""

    roll = models.ForeignKey(
        RollCall,
        verbose_name="考勤",
        on_delete=models.CASCADE,
        related_name="offline_writes",
        db_constraint=False,
    )

    class Meta:
        verbose_name = verbose_name_plural = "离线考勤提交"
