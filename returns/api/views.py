"""劝返 case API: the pages' selectors and services behind /api/v1/return-cases/. Every case
is looked up through the jurisdiction scope first (outside the area: 404), then who asks
(returns.permissions.who_refusal: a role that may not act, or one that does not work the
case: 403), then the service decides, the case's state included (400)."""

import io

from django.db.models import Prefetch
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from accounts import permissions as account_permissions
from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.views_log import LoggedDetailMixin
from kongchuo.offline import Conflict

from .. import documents, permissions, selectors, services
from ..choices import Action
from ..models import CaseAction, ReturnCase
from . import filters, serializers

# The case action behind each write of the API (returns.transitions.TRANSITIONS).
_CASE_ACTIONS = {
    "acknowledge": Action.ACKNOWLEDGE,
    "reassign": Action.REASSIGN,
    "notice": Action.NOTICE,
    "team": Action.TEAM,
    "plan": Action.PLAN,
    "actions": Action.ACTION,
    "offline_visit": Action.ACTION,
    "step": Action.STEP,
    "record_return": Action.RETURN,
    "defer": Action.DEFER,
    "close": Action.CLOSE,
}
_PERMISSIONS = {
    "create": permissions.key(Action.OPEN),
    "documents": permissions.DOCUMENT,
    **{view: permissions.key(case_action) for view, case_action in _CASE_ACTIONS.items()},
}

_ACTIONS = CaseAction.objects.select_related("recorded_by").prefetch_related(
    "participants", "attachments"
)


