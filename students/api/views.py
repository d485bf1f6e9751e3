from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import clone_request
from rest_framework.response import Response

from accounts import jurisdiction
from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.choices import Capability
from accounts.views_log import LoggedDetailMixin

from .. import services
from ..identity import normalise_id_number
from ..models import Student, Transfer
from . import filters, serializers


def _normalise_student_number(raw: str) -> str:
    # Stored as services.clean_fields leaves it.
    return (raw or "").strip().upper()


_NATURAL_KEYS = {
    "id_number": normalise_id_number,
    "student_number": _normalise_student_number,
}


def _natural_key_schema(field: str, label: str):
    parameter = OpenApiParameter(field, str, OpenApiParameter.PATH, description=label)
    return [
        extend_schema(
            methods=["GET"],
            parameters=[parameter],
            responses=serializers.StudentSerializer,
            summary=f"按{label}查询学生",
        ),
        extend_schema(
            methods=["PUT"],
            parameters=[parameter],
            request=serializers.StudentInputSerializer,
            responses={
                200: OpenApiResponse(serializers.StudentSerializer, "已更新"),
                201: OpenApiResponse(serializers.StudentSerializer, "已新建"),
            },
            summary=f"按{label}新建或更新学生（同步用，可重复提交）",
        ),
    ]


class _NaturalKeyMetadata(SimpleMetadata):
    """OPTIONS on a natural-key route. DRF describes a PUT by loading the record by ``pk``,
    which these routes do not have (an AssertionError, a 500): the input is described
    instead, to whoever may write."""

    def determine_actions(self, request, view):
        if "PUT" not in view.allowed_methods:
            return {}
        view.request = clone_request(request, "PUT")
        try:
            view.check_permissions(view.request)
        except (APIException, PermissionDenied, Http404):
            return {}
        finally:
            view.request = request
        incoming = serializers.StudentInputSerializer(context=view.get_serializer_context())
        return {"PUT": self.get_serializer_info(incoming)}


def _apply_all(decorators):
    def wrap(function):
        for decorator in decorators:
            function = decorator(function)
        return function

    return wrap


class StudentViewSet(LoggedDetailMixin, ScopedReadOnlyViewSet):
    """Students of the caller's area. ID numbers and guardian phones are always masked."""

    queryset = Student.objects.select_related("school", "hukou_region").prefetch_related(
        "guardians"
    )
    serializer_class = serializers.StudentSerializer
    filterset_class = filters.StudentFilter
    permission_classes = [IsAuthenticated, Permitted]
    write_permission = Capability.MANAGE_STUDENTS

    def _incoming(self, request, *, data=None, partial=False):
        incoming = serializers.StudentInputSerializer(
            data=request.data if data is None else data,
            partial=partial,
            context=self.get_serializer_context(),
        )
        incoming.is_valid(raise_exception=True)
        return incoming

    def _render(self, student: Student, *, status_code=status.HTTP_200_OK) -> Response:
        # Read back through the scoped queryset: fresh guardians, same joins as the list.
        student = self.get_queryset().get(pk=student.pk)
        return Response(self.get_serializer(student).data, status=status_code)

    @extend_schema(
        request=serializers.StudentInputSerializer,
        responses={201: serializers.StudentSerializer},
    )
    def create(self, request):
        incoming = self._incoming(request)
        student = services.student_create(by=request.user, data=incoming.student_data())
        return self._render(student, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.StudentInputSerializer, responses=serializers.StudentSerializer
    )
    def update(self, request, pk=None, *, partial=False):
        student = self.get_object()
        incoming = self._incoming(request, partial=partial)
        data = incoming.student_data(current=student if partial else None)
        student = services.student_update(by=request.user, student=student, data=data)
        return self._render(student)

    @extend_schema(
        request=serializers.StudentInputSerializer, responses=serializers.StudentSerializer
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    # -- sync by natural key ------------------------------------------------------------------

    def _by_natural_key(self, request, field: str, raw: str) -> Response:
        key = _NATURAL_KEYS[field](raw)
        if request.method == "GET":
            student = jurisdiction.get_or_404(
                request.user, self.get_queryset(), **services.by_natural_key(field, key)
            )
            return Response(self.get_serializer(student).data)
        if not key:
            raise ValidationError({field: ["请求地址中缺少该值。"]})
        if not isinstance(request.data, dict):  # a JSON array, string, number or null
            raise ValidationError(
                {"non_field_errors": ["请求体应为 JSON 对象（{…}），逐项给出学生信息。"]}
            )
        payload = request.data.copy()
        given = payload.get(field)
        if given not in (None, ""):
            if not isinstance(given, str):
                raise ValidationError({field: ["应为文本。"]})
            if _NATURAL_KEYS[field](given) != key:
                raise ValidationError({field: ["与请求地址中的值不一致。"]})
        payload[field] = key
        incoming = self._incoming(request, data=payload)
        # The service finds the record by the key among all students and refuses one outside
        # the caller's area without saying where it is, as the roster import does.
        student, created = services.student_upsert(
            by=request.user, data=incoming.student_data(), key=field
        )
        return self._render(
            student, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @_apply_all(_natural_key_schema("id_number", "身份证号"))
    @action(
        detail=False,
        methods=["get", "put"],
        url_path=r"by-id-number/(?P<id_number>[^/]+)",
        filter_backends=[],
        pagination_class=None,
        metadata_class=_NaturalKeyMetadata,
    )
    def by_id_number(self, request, id_number=None):
        return self._by_natural_key(request, "id_number", id_number)

    @_apply_all(_natural_key_schema("student_number", "学籍号"))
    @action(
        detail=False,
        methods=["get", "put"],
        url_path=r"by-student-number/(?P<student_number>[^/]+)",
        filter_backends=[],
        pagination_class=None,
        metadata_class=_NaturalKeyMetadata,
    )
    def by_student_number(self, request, student_number=None):
        return self._by_natural_key(request, "student_number", student_number)

    # -- 学籍 events ------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=serializers.EventSerializer(many=True),
        summary="学生的学籍异动记录",
    )
    @extend_schema(
        methods=["POST"],
        request=serializers.EventInputSerializer,
        responses={
            201: OpenApiResponse(serializers.EventSerializer, "已登记学籍异动"),
            202: OpenApiResponse(
                serializers.TransferSerializer, "转往系统内学校：已提交转学申请，待转入学校确认"
            ),
        },
        summary="登记学籍异动",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def events(self, request, pk=None):
        student = self.get_object()
        if request.method == "GET":
            events = student.events.select_related("operator").order_by("date", "id")
            return Response(serializers.EventSerializer(events, many=True).data)
        incoming = serializers.EventInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        result = services.event_record(by=request.user, student=student, **incoming.validated_data)
        if isinstance(result, Transfer):
            return Response(
                serializers.TransferSerializer(result).data, status=status.HTTP_202_ACCEPTED
            )
        return Response(serializers.EventSerializer(result).data, status=status.HTTP_201_CREATED)
