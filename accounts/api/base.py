"""The API's base pieces: every list and detail, and every related record an input names, go
through the jurisdiction filter; every write asks accounts.permissions."""

from rest_framework import serializers, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import permissions
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


class Permitted(BasePermission):
    """The API's one permission class: it asks accounts.permissions.

    A viewset names the permission action behind each of its actions in
    ``permission_actions`` (view action → one action or a tuple, any of which suffices) and,
    in ``write_permission``, the action every other write needs; reads need nothing more than
    the scope. On a record the check comes after the scoped look-up, so a record outside the
    area is 404 for everyone and a role that sees it but may not act gets 403 with the reason.
    Whether the record's state allows the action is the service's to say (400).
    """

    def _actions(self, request, view) -> tuple[str, ...] | None:
        actions = getattr(view, "permission_actions", {}).get(view.action)
        if actions is None and request.method not in SAFE_METHODS:
            # A viewset that names no write permission takes no writes: () allows nothing.
            actions = getattr(view, "write_permission", None) or ()
        if actions is None:
            return None
        return (actions,) if isinstance(actions, str) else tuple(actions)

    def _allowed(self, request, actions: tuple[str, ...]) -> bool:
        if not actions:
            self.message = "不支持该操作。"
            return False
        reasons = [permissions.refusal(request.user, action) for action in actions]
        if any(reason is None for reason in reasons):
            return True
        self.message = reasons[0]
        return False

    def has_permission(self, request, view):
        actions = self._actions(request, view)
        # On a record: decided once the scoped look-up has found it.
        return actions is None or view.detail or self._allowed(request, actions)

    def has_object_permission(self, request, view, obj):
        actions = self._actions(request, view)
        return actions is None or self._allowed(request, actions)
