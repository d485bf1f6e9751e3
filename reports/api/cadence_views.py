"""四个一 sign-off API: the sign-offs the caller may see (list, detail) and signing the
caller's own level's period, through the same service as the page (reports.cadence)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.base import Permitted, ScopedReadOnlyViewSet

from .. import cadence
from ..models import SignOff
from .cadence_serializers import SignInputSerializer, SignOffSerializer


class SignOffViewSet(ScopedReadOnlyViewSet):
    queryset = SignOff.objects.select_related("region", "signed_by")
    serializer_class = SignOffSerializer
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = {"sign": cadence.SIGN}

    @extend_schema(
        summary="签发本级审核（四个一）",
        request=SignInputSerializer,
        responses={201: SignOffSerializer},
    )
    @action(detail=False, methods=["post"])
    def sign(self, request):
        data = SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        which = cadence.sign_period(
            data.validated_data["period"],
            data.validated_data["year"],
            data.validated_data["number"],
        )
        signed = cadence.sign(by=request.user, which=which, summary=data.validated_data["summary"])
        return Response(SignOffSerializer(signed).data, status=status.HTTP_201_CREATED)
