"""Identity documents: resident ID numbers (GB 11643: normalise, validate, and check against
birth date and sex), and the other document types the national 学籍 system knows (issue 18),
each checked for its own shape."""

import datetime
import re
import unicodedata
from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from kongchuo.errors import AppError

from .choices import Gender
from .models import IdType


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
    born = checked_birth_date(number, field=field)
    if birth_date is not None and born != birth_date:
        raise AppError(
            f"出生日期与身份证号不一致：身份证号中的出生日期为{born:%Y-%m-%d}。",
            field="birth_date",
        )
    if gender and gender_of(number) != gender:
        raise AppError(
            f"性别与身份证号不一致：身份证号显示为{Gender(gender_of(number)).label}。",
            field="gender",
        )
    return number


def checked_birth_date(number: str, *, field: str = "id_number") -> datetime.date:
    """The birth date in a normalised resident ID number that passes the GB 11643 checks,
    or AppError naming what is wrong (validate_id_number without normalising again)."""
    try:
        return _validate(number)
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


def _validate(number: str) -> datetime.date:
    """ric.validate, with the costly place-code look-up cached per (area, birth year): a
    roster of 100,000 children repeats a few hundred such pairs. Gives the birth date."""
    if len(number) != 18:
        raise ric.InvalidLength()
    if not number[:-1].isdigit():
        raise ric.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise ric.InvalidChecksum()
    try:
        born = birth_date_of(number)
    except ValueError:
        raise ric.InvalidComponent() from None
    if not _place_known(number[:6], number[6:10]):
        raise ric.InvalidComponent()
    return born


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


# The shapes of the other documents (normalised: upper case, no spaces, dashes or brackets).
# 港澳台居民居住证 numbers are 18 digits with the place codes 810000 (Hong Kong), 820000
# (Macao) and 830000 (Taiwan); they carry the GB 11643 check digit like a 居民身份证.
_SHAPES: dict[str, tuple[tuple[re.Pattern, ...], str]] = {
    IdType.HONG_KONG: (
        (
            re.compile(r"[A-Z]{1,2}\d{6}[0-9A]"),  # 香港身份证 A123456(7)
            re.compile(r"[HK]\d{8}(\d{2})?"),  # 港澳居民来往内地通行证, 特区护照 K12345678
            re.compile(r"810000\d{11}[\dX]"),  # 港澳台居民居住证
        ),
        "香港身份证如 A123456(7)，来往内地通行证如 H12345678，居住证为810000开头的18位",
    ),
    IdType.MACAO: (
        (
            re.compile(r"[157]\d{6}\d"),  # 澳门身份证 1234567(8)
            re.compile(r"M\d{8}(\d{2})?"),  # 港澳居民来往内地通行证
            re.compile(r"MA\d{7}"),  # 澳门特区护照
            re.compile(r"820000\d{11}[\dX]"),
        ),
        "澳门身份证如 1234567(8)，来往内地通行证如 M12345678，居住证为820000开头的18位",
    ),
    IdType.TAIWAN: (
        (
            re.compile(r"\d{8}"),  # 台湾居民来往大陆通行证 (卡式)
            re.compile(r"\d{10}([A-Z])?"),  # 本式通行证 (旧)
            re.compile(r"830000\d{11}[\dX]"),
        ),
        "台湾居民来往大陆通行证为8位数字，居住证为830000开头的18位",
    ),
    IdType.PERMANENT_RESIDENCE: (
        (
            re.compile(r"[A-Z]{3}\d{12}"),  # 外国人永久居留证 (2017 年前), USA123456789012
            re.compile(r"9\d{16}[\dX]"),  # 外国人永久居留身份证 (2023 年起)
        ),
        "外国人永久居留证为3个字母加12位数字，或9开头的18位",
    ),
    IdType.PASSPORT: (
        (re.compile(r"(?=.*\d)[A-Z0-9]{5,17}"),),
        "护照号码为5–17位字母和数字",
    ),
    IdType.OTHER: ((re.compile(r"[A-Z0-9]{1,18}"),), "其他证件号码为最多18位的字母和数字"),
}


def document_number(raw) -> str:
    """A document number as stored: ``normalise_id_number``, brackets dropped (A123456(7)
    is A1234567)."""
    return re.sub(r"[()（）\[\]]", "", normalise_id_number(raw))


# The documents a list without a 身份证件类型 column can be told by their shape alone (a
# passport's is too loose: a mistyped ID number would pass for one).
SHAPED_TYPES = (IdType.HONG_KONG, IdType.MACAO, IdType.TAIWAN, IdType.PERMANENT_RESIDENCE)


def has_document_shape(number: str) -> bool:
    """Whether ``number`` (a ``document_number``) has the shape of one of SHAPED_TYPES
    (some shapes are shared: an 8-digit number may be Macao's or Taiwan's)."""
    return any(
        pattern.fullmatch(number) for id_type in SHAPED_TYPES for pattern in _SHAPES[id_type][0]
    )


def validate_document(
    id_type: str,
    raw,
    *,
    birth_date: datetime.date | None = None,
    gender: str | None = None,
    field: str = "id_number",
) -> str:
    """The normalised number of a ``id_type`` document, or AppError naming what is wrong.
    GB 11643 for a 居民身份证 (and for the 港澳台 居住证, which follow it); the other types
    by their shape. Only a 居民身份证 or an 其他 document may lack the number (the child is
    flagged; for 其他, the school's proof stands for it)."""
    if id_type == IdType.RESIDENT:
        return validate_id_number(raw, birth_date=birth_date, gender=gender, field=field)
    label = IdType(id_type).label
    number = document_number(raw)
    if not number:
        if id_type == IdType.OTHER:
            return ""
        raise AppError(f"身份证件类型为“{label}”时请填写证件号码。", field=field)
    patterns, example = _SHAPES[id_type]
    if not any(pattern.fullmatch(number) for pattern in patterns):
        raise AppError(f"“{number}”不是有效的{label}号码：{example}。", field=field)
    residence_permit = len(number) == 18 and number[:6] in ("810000", "820000", "830000")
    if residence_permit and number[-1] != ric.calc_check_digit(number):
        raise AppError("居住证号码校验位不正确，请核对号码。", field=field)
    return number
