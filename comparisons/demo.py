"""A demo 公安户籍 list for each county, uploaded and compared through the services, so that
``make run`` shows a comparison's results: most children match the county's students, two of
school age have no 学籍 (未入学 candidates) and one is written with a full-width space and no
ID number (a weak match to confirm)."""

import datetime

from django.utils import timezone
from stdnum.cn import ric

from accounts.choices import Role
from accounts.models import User
from students.choices import Status
from students.models import Student

from . import sources
from .choices import SourceKind
from .tasks import run_comparison

_UNENROLLED = (("杨小雨", "F"), ("罗子轩", "M"))


def _id_number(area: str, birth: datetime.date, serial: int, gender: str) -> str:
    # Serials from 900 up: the demo students' own numbers stay below.
    body = f"{area}{birth:%Y%m%d}{900 + serial * 2 + (gender == 'M'):03d}"
    return body + ric.calc_check_digit(body + "0")


def _rows(county: User) -> list[dict]:
    students = list(
        Student.objects.filter(
            school__township__code__startswith=county.region.code, status=Status.ENROLLED
        )
        .filter(id_number__isnull=False)
        .select_related("hukou_region")
        .prefetch_related("guardians")
        .order_by("id")[:31]
    )
    # The last one is on the list only as a weak match: by name and birth date, no ID number.
    students, twin = students[:-1], (students[-1] if len(students) == 31 else None)
    rows = [
        {
            "name": student.name,
            "id_number": student.id_number,
            "birth_date": student.birth_date.isoformat(),
            "gender": student.gender,
            "region": student.hukou_region.code if student.hukou_region_id else "",
            "guardian": next((g.name for g in student.guardians.all()), ""),
        }
        for student in students
    ]
    township = students[0].hukou_region.code if students and students[0].hukou_region_id else ""
    # A school-age child: 6 by last 31 August (DOMAIN.md §3).
    year = timezone.localdate().year - 7
    for serial, (name, gender) in enumerate(_UNENROLLED):
        birth = datetime.date(year, 3 + serial, 12)
        rows.append(
            {
                "name": name,
                "id_number": _id_number(county.region.code, birth, serial, gender),
                "birth_date": birth.isoformat(),
                "gender": gender,
                "region": township,
                "guardian": "杨大勇" if serial == 0 else "罗建华",
            }
        )
    if twin is not None:
        rows.append(
            {
                "name": " ".join(twin.name),  # written with spaces, no ID number
                "id_number": "",
                "birth_date": twin.birth_date.isoformat(),
                "gender": twin.gender,
                "region": twin.hukou_region.code if twin.hukou_region_id else "",
                "guardian": next((g.name for g in twin.guardians.all()), ""),
            }
        )
    return rows


def build_lists() -> int:
    """Upload and compare one household list per county; the number of mismatches found."""
    found = 0
    for county in User.objects.filter(role=Role.COUNTY_STAFF).select_related("region"):
        result = sources.source_upload(
            by=county, kind=SourceKind.HOUSEHOLD, rows=_rows(county), name="演示户籍名单"
        )
        if result.run is not None:
            run_comparison(result.run.pk)  # at once: the demo needs no worker to show it
            found += result.run.mismatches.count()
    return found
