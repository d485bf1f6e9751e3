"""Resident ID numbers (GB 11643): normalise, validate, and check against birth date and sex."""

import datetime
import unicodedata
from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from kongchuo.errors import AppError

from .choices import Gender


def normalise_id_number(raw) -> str:
    """Full-width digits and letters to ASCII, spaces and dashes removed, x upper-cased."""
    if raw is None:
        return ""
    text = str(raw)
    if text.isascii() and text.isalnum():  # nearly every number: nothing to normalise
        return text.upper()
    text = unicodedata.normalize("NFKC", text)
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
        _validate(number)
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
    if birth_date is not None and birth_date_of(number) != birth_date:
        raise AppError(
            f"出生日期与身份证号不一致：身份证号中的出生日期为{birth_date_of(number):%Y-%m-%d}。",
            field="birth_date",
        )
    if gender and gender_of(number) != gender:
        raise AppError(
            f"性别与身份证号不一致：身份证号显示为{Gender(gender_of(number)).label}。",
            field="gender",
        )
    return number


def _validate(number: str) -> None:
    """ric.validate, with the costly place-code look-up cached per (area, birth year): a
    roster of 100,000 children repeats a few hundred such pairs."""
    if len(number) != 18:
        raise ric.InvalidLength()
    if not number[:-1].isdigit():
        raise ric.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise ric.InvalidChecksum()
    try:
        birth_date_of(number)
    except ValueError:
        raise ric.InvalidComponent() from None
    if not _place_known(number[:6], number[6:10]):
        raise ric.InvalidComponent()


@lru_cache(maxsize=4096)
def _place_known(area: str, year: str) -> bool:
    try:
        ric.get_birth_place(f"{area}{year}0101000")
    except StdnumError:
        return False
    return True


def gender_of(number: str) -> str:
    """The 17th digit is odd for men, even for women."""
    return Gender.MALE if int(number[16]) % 2 else Gender.FEMALE


def birth_date_of(number: str) -> datetime.date:
    """The birth date in digits 7–14 (ValueError when it is no date)."""
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
