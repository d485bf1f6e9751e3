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
from students.models import Student

from .choices import NOT_PRESENT, Mark


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

    objects = jurisdiction.ScopedQuerySet.as_manager()

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
        ]

    def __str__(self):
        return f"{self.klass} {self.date:%Y-%m-%d}考勤"

    @property
    def audit_region_code(self) -> str:
        return self.school.township.code


class AttendanceMark(models.Model):
    """One student who was not simply present on a roll call."""

    roll = models.ForeignKey(
        RollCall, verbose_name="考勤", on_delete=models.CASCADE, related_name="marks"
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
            models.UniqueConstraint(fields=["roll", "student"], name="mark_once_per_roll"),
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


_ROLL = {"region": ("school__township__code",), "school": ("school_id",), "klass": ("klass_id",)}
jurisdiction.register(AttendanceRules, region=("county__code",))
jurisdiction.register(RollCall, **_ROLL)
jurisdiction.register(
    AttendanceMark,
    **{key: tuple(f"roll__{path}" for path in paths) for key, paths in _ROLL.items()},
)
