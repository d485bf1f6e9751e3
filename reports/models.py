from django.db import models

from accounts import jurisdiction
from accounts.models import Region, School, User
from kongchuo.sealed import SealedField
from ledger.models import LedgerEntry

from .choices import Period


class ReportCadence(models.Model):
    """A province's choice of reporting cadence: the 月报表 every month (002), or every two
    months where the province asks for a 双月报 (004)."""

    province = models.OneToOneField(
        Region, verbose_name="省", on_delete=models.PROTECT, related_name="report_cadence"
    )
    bimonthly = models.BooleanField("实行双月报", default=False)
    changed_by = models.ForeignKey(
        User, verbose_name="设置人", on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField("设置时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "报送周期"

    def __str__(self):
        return f"{self.province.name} {'双月报' if self.bimonthly else '月报'}"

    @property
    def audit_region_code(self) -> str:
        return self.province.code


class MonthlyReport(models.Model):
    """One school's 《义务教育阶段学生辍学月报表》 for one period: ``month`` of ``year``, or the
    two months ending with it under a 双月报. Its content lives in versions: the first one,
    and one more for each correction after signing."""

    school = models.ForeignKey(
        School, verbose_name="学校", on_delete=models.PROTECT, related_name="monthly_reports"
    )
    year = models.PositiveSmallIntegerField("年份")
    month = models.PositiveSmallIntegerField("月份")
    months = models.PositiveSmallIntegerField("覆盖月数", default=1)
    # Signed on or after this day is late ("每月20日前", 002).
    due_on = models.DateField("报送截止日")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "辍学月报表"
        ordering = ["-year", "-month", "school_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "year", "month"], name="one_monthly_report_per_school"
            ),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="report_month_1_to_12"
            ),
            models.CheckConstraint(
                condition=models.Q(months__in=(1, 2)), name="report_one_or_two_months"
            ),
        ]
        indexes = [models.Index(fields=["year", "month"], name="monthly_report_period")]

    def __str__(self):
        return f"{self.school.name} {self.year}年{self.month}月"

    @property
    def audit_region_code(self) -> str:
        return self.school.audit_region_code


class ReportVersion(models.Model):
    """One version of a monthly report. A draft until the principal signs it (name and time);
    a signed version never changes: a correction is a new version with its reason."""

    report = models.ForeignKey(
        MonthlyReport, verbose_name="月报表", on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveSmallIntegerField("版本")
    # The ledger as it stood on this day fills the rows.
    report_date = models.DateField("填报基准日")
    filled_by = models.CharField("填表人", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    correction_reason = models.TextField("更正原因", blank=True)
    created_by = models.ForeignKey(
        User, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    signed_by = models.ForeignKey(
        User,
        verbose_name="签发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField("签发时间", null=True, blank=True)
    late = models.BooleanField("逾期报送", default=False)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "月报表版本"
        ordering = ["report_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="one_report_version_number"),
            models.CheckConstraint(
                condition=models.Q(number=1) | ~models.Q(correction_reason=""),
                name="report_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
                name="report_signed_by_and_at",
            ),
        ]

    def __str__(self):
        return f"{self.report} 第{self.number}版"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def audit_region_code(self) -> str:
        return self.report.audit_region_code


class ReportRow(models.Model):
    """One child on a report version, copied from the ledger entry at the report date so that
    a signed version reads the same forever."""

    version = models.ForeignKey(
        ReportVersion, verbose_name="月报表版本", on_delete=models.CASCADE, related_name="rows"
    )
    position = models.PositiveIntegerField("序号")
    entry = models.ForeignKey(
        LedgerEntry, verbose_name="台账记录", on_delete=models.PROTECT, related_name="+"
    )
    school_name = models.CharField("学校", max_length=100)
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=2)
    grade = models.CharField("年级", max_length=10, blank=True)
    class_name = models.CharField("班级", max_length=30, blank=True)
    id_number = SealedField("身份证号码", max_length=18, blank=True)
    reason = models.CharField("辍学原因", max_length=50)
    poverty_registered = models.BooleanField("是否为建档立卡贫困家庭子女", default=False)
    measures = models.TextField("控辍保学措施", blank=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "月报表明细"
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="one_report_row_position")
        ]

    def __str__(self):
        return f"{self.position}. {self.name}"


class SignOff(models.Model):
    """四个一 above the school (003): the county signs off each quarter, the city each term
    (``number`` 1 or 2 of school year ``year``), the province each year (``number`` 1)."""

    region = models.ForeignKey(
        Region, verbose_name="地区", on_delete=models.PROTECT, related_name="report_sign_offs"
    )
    period = models.CharField("周期", max_length=10, choices=Period.choices)
    year = models.PositiveSmallIntegerField("年份")
    number = models.PositiveSmallIntegerField("序号")
    summary = models.TextField("审核意见")
    signed_by = models.ForeignKey(
        User, verbose_name="签发人", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField("签发时间", auto_now_add=True)

    objects = jurisdiction.ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "逐级审核签发"
        ordering = ["-year", "-number", "region_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "period", "year", "number"], name="one_sign_off_per_period"
            )
        ]

    def __str__(self):
        return f"{self.region.name} {self.year} {self.get_period_display()}{self.number}"

    @property
    def audit_region_code(self) -> str:
        return self.region.code


_REPORT = {"region": ("school__township__code",), "school": ("school_id",)}


def _below(path: str) -> dict:
    return {key: tuple(f"{path}__{each}" for each in paths) for key, paths in _REPORT.items()}


# A school's report is seen by the school (a 中心校 also by its attached schools' accounts
# through the school scope), its township and everyone above.
jurisdiction.register(MonthlyReport, **_REPORT)
jurisdiction.register(ReportVersion, **_below("report"))
jurisdiction.register(ReportRow, **_below("version__report"))
# A level's sign-off is seen by that level and those above it.
jurisdiction.register(SignOff, region=("region__code",))
jurisdiction.register(ReportCadence, region=("province__code",))
