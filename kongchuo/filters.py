"""Strict query-parameter filters shared by every API list, and the pages' id parameter.

django-filter's defaults are lenient in ways a sync client cannot see: a ``NumberFilter`` takes
``1.5`` or ``-1.19e+245`` and hands the database a number no id column can hold (a 500 on
SQLite), and a ``BooleanFilter`` silently ignores ``?unread=yes``. These refuse a value of the
wrong type with a 400 that names the parameter (the DRF filter backend turns the form's errors
into a ValidationError, which kongchuo.api renders as ``{"detail": …, "errors": {name: […]}}``).
"""

import datetime

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

# Ids are BigAutoField values: positive and no larger than a signed 64-bit integer, on SQLite
# and PostgreSQL alike.
MAX_ID = 2**63 - 1
# The pages' value for an id parameter that no record can have: truthy (so selectors apply it)
# and inside the column's range, so the query simply finds nothing.
NO_MATCH = -1

ID_MESSAGE = f"应为正整数编号（1 到 {MAX_ID}）。"
POSITIVE_INTEGER_MESSAGE = "应为正整数。"
BOOLEAN_MESSAGE = "应为 true、false、1 或 0。"
DATE_MESSAGE = "应为 YYYY-MM-DD 格式的日期，例如 2026-09-01。"
DATETIME_MESSAGE = "应为 ISO 8601 格式的时间，例如 2026-09-01T08:00:00+08:00。"


def page_integer(raw) -> int | None:
    """A positive whole number from a page's query parameter (an id, a grade).

    Not given: None (no filter). Anything that cannot be such a number (``abc``, ``²``,
    ``99999999999999999999``) matches nothing, as an id that does not exist does, instead of
    reaching the database as a value its column cannot hold.
    """
    value = str(raw if raw is not None else "").strip()
    if not value:
        return None
    number = _whole_number(value)
    return number if number is not None and 1 <= number <= MAX_ID else NO_MATCH


def _whole_number(text: str) -> int | None:
    """ASCII digits as an int; None for anything else. Longer than any id is MAX_ID + 1, so
    that Python is never asked to convert thousands of digits (it refuses, with ValueError)."""
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    return MAX_ID + 1 if len(digits) > len(str(MAX_ID)) else int(digits)


class PositiveIntegerField(forms.IntegerField):
    """Digits only, 1 … 2**63−1: no ``1.0``, no exponent, nothing a bigint cannot hold."""

    message = POSITIVE_INTEGER_MESSAGE

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
        for code in ("invalid", "min_value", "max_value"):
            self.error_messages[code] = self.message

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = _whole_number(str(value).strip())
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IdField(PositiveIntegerField):
    message = ID_MESSAGE


class PositiveIntegerFilter(django_filters.NumberFilter):
    """A whole number such as a grade or a school year: ``1.5`` is refused, not rounded."""

    field_class = PositiveIntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The schema says integer 1 … 2**63−1 (NumberFilter's would say any number). Set on
        # the instance, so that each parameter keeps its own label as description.
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        if self.label:
            schema["description"] = str(self.label)
        extend_schema_field(schema)(self)

    def get_max_validator(self):
        # The field has its own bound; NumberFilter's 1e50 would repeat the message.
        return None


class IdFilter(PositiveIntegerFilter):
    """A record's id, compared as a number and never looked up: an id outside the caller's
    area simply matches nothing, the same as one that does not exist."""

    field_class = IdField


class StrictBooleanField(forms.Field):
    default_error_messages = {"invalid": BOOLEAN_MESSAGE}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, bool):
            return value
        try:
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        # None is "not given"; False is a real answer, not a missing one.
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    """true/false/1/0 (any case); anything else is a 400 instead of being ignored."""

    field_class = StrictBooleanField


class IsoDateField(forms.DateField):
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": DATE_MESSAGE}


class DateFilter(django_filters.DateFilter):
    """A date as YYYY-MM-DD only, whatever the locale's other input formats."""

    field_class = IsoDateField


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    default_error_messages = {"invalid": DATETIME_MESSAGE}

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        # PostgreSQL refuses offsets beyond ±15:59 that Python accepts (-17:43); compared in
        # UTC the offset never reaches the database.
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time (e.g. ``updated_since``), any offset, compared in UTC."""

    field_class = UtcIsoDateTimeField
