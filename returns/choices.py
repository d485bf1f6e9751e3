from django.db import models


class CaseState(models.TextChoices):
    """劝返案件状态 (DOMAIN.md §7)."""

    INSTRUCTED = "instructed", "待签收"
    WORKING = "working", "劝返中"
    RETURNED = "returned", "已复学（跟踪）"
    DEFERRED = "deferred", "延缓入学或休学（继续劝返）"
    CLOSED = "closed", "已结案"


# A case still worked or followed: at most one per ledger entry.
OPEN_CASE_STATES = frozenset(set(CaseState) - {CaseState.CLOSED})


class Step(models.IntegerChoices):
    """四步法 (003), taken in order; a step may be skipped, never undone."""

    PERSUASION = 1, "宣传教育"
    ORDER = 2, "责令改正"
    PENALTY = 3, "行政处罚"
    COURT = 4, "申请强制执行或提起诉讼"


class ResponsibleRule(models.TextChoices):
    """Which rule of "who persuades" (劝返主体, DOMAIN.md §7, 003/004) named the township."""

    HUKOU = "hukou", "户籍地乡镇"
    STUDY_PLACE = "study_place", "就读地乡镇（流动儿童在就读地辍学）"
    MOVED = "moved", "辍学后迁出：原乡镇告知户籍地乡镇共同劝返"
    OUTSIDE_COUNTY = "outside_county", "户籍地在县外：县级告知并暂管"
    COUNTY_CHOICE = "county_choice", "县级改派"


class Duty(models.TextChoices):
    """结对包保: who pairs with the child."""

    CADRE = "cadre", "包保干部"
    VILLAGE_CADRE = "village_cadre", "驻村干部"
    TEACHER = "teacher", "教师"


class Help(models.TextChoices):
    """帮扶措施 offered in a plan (一人一案)."""

    SUBSIDY = "subsidy", "资助"
    LEARNING = "learning", "学习帮扶"
    TRANSPORT = "transport", "交通"
    COUNSELLING = "counselling", "心理辅导"
    HOME_TEACHING = "home_teaching", "送教上门"
    OTHER = "other", "其他"


class Method(models.TextChoices):
    VISIT = "visit", "上门"
    PHONE = "phone", "电话"
    INTERVIEW = "interview", "约谈"
    JOINT = "joint", "联合劝返"


class Department(models.TextChoices):
    """Departments that join a 联合劝返."""

    POLICE = "police", "公安"
    CIVIL_AFFAIRS = "civil_affairs", "民政"
    JUSTICE = "justice", "司法"
    WOMEN = "women", "妇联"
    VILLAGE_COMMITTEE = "village_committee", "村委会"
    LABOUR = "labour", "人社"
    DISABLED = "disabled", "残联"
    YOUTH_LEAGUE = "youth_league", "团委"
    OTHER = "other", "其他"


class Placement(models.TextChoices):
    """复学安置方式 (003)."""

    REGULAR = "regular", "随班就读"
    VOCATIONAL = "vocational", "普职融合"
    GROUP = "group", "集中教育"
    INDIVIDUAL = "individual", "单独教学"
    HOME_TEACHING = "home_teaching", "送教上门"
    SPECIAL_SCHOOL = "special_school", "特殊教育学校"


class Action(models.TextChoices):
    """What happens to a case; every one is a line on its timeline (CaseEvent). ``ALERT`` is
    written by the follow-up watch, not by a person."""

    OPEN = "open", "下达劝返指令"
    ACKNOWLEDGE = "acknowledge", "签收"
    REASSIGN = "reassign", "改派劝返主体"
    NOTICE = "notice", "书面告知"
    TEAM = "team", "调整包保人员"
    PLAN = "plan", "制定劝返方案"
    ACTION = "action", "劝返记录"
    STEP = "step", "推进劝返步骤"
    RETURN = "return", "登记复学"
    DEFER = "defer", "延缓入学或休学"
    ALERT = "alert", "跟踪期旷课预警"
    CLOSE = "close", "结案"
    DOCUMENT = "document", "生成文书"


class DocumentType(models.TextChoices):
    """The printable documents of a case (002; the 责令改正 of 003)."""

    SURVEY = "survey", "辍学学生基本情况调查表"
    RETURN_NOTICE = "return_notice", "辍学劝返复学通知书"
    CORRECTION_ORDER = "correction_order", "责令限期改正通知书"
    ACTION_RECORD = "action_record", "劝返情况记录表"
