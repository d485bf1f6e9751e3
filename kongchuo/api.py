"""Shared pieces of the REST API: the error format and the scoped base viewset."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.jurisdiction import scope
from kongchuo.errors import AppError


def exception_handler(exc, context):
    """Errors are JSON: ``detail`` for a summary, ``errors`` keyed by field name."""
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


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Every API list and detail goes through the jurisdiction filter; out of area is 404."""

    def get_queryset(self):
        return scope(self.request.user, super().get_queryset())


class _InCallersArea:
    """A related field whose records are looked up only inside the caller's area: one that
    does not exist and one that is not the caller's get the same field error."""

    def get_queryset(self):
        return scope(self.context["request"].user, super().get_queryset())


class ScopedPrimaryKeyRelatedField(_InCallersArea, serializers.PrimaryKeyRelatedField):
    """A related record by id, inside the caller's area."""

    def __init__(self, *, what: str, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": f"{what}“{{pk_value}}”不存在或不在您的管辖范围内。",
                "incorrect_type": f"{what}应填写数字编号。",
            },
        )
        super().__init__(**kwargs)


class ScopedCodeRelatedField(_InCallersArea, serializers.SlugRelatedField):
    """A related record by its official code, inside the caller's area."""

    def __init__(self, *, what: str, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": f"{what}代码“{{value}}”不存在或不在您的管辖范围内。",
                "invalid": f"{what}代码无效。",
            },
        )
        super().__init__(**kwargs)


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
