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
