"""The API's scoped pieces: every list and detail, and every related record an input names,
go through the jurisdiction filter."""

from rest_framework import serializers, viewsets

from ..jurisdiction import scope


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
