"""Valid, unique test students. ID numbers are computed (GB 11643 checksum), never typed."""

import datetime
import itertools

from stdnum.cn import ric

from accounts.models import Region, School
from students.services import GuardianData, StudentData

_serial = itertools.count(1)


def id_number(birth: datetime.date, gender: str = "M", area: str = "532926") -> str:
    """A valid ID number for ``birth`` and ``gender`` (odd 17th digit for boys)."""
    n = next(_serial)
    sequence = (n * 2 + (1 if gender == "M" else 0)) % 1000
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # it ignores the last character


def student_data(
    school: School, *, grade: int = 3, gender: str = "M", with_id: bool = True, **overrides
) -> StudentData:
    birth = datetime.date(2026 - grade - 6, 3, 14)
    township = Region.objects.get(pk=school.township_id)
    values = {
        "name": "李小明",
        "gender": gender,
        "birth_date": birth,
        "school": school,
        "grade": grade,
        "id_number": id_number(birth, gender, township.code[:6]) if with_id else "",
        "ethnicity": "彝族",
        "hukou_region": township,
        "guardians": [GuardianData(name="李大山", relation="父亲", phone="13812345678")],
    }
    values.update(overrides)
    return StudentData(**values)
