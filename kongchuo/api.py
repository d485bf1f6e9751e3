"""Shared pieces of the REST API: the error format and folding a code into an id. The scoped
base viewset and related fields live with jurisdiction, in ``accounts.api.base``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kongchuo.errors import AppError

# One answer for every record that is missing or outside the caller's area: Django's own
# message ("No Student matches the given query.") would name an internal model.
NOT_FOUND_MESSAGE = "未找到该记录。"
# The longest free text (a note, a result) an input takes.
NOTE_LENGTH = 2000


def optional_text(label: str, max_length: int = NOTE_LENGTH) -> serializers.CharField:
    """Optional free text; where the service requires it, it says so with the field name."""
    return serializers.CharField(label=label, max_length=max_length, allow_blank=True, default="")


def exception_handler(exc, context):
    """Errors are JSON: ``detail`` for a summary, ``errors`` keyed by field name."""
    if isinstance(exc, Http404):
        exc = NotFound(NOT_FOUND_MESSAGE)
    if isinstance(exc, DjangoValidationError):
        exc = AppError.from_validation(exc)
    if isinstance(exc, AppError):
        return Response(
            {"detail": exc.message, "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"detail": "提交的数据有误，请按字段提示修改。", "errors": errors}
    return response


def by_id_or_code(attrs: dict, field: str, what: str) -> None:
    """Fold ``<field>_code`` into ``<field>``; the two must agree when both are given."""
    by_code = attrs.pop(f"{field}_code", None)
    if by_code is None:
        return
    if attrs.get(field) not in (None, by_code):
        raise serializers.ValidationError(
            {f"{field}_code": [f"{what}代码与{what}编号（{field}）指向的不是同一个{what}。"]}
        )
    attrs[field] = by_code


class BlankAsNullChoiceField(serializers.ChoiceField):
    """An optional choice as the API answers it: a blank one is null, not "" (which is none
    of the choices, so a client checking the schema's enum would reject the record)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)
