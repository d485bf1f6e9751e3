from django.db import models


class SourceKind(models.TextChoices):
    """The external lists a county compares with 学籍 and the ledger (DOMAIN.md §6; 002, 003)."""

    HOUSEHOLD = "household", "公安户籍适龄人口"
    POVERTY = "poverty", "脱贫家庭和监测对象子女"
    DISABILITY = "disability", "残联残疾儿童名单"
    XUEJI = "xueji", "全国学籍查询结果"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "比对中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


FINISHED_RUN_STATUSES = frozenset({RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED})


class MismatchKind(models.TextChoices):
    """What a comparison finds (issue 13 rule 3)."""

    NOT_ENROLLED = "not_enrolled", "户籍适龄未入学（无学籍）"
    NOT_ATTENDING = "not_attending", "在籍不在校"
    POVERTY_FLAG = "poverty_flag", "脱贫或监测标识不一致"
    DISABILITY_FLAG = "disability_flag", "残疾标识不一致"
    LEDGER_STATUS = "ledger_status", "台账状态与学籍状态不一致"
    POVERTY_NOT_IN_LEDGER = "poverty_not_in_ledger", "脱贫家庭失学儿童未入台账"
    ELSEWHERE_UNRECORDED = "elsewhere_unrecorded", "户籍在本地、外地就读无记录"


class Strength(models.TextChoices):
    """How a list's row was matched to a student: by ID number, or only by name and birth
    date (+ guardian or village) — a weak match a person confirms, never acted on by itself."""

    ID = "id", "身份证号一致"
    WEAK = "weak", "姓名和出生日期相同（待确认）"
    NONE = "none", "未匹配"


class Change(models.TextChoices):
    """A mismatch against the previous run of the same county and source kind."""

    NEW = "new", "新增"
    SAME = "same", "未变化"
    CHANGED = "changed", "数据有变化"


class Disposition(models.TextChoices):
    """What was done about a mismatch (one-click follow-ups, issue 13)."""

    ENTRY_OPENED = "entry_opened", "已登记未入学台账"
    FLAG_CORRECTED = "flag_corrected", "已更正学生标识"
    LINKED = "linked", "已关联已有学生"
    EXPLAINED = "explained", "已说明情况"
