"""Comparisons API: the pages' selectors and services behind /api/v1/comparisons/runs/ and
/api/v1/comparisons/mismatches/. Every record is looked up through the jurisdiction scope
first (outside the area: 404), then the caller's permission is asked (may not act: 403),
then the service decides (400)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.permissions import refusal

from .. import permissions, runs, selectors, services
from ..models import Mismatch, Run
from ..services import FOLLOW_UP_PERMISSIONS, FollowUp
from . import filters, serializers


@extend_schema_view(
    list=extend_schema(summary="比对任务列表（本县，新的在前）"),
    retrieve=extend_schema(summary="比对任务详情（含进度）"),
)
class RunViewSet(ScopedReadOnlyViewSet):
    """Comparison runs of the caller's county."""

    queryset = Run.objects.all()
    filterset_class = filters.RunFilter
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = {"create": permissions.RUN, "cancel": permissions.RUN}

    def get_queryset(self):
        return selectors.runs(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.ComparisonRunSerializer
        return serializers.ComparisonRunDetailSerializer

    def _render(self, run: Run, *, status_code=status.HTTP_200_OK) -> Response:
        run = self.get_queryset().get(pk=run.pk)
        return Response(serializers.ComparisonRunDetailSerializer(run).data, status=status_code)

    @extend_schema(
        summary="发起比对（按一份已上传的名单；同县同类名单正在比对时返回该任务）",
        request=serializers.RunStartSerializer,
        responses={201: serializers.ComparisonRunDetailSerializer},
    )
    def create(self, request):
        incoming = serializers.RunStartSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        run = runs.run_start(by=request.user, source=incoming.validated_data["source"])
        return self._render(run, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="取消比对", request=None, responses=serializers.ComparisonRunDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._render(runs.run_cancel(by=request.user, run=self.get_object()))


def _follow_up_schema(summary: str, request):
    return extend_schema(
        summary=summary, request=request, responses=serializers.ComparisonMismatchSerializer
    )


@extend_schema_view(
    list=extend_schema(summary="比对发现的不一致（按管辖范围，可筛选）"),
    retrieve=extend_schema(summary="一条不一致（含处理情况和当前可执行的后续操作）"),
)
class MismatchViewSet(ScopedReadOnlyViewSet):
    """Mismatches of the caller's area: a school its own, a township its own, the county all.
    ID numbers are always masked."""

    queryset = Mismatch.objects.all()
    filterset_class = filters.MismatchFilter
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = {
        "dispose": permissions.DISPOSE,
        "open_entry": permissions.DISPOSE,
        "correct_flag": permissions.DISPOSE,
    }
    serializer_class = serializers.ComparisonMismatchSerializer

    def get_queryset(self):
        if self.action == "list":
            return selectors.mismatches(self.request.user)
        # A record by id: of any run, not only the latest.
        return (
            super()
            .get_queryset()
            .select_related("township", "school", "handled__by", "source_row__region", "student")
        )

    def filter_queryset(self, queryset):
        # The list's filters (and its default, the latest runs) are the list's: a record by
        # id is found whatever run it is of.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _act(self, request, serializer_class, follow_up: FollowUp | None = None):
        """The scoped look-up and the permission (the follow-up's own too), then the input."""
        mismatch = self.get_object()
        needs = FOLLOW_UP_PERMISSIONS.get(follow_up)
        reason = refusal(request.user, needs) if needs is not None else None
        if reason is not None:
            self.permission_denied(request, message=reason)
        incoming = serializer_class(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        return mismatch, incoming

    def _render(self, mismatch: Mismatch) -> Response:
        mismatch = self.get_queryset().get(pk=mismatch.pk)
        return Response(self.get_serializer(mismatch).data)

    @_follow_up_schema(
        "记录处理情况（已说明情况、已关联已有学生、已登记未入学台账）",
        serializers.DisposeSerializer,
    )
    @action(detail=True, methods=["post"])
    def dispose(self, request, pk=None):
        mismatch, incoming = self._act(request, serializers.DisposeSerializer)
        services.dispose(by=request.user, mismatch=mismatch, **incoming.validated_data)
        return self._render(mismatch)

    @extend_schema(
        summary="登记未入学台账（按名单预填，请求中的字段优先）",
        request=serializers.OpenEntrySerializer,
        responses={201: serializers.ComparisonMismatchSerializer},
    )
    @action(detail=True, methods=["post"], url_path="open-entry")
    def open_entry(self, request, pk=None):
        mismatch, incoming = self._act(
            request, serializers.OpenEntrySerializer, FollowUp.OPEN_ENTRY
        )
        services.open_entry(
            by=request.user,
            mismatch=mismatch,
            note=incoming.validated_data["note"],
            **incoming.entry_fields(),
        )
        response = self._render(mismatch)
        response.status_code = status.HTTP_201_CREATED
        return response

    @_follow_up_schema("按名单更正学生标识（脱贫、监测、残疾）", serializers.CorrectFlagSerializer)
    @action(detail=True, methods=["post"], url_path="correct-flag")
    def correct_flag(self, request, pk=None):
        mismatch, incoming = self._act(
            request, serializers.CorrectFlagSerializer, FollowUp.CORRECT_FLAG
        )
        services.correct_flag(by=request.user, mismatch=mismatch, **incoming.validated_data)
        return self._render(mismatch)
