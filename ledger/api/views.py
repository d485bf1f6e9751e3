"""Ledger API: the pages' selectors and services behind /api/v1/ledger-entries/. Every entry
is looked up through the jurisdiction scope first (outside the area: 404), then the caller's
permission is asked (may not act: 403), then the service decides."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.views_log import LoggedDetailMixin

from .. import consistency, permissions, selectors, services
from ..choices import Action
from ..models import LedgerEntry
from . import filters, serializers

# The permission actions behind each write on an entry, and the county's 人账相符 check.
_PERMISSIONS = {
    "create": permissions.CREATE,
    "partial_update": permissions.key(Action.UPDATE),
    "verify": (permissions.key(Action.EXCLUDE), permissions.key(Action.CONFIRM)),
    "confirm": permissions.key(Action.CONFIRM),
    "assign": permissions.key(Action.ASSIGN),
    "record_return": permissions.key(Action.RETURN),
    "propose_closure": permissions.key(Action.PROPOSE),
    "approve": permissions.key(Action.APPROVE),
    "reject": permissions.key(Action.REJECT),
    "reopen": permissions.key(Action.REOPEN),
    "review": permissions.key(Action.REVIEW),
    "consistency_check": permissions.CONSISTENCY,
}


def _action_schema(summary: str, request):
    return extend_schema(
        summary=summary, request=request, responses=serializers.LedgerEntryDetailSerializer
    )


@extend_schema_view(
    list=extend_schema(summary="台账记录列表（按管辖范围，可筛选）"),
    retrieve=extend_schema(summary="台账记录详情（含操作记录和当前可执行的操作）"),
)
class LedgerEntryViewSet(LoggedDetailMixin, ScopedReadOnlyViewSet):
    """Ledger entries of the caller's area. ID numbers and parents' contacts are always
    masked."""

    child_path = "student_id"

    queryset = LedgerEntry.objects.select_related("school", "township", "hukou_region")
    filterset_class = filters.LedgerEntryFilter
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = _PERMISSIONS

    def get_queryset(self):
        # is_overdue (逾期未分类) is computed in SQL for the whole page, as on the pages.
        return selectors.with_overdue(super().get_queryset())

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.LedgerEntrySerializer
        return serializers.LedgerEntryDetailSerializer

    def _incoming(self, serializer_class, request, *, partial=False):
        incoming = serializer_class(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        return incoming

    def _render(self, entry: LedgerEntry, *, status_code=status.HTTP_200_OK) -> Response:
        # Read back through the scoped queryset: the same joins as a detail request.
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(self.get_serializer(entry).data, status=status_code)

    def _act(self, request, serializer_class, service) -> Response:
        """An action on one entry: the scoped look-up and role check, then the service."""
        entry = self.get_object()
        incoming = self._incoming(serializer_class, request)
        return self._render(service(by=request.user, entry=entry, **incoming.validated_data))

    @extend_schema(
        summary="登记台账记录",
        request=serializers.EntryInputSerializer,
        responses={201: serializers.LedgerEntryDetailSerializer},
    )
    def create(self, request):
        incoming = self._incoming(serializers.EntryInputSerializer, request)
        entry = services.entry_create(by=request.user, data=incoming.entry_data())
        return self._render(entry, status_code=status.HTTP_201_CREATED)

    @_action_schema("更新情况（原因、人员现状、措施）", serializers.EntryUpdateSerializer)
    def partial_update(self, request, pk=None):
        entry = self.get_object()
        incoming = self._incoming(serializers.EntryUpdateSerializer, request, partial=True)
        entry = services.entry_update(
            by=request.user, entry=entry, **incoming.update_arguments(entry)
        )
        return self._render(entry)

    # -- the state machine ------------------------------------------------------------------

    @_action_schema("核实疑似辍学：排除或确认辍学", serializers.VerifySerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        entry = self.get_object()
        incoming = self._incoming(serializers.VerifySerializer, request)
        outcome, note = incoming.validated_data["outcome"], incoming.validated_data["note"]
        service = services.entry_exclude if outcome == Action.EXCLUDE else services.entry_confirm
        return self._render(service(by=request.user, entry=entry, note=note))

    @_action_schema("确认辍学", serializers.NoteSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._act(request, serializers.NoteSerializer, services.entry_confirm)

    @_action_schema("落实劝返主体（指定责任乡镇）", serializers.AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._act(request, serializers.AssignSerializer, services.entry_assign)

    @_action_schema("登记复学", serializers.ReturnSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def record_return(self, request, pk=None):
        return self._act(request, serializers.ReturnSerializer, services.entry_return)

    @_action_schema("申请销号（可上传证明材料文件）", serializers.ProposeClosureSerializer)
    @action(detail=True, methods=["post"], url_path="propose-closure")
    def propose_closure(self, request, pk=None):
        return self._act(
            request, serializers.ProposeClosureSerializer, services.entry_propose_closure
        )

    @_action_schema("批准销号", serializers.CommentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._act(request, serializers.CommentSerializer, services.entry_approve)

    @_action_schema("退回销号申请", serializers.CommentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(request, serializers.CommentSerializer, services.entry_reject)

    @_action_schema("重新打开（误排除或复学后再次辍学）", serializers.NoteSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._act(request, serializers.NoteSerializer, services.entry_reopen)

    @_action_schema("学期分类复核", serializers.NoteSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return self._act(request, serializers.NoteSerializer, services.entry_review)

    # -- 人账相符 ----------------------------------------------------------------------------

    @extend_schema(
        summary="人账相符检查（县教体局）", responses=serializers.MismatchSerializer(many=True)
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="consistency",
        filter_backends=[],
        pagination_class=None,
    )
    def consistency_check(self, request):
        mismatches = consistency.for_user(request.user)
        return Response(serializers.MismatchSerializer(mismatches, many=True).data)
