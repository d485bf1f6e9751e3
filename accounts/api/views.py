from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from kongchuo.api import ScopedReadOnlyViewSet

from .. import services
from ..models import Region, School, SchoolClass
from . import filters, serializers


class TokenView(APIView):
    """Exchange a username and password for the account's API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=serializers.TokenRequestSerializer, responses=serializers.TokenSerializer
    )
    def post(self, request):
        incoming = serializers.TokenRequestSerializer(
            data=request.data, context={"request": request}
        )
        incoming.is_valid(raise_exception=True)
        token = services.token_issue(user=incoming.validated_data["user"])
        return Response({"token": token.key})


class TokenRevokeView(APIView):
    """Revoke the calling account's token (log the API client out)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(user=request.user)
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
