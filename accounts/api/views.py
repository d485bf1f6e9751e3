from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kongchuo.pagination import IdCursorPagination

from .. import jobs, notifications, tokens
from ..models import ApiToken, Job, Notification, Region, School, SchoolClass
from . import filters, serializers
from .base import ScopedReadOnlyViewSet
from .throttles import TokenAccountThrottle, TokenAddressThrottle


class TokenView(APIView):
    """Exchange a username and password (and, for a two-factor account, a code) for a new
    token of this client. Each call issues another token: name it after the syncing system."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TokenAddressThrottle, TokenAccountThrottle]

    @extend_schema(
        request=serializers.TokenRequestSerializer, responses=serializers.TokenSerializer
    )
    def post(self, request):
        incoming = serializers.TokenRequestSerializer(
            data=request.data, context={"request": request}
        )
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        issued = tokens.issue(
            user=data["user"],
            name=data.get("name", ""),
            read_only=data["read_only"],
            days=data.get("expires_in_days"),
        )
        token = issued.token
        return Response(
            {
                "token": issued.secret,
                "id": token.pk,
                "name": token.name,
                "read_only": token.read_only,
                "expires_at": token.expires_at,
            }
        )


class TokenRevokeView(APIView):
    """Log this client out: revoke the token of this request (the account's other clients
    keep theirs)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ValidationError({"non_field_errors": ["本次请求未使用接口令牌，无需退出。"]})
        tokens.log_out(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(ListAPIView):
    """The caller's tokens that still work, newest first."""

    serializer_class = serializers.ApiTokenSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return tokens.live(self.request.user).select_related("created_by")


class TokenRevokeOneView(APIView):
    """Revoke one of the caller's tokens by its number."""

    @extend_schema(request=serializers.TokenRevokeSerializer, responses={204: None})
    def post(self, request):
        incoming = serializers.TokenRevokeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        tokens.revoke(by=request.user, token_id=incoming.validated_data["id"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegionViewSet(ScopedReadOnlyViewSet):
    queryset = Region.objects.all()
    serializer_class = serializers.RegionSerializer
    filterset_class = filters.RegionFilter


class SchoolViewSet(ScopedReadOnlyViewSet):
    queryset = School.objects.select_related("township")
    serializer_class = serializers.SchoolSerializer
    filterset_class = filters.SchoolFilter


class SchoolClassViewSet(ScopedReadOnlyViewSet):
    queryset = SchoolClass.objects.all()
    serializer_class = serializers.SchoolClassSerializer
    filterset_class = filters.SchoolClassFilter


class NewestFirstCursorPagination(IdCursorPagination):
    ordering = "-id"


class JobViewSet(ScopedReadOnlyViewSet):
    """The caller's own background jobs (exports), newest first: poll one until it has
    finished, then download its file. Nobody else's job is found (404)."""

    queryset = Job.objects.all()
    serializer_class = serializers.JobSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        return super().get_queryset().filter(requested_by=self.request.user)

    @extend_schema(
        summary="下载任务的结果文件",
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY)
            for media in (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/zip",
            )
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def download(self, request, pk=None):
        job = self.get_object()
        if (missing := jobs.missing_result(job)) is not None:
            raise NotFound(missing)
        return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)


class NotificationViewSet(ScopedReadOnlyViewSet):
    """The caller's own notifications, newest first."""

    queryset = Notification.objects.all()
    serializer_class = serializers.NotificationSerializer
    filterset_class = filters.NotificationFilter
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        # Owner-only records; the recipient filter keeps a superuser's inbox personal too.
        return super().get_queryset().filter(recipient=self.request.user)

    @extend_schema(
        description="Mark one of the caller's notifications read.",
        request=None,
        responses=serializers.NotificationSerializer,
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notice = self.get_object()
        notifications.mark_read(request.user, ids=[notice.pk])
        notice.refresh_from_db()
        return Response(serializers.NotificationSerializer(notice).data)

    @extend_schema(
        description="Mark all of the caller's unread notifications read.",
        request=None,
        responses=serializers.MarkedReadSerializer,
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notifications.mark_read(request.user)})
