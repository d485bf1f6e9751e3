from django.db import models


class Mark(models.TextChoices):
    """考勤状态 (DOMAIN.md §4). Only unexcused absence counts towards 疑似辍学; late and
    either kind of leave break a run like presence does."""

    PRESENT = "present", "出勤"
    LATE = "late", "迟到"
    SICK = "sick", "病假"
    PERSONAL = "personal", "事假"
    UNEXCUSED = "unexcused", "旷课"


# What is stored: one row per student who was not simply present.
NOT_PRESENT = frozenset(set(Mark) - {Mark.PRESENT})
# Away from school (the day's absences): either kind of leave, or unexcused.
ABSENT = frozenset({Mark.SICK, Mark.PERSONAL, Mark.UNEXCUSED})


class WatchReason(models.TextChoices):
    """Why a child is on the watch list (重点监测, DOMAIN.md §4b). Each is one signal of
    ``attendance.signals``, computed for whole counties in the database."""

    KEY_GROUP = "key_group", "重点群体"
    UNEXCUSED = "unexcused", "旷课增多"
    RATE = "rate", "出勤率下降"
    LEARNING = "learning", "学习困难"
    RETURNED = "returned", "劝返复学跟踪"
    EPISODE = "episode", "曾辍学"
    LATENESS = "lateness", "经常迟到未说明原因"


class MeasureKind(models.TextChoices):
    """控辍保学措施 taken for a watched child (DOMAIN.md §4b)."""

    PAIRING = "pairing", "结对帮扶"
    HOME_VISIT = "home_visit", "家访"
    AID = "aid", "资助"
    COUNSELLING = "counselling", "心理辅导/谈心"
    OTHER = "other", "其他"
