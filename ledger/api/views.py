"""Ledger API: the pages' selectors and services behind /api/v1/ledger-entries/. Every entry
is looked up through the jurisdiction scope first (outside the area: 404), then the caller's
role is checked against the state machine (may not act: 403), then the service decides."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.api.base import ScopedReadOnlyViewSet

from .. import consistency, services
from ..choices import Action
from ..models import LedgerEntry
from ..transitions import COUNTY, CREATORS, may, refusal
from . import filters, serializers

# The ledger actions behind each write on an entry (view action → state machine actions).
_WRITES = {
    "partial_update": (Action.UPDATE,),
    "verify": (Action.EXCLUDE, Action.CONFIRM),
    "confirm": (Action.CONFIRM,),
    "assign": (Action.ASSIGN,),
    "record_return": (Action.RETURN,),
    "propose_closure": (Action.PROPOSE,),
    "approve": (Action.APPROVE,),
    "reject": (Action.REJECT,),
    "reopen": (Action.REOPEN,),
    "review": (Action.REVIEW,),
}


class TakesLedgerActions(BasePermission):
    """Writes are for the roles ledger.transitions names: creating for CREATORS, each action
    for its roles. On an entry the check comes after the scoped look-up, so an entry outside
    the area is 404 for everyone and a role that sees it but may not act gets 403."""

    message = "当前账号的角色不能登记台账记录。"

    def has_permission(self, request, view):
        return view.action != "create" or request.user.role in CREATORS

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        actions = _WRITES[view.action]
        if any(may(request.user, ledger_action) for ledger_action in actions):
            return True
        self.message = refusal(actions[0], obj.state, request.user)
        return False


class CountyOnly(BasePermission):
    message = "只有县教体局可以查看人账相符检查结果。"

    def has_permission(self, request, view):
        return request.user.role in COUNTY


def _action_schema(summary: str, request):
    return extend_schema(
        summary=summary, request=request, responses=serializers.LedgerEntryDetailSerializer
    )


@extend_schema_view(
    list=extend_schema(summary="台账记录列表（按管辖范围，可筛选）"),
    retrieve=extend_schema(summary="台账记录详情（含操作记录和当前可执行的操作）"),
)
class LedgerEntryViewSet(ScopedReadOnlyViewSet):
    """Ledger entries of the caller's area. ID numbers and parents' contacts are always
    masked."""

    queryset = LedgerEntry.objects.select_related("school", "township", "hukou_region")
    filterset_class = filters.LedgerEntryFilter
    permission_classes = [IsAuthenticated, TakesLedgerActions]

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
        permission_classes=[IsAuthenticated, CountyOnly],
        filter_backends=[],
        pagination_class=None,
    )
    def consistency_check(self, request):
        mismatches = consistency.for_user(request.user)
        return Response(serializers.MismatchSerializer(mismatches, many=True).data)
