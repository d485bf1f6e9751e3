from django.db import models


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Status(models.TextChoices):
    """学籍状态 (DOMAIN.md §3). 送教上门 counts as enrolled."""

    ENROLLED = "enrolled", "在读"
    SUSPENDED = "suspended", "休学"
    TRANSFERRED_OUT = "transferred_out", "转出"
    DROPPED_OUT = "dropped_out", "辍学"
    GRADUATED = "graduated", "毕业"
    DECEASED = "deceased", "死亡"
    HOME_TAUGHT = "home_taught", "送教上门"
    # A duplicate record merged into another (students.merge): kept for history, not listed.
    MERGED = "merged", "已合并"


ENROLLED_STATUSES = frozenset({Status.ENROLLED, Status.HOME_TAUGHT})


class EventKind(models.TextChoices):
    """学籍异动. Events are never edited; the student's status is derived from them."""

    ENROL = "enrol", "入学注册"
    TRANSFER_IN = "transfer_in", "转入"
    TRANSFER_OUT = "transfer_out", "转出"
    SUSPEND = "suspend", "休学"
    RESUME = "resume", "复学"
    DROP_OUT = "drop_out", "辍学"
    GRADUATE = "graduate", "毕业"
    DEATH = "death", "死亡"
    HOME_TEACHING = "home_teaching", "送教上门"
    # Recorded only by students.merge on the record merged into another.
    MERGE = "merge", "合并重复记录"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "待接收"
    ACCEPTED = "accepted", "已接收"
    REJECTED = "rejected", "已退回"


class KeyGroup(models.TextChoices):
    """重点群体 (DOMAIN.md §3); each is a boolean field of Student with the same name."""

    POVERTY_REGISTERED = "poverty_registered", "建档立卡/脱贫家庭"
    RELAPSE_MONITORED = "relapse_monitored", "防止返贫监测对象"
    LOW_INCOME = "low_income", "低收入农户"
    LEFT_BEHIND = "left_behind", "农村留守儿童"
    MIGRANT = "migrant", "随迁子女"
    DISABLED = "disabled", "残疾"
    LEARNING_DIFFICULTY = "learning_difficulty", "学习困难"
    FINANCIAL_HARDSHIP = "financial_hardship", "家庭经济困难"
    PARENT_IN_PRISON = "parent_in_prison", "服刑人员未成年子女"
    ORPHAN = "orphan", "孤儿/事实无人抚养"


class DisabilityType(models.TextChoices):
    VISUAL = "visual", "视力残疾"
    HEARING = "hearing", "听力残疾"
    SPEECH = "speech", "言语残疾"
    PHYSICAL = "physical", "肢体残疾"
    INTELLECTUAL = "intellectual", "智力残疾"
    MENTAL = "mental", "精神残疾"
    MULTIPLE = "multiple", "多重残疾"


class DisabilityGrade(models.IntegerChoices):
    ONE = 1, "一级"
    TWO = 2, "二级"
    THREE = 3, "三级"
    FOUR = 4, "四级"


ETHNIC_GROUPS = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族",
    "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族",
    "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
]  # fmt: skip
# GB/T 3304's two entries beyond the 56 (codes 97 and 98), which the national 学籍 system uses.
OTHER_ETHNICITIES = ["其他", "外国血统中国籍人士"]

GUARDIAN_RELATIONS = [
    "父亲",
    "母亲",
    "祖父",
    "祖母",
    "外祖父",
    "外祖母",
    "兄姐",
    "其他亲属",
    "其他监护人",
]
