"""Demo attendance: the rolls of the last school days at the first township's schools,
taken through the service by each school's principal, so that the attendance pages, the
warnings and the 疑似辍学 rule have something to show. Today's roll is left for the visitor."""

import datetime
import random

from django.utils import timezone

from accounts.choices import RegionLevel
from accounts.models import Region, User
from students import calendar

from . import selectors, services
from .choices import Mark

ATTENDANCE_DAYS = 10
ABSENCE_RATE = 0.04
_OTHER_MARKS = (Mark.LATE, Mark.SICK, Mark.PERSONAL, Mark.UNEXCUSED)


def build_attendance(*, seed: int = 1, today: datetime.date | None = None) -> int:
    """Take the demo rolls; returns how many roll calls were submitted. In each school one
    pupil misses the last three days without reason (the rule flags them) and one the last
    two (the roll page warns)."""
    rng = random.Random(seed)  # noqa: S311 — deterministic demo data, not secrets
    today = today or timezone.localdate()
    township = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code").first()
    if township is None:
        return 0
    submitted = 0
    for school in township.schools.order_by("code"):
        principal = User.objects.filter(school=school, role="principal").first()
        days = calendar.calendar_for(school).previous_school_days(today, ATTENDANCE_DAYS)
        classes = [k for k in school.classes.order_by("grade", "name") if selectors.roster(k)]
        if principal is None or not days or not classes:
            continue
        truant, wavering = selectors.roster(classes[0])[:2]
        for day in days:
            for klass in classes:
                marks = {
                    pupil.pk: rng.choice(_OTHER_MARKS)
                    for pupil in selectors.roster(klass)
                    if rng.random() < ABSENCE_RATE
                }
                if klass == classes[0]:
                    marks.pop(truant.pk, None)
                    marks.pop(wavering.pk, None)
                    if day in days[-3:]:
                        marks[truant.pk] = Mark.UNEXCUSED
                    if day in days[-2:]:
                        marks[wavering.pk] = Mark.UNEXCUSED
                services.submit(
                    by=principal,
                    klass=klass,
                    day=day,
                    marks=[services.MarkData(pk, status) for pk, status in marks.items()],
                )
                submitted += 1
    return submitted
