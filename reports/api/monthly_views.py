"""月报表 API behind /api/v1/reports/monthly/: the pages' services (reports.monthly) and
jurisdiction. A report outside the caller's area is 404; a role that may not act is 403 with
the reason; what the report's state refuses (a signed version, a missing reason, a future
month, an over-long text) is 400 with the service's message."""

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.api.serializers import JobSerializer
from kongchuo.errors import AppError

from .. import monthly, selectors
from ..models import MonthlyReport, ReportRow
from ..monthly_jobs import version_workbook_start
from ..permissions import MONTHLY_FILL, MONTHLY_SIGN
from . import monthly_filters
from . import monthly_serializers as s

_REVEAL = OpenApiParameter(
    "reveal", bool, description="1：显示完整身份证号（需有权限，记入审计日志）"
)
_VERSION = OpenApiParameter("version", int, description="版本号（默认最新版本）")


def _detail(summary, request=None, **extra):
    return extend_schema(
        summary=summary, request=request, responses=s.MonthlyReportDetailSerializer, **extra
    )


@extend_schema_view(
    list=extend_schema(summary="辍学月报表列表（按管辖范围，可按年月、学校、签发状态筛选）"),
    retrieve=_detail("辍学月报表详情（全部版本及明细，身份证号默认脱敏）", parameters=[_REVEAL]),
)
class MonthlyReportViewSet(ScopedReadOnlyViewSet):
    queryset = MonthlyReport.objects.all()
    filterset_class = monthly_filters.MonthlyReportFilter
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = {
        "create": MONTHLY_FILL,
        "draft": MONTHLY_FILL,
        "refresh": MONTHLY_FILL,
        "correct": MONTHLY_FILL,
        "sign": MONTHLY_SIGN,
    }

    def get_queryset(self):
        reports = selectors.latest_versions(super().get_queryset())
        if self.action == "list":
            return reports
        rows = ReportRow.objects.order_by("position")
        return reports.prefetch_related(
            Prefetch("versions__rows", queryset=rows, to_attr="ordered_rows")
        )

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action == "list":
            return s.MonthlyReportSerializer
        return s.MonthlyReportDetailSerializer

    def _render(self, report, *, reveal=False, status_code=status.HTTP_200_OK):
        report = self.get_queryset().get(pk=report.pk)
        context = {**self.get_serializer_context(), "reveal": reveal}
        return Response(
            s.MonthlyReportDetailSerializer(report, context=context).data, status=status_code
        )

    def _incoming(self, serializer_class, request):
        incoming = serializer_class(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        return incoming

    @staticmethod
    def _asks_reveal(request) -> bool:
        return request.query_params.get("reveal") in ("1", "true")

    def _reveal(self, request, version) -> bool:
        return monthly.reveal_ids(
            by=request.user, version=version, asked=self._asks_reveal(request)
        )

    def retrieve(self, request, *args, **kwargs):
        report = self.get_object()
        # The detail shows every version: the reveal is audited for the report as a whole.
        return self._render(report, reveal=self._reveal(request, report))

    @extend_schema(
        summary="打开本期月报表（按台账生成草稿；已打开的返回原表）",
        request=s.OpenSerializer,
        responses={201: s.MonthlyReportDetailSerializer},
    )
    def create(self, request):
        values = self._incoming(s.OpenSerializer, request).validated_data
        report = monthly.report_open(by=request.user, **values)
        return self._render(report, status_code=status.HTTP_201_CREATED)

    @_detail("填写草稿：填表人、联系电话、各行控辍保学措施", s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def draft(self, request, pk=None):
        report = self.get_object()
        changes = self._incoming(s.DraftSerializer, request).changes()
        monthly.draft_update(
            by=request.user, version=monthly.editable_draft(report), changes=changes
        )
        return self._render(report)

    @_detail("按当前台账重新生成草稿名单（已填写的措施保留）", None)
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        report = self.get_object()
        monthly.draft_refresh(by=request.user, version=monthly.editable_draft(report))
        return self._render(report)

    @_detail("校长电子签发（记录姓名和时间；20日及以后为逾期）", None)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        report = self.get_object()
        monthly.version_sign(by=request.user, version=monthly.editable_draft(report))
        return self._render(report)

    @_detail("更正已签发的月报表：生成新版本（必须填写更正原因）", s.CorrectSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        report = self.get_object()
        reason = self._incoming(s.CorrectSerializer, request).validated_data["correction_reason"]
        monthly.report_correct(by=request.user, report=report, reason=reason)
        return self._render(report)

    @extend_schema(
        summary="导出月报表 XLSX（某一版本，默认最新）：后台任务",
        description=(
            "返回 202 和后台任务（Location 头为任务地址）：轮询 /api/v1/jobs/{id}/ 至完成，"
            "再从其 download 地址下载文件。文件只有申请人可以下载，保留期满后删除。"
        ),
        parameters=[_VERSION, _REVEAL],
        responses={202: JobSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def xlsx(self, request, pk=None):
        report = self.get_object()
        versions = list(report.versions.all())
        wanted = request.query_params.get("version", "")
        version = versions[0]
        if wanted:
            found = [v for v in versions if str(v.number) == wanted.strip()]
            if not found:
                raise AppError(f"没有第{wanted[:10]}版。", field="version")
            version = found[0]
        job = version_workbook_start(
            by=request.user, version=version, reveal=self._asks_reveal(request)
        )
        url = reverse("api-job-detail", args=[job.pk], request=request)
        body = JobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})
