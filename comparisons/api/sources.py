"""Comparison lists in the API: /api/v1/comparisons/sources/ lists and shows the lists of the
caller's area and takes in a new one — a file (multipart: CSV or .xlsx, with an optional
column mapping) or the rows themselves (JSON, keyed by our field names) — through the same
service as the upload page (comparisons.sources.source_upload), which also starts the
comparison."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.base import Permitted, ScopedReadOnlyViewSet

from .. import sources
from ..choices import SourceKind
from ..models import Source
from ..permissions import UPLOAD


def _field_names(kind: str) -> str:
    return "、".join(
        f"{f.key}（{f.label}，必需）" if f.required else f"{f.key}（{f.label}）"
        for f in sources.FIELDS[kind]
    )


_FIELD_NAMES = "；".join(f"{label}：{_field_names(kind)}" for kind, label in SourceKind.choices)


class SourceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label="名单类型")

    class Meta:
        model = Source
        fields: list[str] = []


class SourceProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(label="行号")
    field = serializers.CharField(label="列（名单的列标题）", allow_blank=True)
    message = serializers.CharField(label="说明")
    level = serializers.ChoiceField(
        choices=[(sources.ERROR, "错误（该行未导入）"), (sources.WARNING, "提醒（该行已导入）")],
        label="类型",
    )


class SourceSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    county_code = serializers.CharField(source="county.code", label="县代码", read_only=True)
    uploaded_by = serializers.CharField(
        source="uploaded_by.username", label="上传人账号", read_only=True
    )
    mapping = serializers.DictField(
        child=serializers.CharField(), label="列对应（字段 → 名单的列标题）", read_only=True
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "county_code",
            "kind",
            "kind_display",
            "name",
            "sha256",
            "size",
            "encoding",
            "mapping",
            "row_count",
            "error_count",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class SourceDetailSerializer(SourceSerializer):
    errors = SourceProblemSerializer(many=True, read_only=True, label="错误和提醒（按行）")

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "errors"]
        read_only_fields = fields


class UploadResultSerializer(serializers.Serializer):
    created = serializers.BooleanField(label="是否新名单（false：同一文件已上传过，未重复导入）")
    message = serializers.CharField(label="说明")
    run = serializers.IntegerField(
        source="run.pk", label="已发起的比对任务编号", allow_null=True, read_only=True
    )
    source = SourceDetailSerializer(label="名单")


class _UploadInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SourceKind.choices, label="名单类型")
    name = serializers.CharField(label="名单名称", required=False, allow_blank=True, max_length=200)


class SourceFileUploadSerializer(_UploadInput):
    file = serializers.FileField(label="名单文件（CSV：UTF-8 或 GBK；或 .xlsx）")
    mapping = serializers.JSONField(
        label="列对应（JSON 对象：字段 → 名单的列标题；不填则按上次的对应或常见列名）",
        required=False,
        binary=True,
    )


class SourceRowsUploadSerializer(_UploadInput):
    rows = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        label=f"名单各行，每个对象一人，键为字段名。{_FIELD_NAMES}",
    )


@extend_schema_view(
    list=extend_schema(summary="比对名单列表（本县上传的外部名单，新的在前）"),
    retrieve=extend_schema(summary="比对名单详情（含错误和提醒）"),
)
class SourceViewSet(ScopedReadOnlyViewSet):
    """The lists uploaded for comparison in the caller's area."""

    queryset = Source.objects.select_related("county", "uploaded_by")
    filterset_class = SourceFilter
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = {"create": UPLOAD}
    parser_classes = [JSONParser, MultiPartParser]

    def get_serializer_class(self):
        if self.action == "list":
            return SourceSerializer
        return SourceDetailSerializer

    @extend_schema(
        summary="上传比对名单（文件或各行）并自动发起比对；同一名单已上传过时返回原名单",
        request={
            "multipart/form-data": SourceFileUploadSerializer,
            "application/json": SourceRowsUploadSerializer,
        },
        responses={
            201: UploadResultSerializer,
            200: OpenApiResponse(
                UploadResultSerializer, description="同一名单已上传过，未重复导入"
            ),
        },
    )
    def create(self, request):
        is_file = request.content_type.startswith("multipart/")
        incoming_class = SourceFileUploadSerializer if is_file else SourceRowsUploadSerializer
        incoming = incoming_class(data=request.data)
        incoming.is_valid(raise_exception=True)
        values = dict(incoming.validated_data)
        result = sources.source_upload(by=request.user, **values)
        return Response(
            UploadResultSerializer(result).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
