"""Resident ID numbers (GB 11643): normalise, validate, and check against birth date and sex."""

import datetime
import unicodedata

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from kongchuo.errors import AppError

from .choices import Gender


def normalise_id_number(raw) -> str:
    """Full-width digits and letters to ASCII, spaces and dashes removed, x upper-cased."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_").upper()


def validate_id_number(
    raw,
    *,
    birth_date: datetime.date | None = None,
    gender: str | None = None,
    field: str = "id_number",
) -> str:
    """The normalised number, or AppError naming what is wrong. Empty input returns ""
    (a child without an ID number is allowed and flagged)."""
    number = normalise_id_number(raw)
    if not number:
        return ""
    try:
        ric.validate(number)
    except ric.InvalidLength:
        raise AppError(f"身份证号应为18位，当前为{len(number)}位。", field=field) from None
    except ric.InvalidChecksum:
        raise AppError("身份证号校验位不正确，请核对号码。", field=field) from None
    except ric.InvalidComponent:
        raise AppError("身份证号中的出生日期或地区代码无效。", field=field) from None
    except StdnumError:
        raise AppError(
            "身份证号格式不正确：前17位应为数字，最后一位为数字或X。", field=field
        ) from None
    if birth_date is not None and ric.get_birth_date(number) != birth_date:
        raise AppError(
            f"出生日期与身份证号不一致：身份证号中的出生日期为{ric.get_birth_date(number):%Y-%m-%d}。",
            field="birth_date",
        )
    if gender and gender_of(number) != gender:
        raise AppError(
            f"性别与身份证号不一致：身份证号显示为{Gender(gender_of(number)).label}。",
            field="gender",
        )
    return number


def gender_of(number: str) -> str:
    """The 17th digit is odd for men, even for women."""
    return Gender.MALE if int(number[16]) % 2 else Gender.FEMALE


def birth_date_of(number: str) -> datetime.date:
    return ric.get_birth_date(number)
