"""Shared pieces of the REST API: the error format and the scoped base viewset."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status, viewsets
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