class CasePermitted(Permitted):
    """Permitted, asked with the case: reads need only the scope; a case action is refused
    (403) when the caller may not take it on this case whatever its state, and a document
    when they may not print this case's documents."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or super().has_permission(request, view)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        case_action = _CASE_ACTIONS.get(view.action)
        if case_action is not None:
            reason = permissions.who_refusal(request.user, obj, case_action)
        else:
            reason = account_permissions.refusal(
                request.user, view.permission_actions[view.action], obj
            )
        if reason is None:
            return True
        self.message = reason
        return False


def _action_schema(summary: str, request):
    return extend_schema(
        summary=summary, request=request, responses=serializers.ReturnCaseDetailSerializer
    )


@extend_schema_view(
    list=extend_schema(summary="劝返案件列表（按管辖范围，可筛选）"),
    retrieve=extend_schema(
        summary="劝返案件详情（包保小组、方案各版本、劝返记录、时间线、文书、可执行的操作）"
    ),
)
class ReturnCaseViewSet(LoggedDetailMixin, ScopedReadOnlyViewSet):
    """劝返 cases of the caller's area. The child's ID number is always masked."""

    child_path = "entry__student_id"

    queryset = ReturnCase.objects.all()
    filterset_class = filters.ReturnCaseFilter
    permission_classes = [IsAuthenticated, CasePermitted]
    permission_actions = _PERMISSIONS

    def get_queryset(self):
        # selectors.cases scopes to the caller's area and annotates ``urgency``.
        cases = selectors.cases(self.request.user)
        if self.action == "list":
            return cases
        return cases.select_related(
            "instructed_by", "acknowledged_by", "return_school"
        ).prefetch_related(
            "members__user",
            "plans__author",
            Prefetch("actions", queryset=_ACTIONS),
            "documents__generated_by",
        )

    def filter_queryset(self, queryset):
        # The filters are the list's: a case's own URL is looked up in the area as loaded above,
        # its team, plans and actions prefetched.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.ReturnCaseSerializer
        return serializers.ReturnCaseDetailSerializer

    def _incoming(self, serializer_class, request, case: ReturnCase | None = None):
        context = {**self.get_serializer_context(), "case": case}
        incoming = serializer_class(data=request.data, context=context)
        incoming.is_valid(raise_exception=True)
        return incoming

    def _render(self, case: ReturnCase, *, status_code=status.HTTP_200_OK) -> Response:
        # Read back through the scoped queryset: the same joins as a detail request.
        case = self.get_queryset().get(pk=case.pk)
        return Response(self.get_serializer(case).data, status=status_code)

    def _act(self, request, serializer_class, service, **renamed) -> Response:
        """An action on one case: the scoped look-up and the check of who asks, then the
        service with the input's fields (``renamed``: input field → service argument)."""
        case = self.get_object()
        values = dict(self._incoming(serializer_class, request, case).validated_data)
        for field, argument in renamed.items():
            values[argument] = values.pop(field)
        service(by=request.user, case=case, **values)
        return self._render(case)

    @extend_schema(
        summary="下达劝返指令（从已确认辍学的台账记录）",
        request=serializers.CaseOpenSerializer,
        responses={201: serializers.ReturnCaseDetailSerializer},
    )
    def create(self, request):
        values = self._incoming(serializers.CaseOpenSerializer, request).validated_data
        case = services.case_open(by=request.user, **values)
        return self._render(case, status_code=status.HTTP_201_CREATED)

    @_action_schema("签收劝返指令（责任乡镇）", serializers.CaseNoteSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(request, serializers.CaseNoteSerializer, services.case_acknowledge)

    @_action_schema("改派劝返主体（县教体局）", serializers.CaseReassignSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self._act(request, serializers.CaseReassignSerializer, services.case_reassign)

    @_action_schema("书面告知其他乡镇或县", serializers.CaseNoticeSerializer)
    @action(detail=True, methods=["post"])
    def notice(self, request, pk=None):
        return self._act(request, serializers.CaseNoticeSerializer, services.case_notice)

    @_action_schema("调整包保小组（结对包保）", serializers.CaseTeamSerializer)
    @action(detail=True, methods=["post"])
    def team(self, request, pk=None):
        case = self.get_object()
        incoming = self._incoming(serializers.CaseTeamSerializer, request, case)
        services.team_set(by=request.user, case=case, members=incoming.team())
        return self._render(case)

    @_action_schema(
        "制定劝返方案（一人一案，每次保存为新版本）", serializers.CasePlanInputSerializer
    )
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        return self._act(request, serializers.CasePlanInputSerializer, services.plan_save)

    @extend_schema(
        methods=["GET"],
        summary="劝返记录（新的在前）",
        responses=serializers.CaseActionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="登记劝返记录（上门、电话、约谈、联合劝返；照片或PDF以 multipart 上传）",
        request={"multipart/form-data": serializers.CaseActionInputSerializer},
        responses={201: serializers.CaseActionSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        filter_backends=[],
        pagination_class=None,
    )
    def actions(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            recorded = _ACTIONS.filter(case=case)
            return Response(serializers.CaseActionSerializer(recorded, many=True).data)
        values = self._incoming(serializers.CaseActionInputSerializer, request, case).validated_data
        recorded = services.action_record(by=request.user, case=case, **values)
        shown = serializers.CaseActionSerializer(_ACTIONS.get(pk=recorded.pk))
        return Response(shown.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="上传离线登记的劝返记录（同一离线编号重复提交结果相同；案件已变动则返回409）",
        request={"multipart/form-data": serializers.OfflineVisitInputSerializer},
        responses={
            200: serializers.OfflineVisitResultSerializer,
            409: OpenApiResponse(description="案件在手机离线期间已变动：附服务器上的案件"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="offline-visit",
        url_name="offline-visit",
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        filter_backends=[],
        pagination_class=None,
    )
    def offline_visit(self, request, pk=None):
        # A case reassigned out of the caller's area after they worked it is still found (its
        # 409 tells only where it went); for anyone else outside the area it is a 404.
        left = services.left_case(request.user, pk)
        case = left or self.get_object()
        values = self._incoming(serializers.OfflineVisitInputSerializer, request, case)
        try:
            result = services.action_record_offline(
                by=request.user, case=case, **values.validated_data
            )
        except Conflict as conflict:
            server = conflict.current
            if left is None:
                server = serializers.ReturnCaseSerializer(
                    self.get_queryset().get(pk=case.pk), context=self.get_serializer_context()
                ).data
            return Response(
                {
                    "detail": conflict.message,
                    "errors": conflict.errors,
                    "server": server,
                    "base": conflict.base,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(serializers.OfflineVisitResultSerializer(result).data)

    @_action_schema("推进劝返步骤（四步法，只进不退）", serializers.CaseStepSerializer)
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        return self._act(
            request, serializers.CaseStepSerializer, services.step_advance, step_deadline="deadline"
        )

    @_action_schema("登记复学（安置方式、复学学校和年级）", serializers.CaseReturnSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def record_return(self, request, pk=None):
        return self._act(request, serializers.CaseReturnSerializer, services.case_return)

    @_action_schema("延缓入学或休学（继续劝返）", serializers.CaseDeferSerializer)
    @action(detail=True, methods=["post"])
    def defer(self, request, pk=None):
        return self._act(request, serializers.CaseDeferSerializer, services.case_defer)

    @_action_schema("结案（复学跟踪期满）", serializers.CaseCloseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._act(request, serializers.CaseCloseSerializer, services.case_close)

    # -- documents --------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="已生成的文书（新的在前）",
        responses=serializers.CaseDocumentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="生成并保存文书（PDF）",
        request=serializers.CaseDocumentInputSerializer,
        responses={201: serializers.CaseDocumentSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def documents(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            stored = documents.stored(case)
            return Response(serializers.CaseDocumentSerializer(stored, many=True).data)
        values = self._incoming(
            serializers.CaseDocumentInputSerializer, request, case
        ).validated_data
        document = documents.generate(by=request.user, case=case, **values)
        return Response(
            serializers.CaseDocumentSerializer(document).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="下载文书（PDF，记入审计）",
        parameters=[OpenApiParameter("doc_id", int, OpenApiParameter.PATH, description="文书编号")],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF")
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<doc_id>[0-9]+)",
        url_name="document",
        filter_backends=[],
        pagination_class=None,
    )
    def document(self, request, pk=None, doc_id=None):
        case = self.get_object()
        stored = get_object_or_404(case.documents.all(), pk=doc_id)
        filename, content = documents.download(by=request.user, document=stored)
        return FileResponse(
            io.BytesIO(content),
            as_attachment=True,
            filename=filename,
            content_type="application/pdf",
        )
