from django.db import models


class EntryKind(models.TextChoices):
    """台账类别 (DOMAIN.md §5)."""

    SUSPECTED = "suspected", "疑似辍学"
    DROPOUT = "dropout", "辍学"
    NOT_ENROLLED = "not_enrolled", "未入学"


class Source(models.TextChoices):
    ATTENDANCE = "attendance", "考勤规则"
    SCHOOL_REPORT = "school_report", "学校上报"
    COMPARISON = "comparison", "数据比对"
    MANUAL = "manual", "手工新增"


class RecordCheck(models.TextChoices):
    """学籍核查结果 for a child found outside the ledger (DOMAIN.md §5, 000)."""

    IN_PROVINCE = "in_province", "本省有学籍"
    OUT_OF_PROVINCE = "out_of_province", "外省有学籍"
    NONE = "none", "无学籍"


class Reason(models.TextChoices):
    """辍学原因 (DOMAIN.md §5): one primary reason plus any others."""

    LEARNING = "learning", "学习困难/厌学"
    POVERTY = "poverty", "家庭经济困难"
    WORK = "work", "外出务工"
    EARLY_MARRIAGE = "early_marriage", "早婚早育"
    RELIGION = "religion", "信教"
    HEALTH = "health", "身体原因/残疾"
    DISTANCE = "distance", "上学远/交通不便"
    GUARDIANSHIP = "guardianship", "监护缺失/家庭变故"
    MIGRATION = "migration", "随迁流动"
    EPIDEMIC = "epidemic", "疫情影响"
    OTHER = "other", "其他"


class Whereabouts(models.TextChoices):
    """人员现状."""

    AT_HOME = "at_home", "在家"
    WORKING = "working", "外出务工"
    STUDYING_ELSEWHERE = "studying_elsewhere", "在外地就读"
    MISSING = "missing", "失踪失联"
    OTHER = "other", "其他"


class State(models.TextChoices):
    PENDING = "pending", "待核实"
    EXCLUDED = "excluded", "已排除"
    CONFIRMED = "confirmed", "已确认辍学"
    PERSUADING = "persuading", "劝返中"
    RETURNED = "returned", "已复学（跟踪）"
    PROPOSED = "proposed", "销号待审核"
    CLOSED = "closed", "已销号"


# Entries that still count as the child's open episode.
OPEN_STATES = frozenset(set(State) - {State.EXCLUDED, State.CLOSED})


class ClosureReason(models.TextChoices):
    """销号原因 (DOMAIN.md §5); each needs evidence."""

    RETURNED = "returned", "已复学"
    STUDYING_ELSEWHERE = "studying_elsewhere", "在外地就读"
    SPECIAL_PLACEMENT = "special_placement", "送教上门/特殊教育安置"
    DEFERRED = "deferred", "延缓入学或休学"
    COMPLETED = "completed", "完成义务教育或年满16周岁"
    DECEASED = "deceased", "死亡"
    ABROAD = "abroad", "出国（境）"
    ERROR = "error", "信息错误/重复"


class Action(models.TextChoices):
    """What happens to an entry; every one is a line on its timeline."""

    CREATE = "create", "新增"
    EXCLUDE = "exclude", "核实排除"
    CONFIRM = "confirm", "确认辍学"
    ASSIGN = "assign", "落实劝返主体"
    RETURN = "return", "登记复学"
    PROPOSE = "propose", "申请销号"
    APPROVE = "approve", "批准销号"
    REJECT = "reject", "退回销号申请"
    REOPEN = "reopen", "重新打开"
    REVIEW = "review", "学期分类复核"
    UPDATE = "update", "更新情况"
    FLAG = "flag", "考勤更正待核实"


class ConsistencyProblem(models.TextChoices):
    """人账相符 mismatches between 学籍 and the ledger."""

    DROPOUT_WITHOUT_ENTRY = "dropout_without_entry", "学籍为辍学但台账无在册记录"
    ENTRY_BUT_ENROLLED = "entry_but_enrolled", "台账为辍学但学籍不是辍学"
    RETURNED_NOT_ENROLLED = "returned_not_enrolled", "台账为已复学但学籍不是在读"
    NO_REAL_CHILD = "no_real_child", "在册记录对应的学生已不在校（死亡、毕业或转出）"
    NOT_ENROLLED_BUT_ENROLLED = "not_enrolled_but_enrolled", "未入学记录的孩子已有在读学籍"
