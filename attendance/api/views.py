"""Attendance API: submit a class-day, list and read class-days of the caller's area."""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import jurisdiction
from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.choices import Capability
from accounts.models import SchoolClass
from kongchuo.pagination import IdCursorPagination

from .. import services
from ..models import AttendanceMark, RollCall
from . import filters, serializers


class NewestDayFirstPagination(IdCursorPagination):
    # The cursor stands on the date; class-days of the same date are kept apart by id.
    ordering = ("-date", "-id")


@extend_schema_view(
    list=extend_schema(summary="考勤列表（按管辖范围，最近的日期在前，可筛选）"),
    retrieve=extend_schema(summary="某班某日考勤"),
)
class RollCallViewSet(ScopedReadOnlyViewSet):
    """Class-days of the caller's area. Only the students who were not simply present are
    listed; a school day without a roll call is not recorded, never "everyone present"."""

    queryset = RollCall.objects.select_related(
        "klass", "school", "submitted_by", "changed_by"
    ).prefetch_related(
        Prefetch(
            "marks",
            # The roster's order (attendance.selectors.roster).
            queryset=AttendanceMark.objects.select_related("student").order_by(
                "student__student_number", "student__name", "student_id"
            ),
        )
    )
    serializer_class = serializers.RollCallSerializer
    filterset_class = filters.RollCallFilter
    pagination_class = NewestDayFirstPagination
    permission_classes = [IsAuthenticated, Permitted]
    write_permission = Capability.TAKE_ATTENDANCE

    @extend_schema(
        summary="提交某班某日考勤（同一班级同一天可重复提交，以最后一次为准）",
        request=serializers.RollCallInputSerializer,
        responses={
            200: OpenApiResponse(serializers.RollCallSubmissionSerializer, "已修改"),
            201: OpenApiResponse(serializers.RollCallSubmissionSerializer, "已提交"),
        },
    )
    def create(self, request):
        incoming = serializers.RollCallInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        klass = jurisdiction.get_or_404(
            request.user,
            SchoolClass.objects.select_related("school__township"),
            pk=incoming.validated_data["klass"],
        )
        submission = services.submit(
            by=request.user,
            klass=klass,
            day=incoming.validated_data["date"],
            marks=incoming.mark_data(),
        )
        # Read back through the scoped queryset: the same joins and order as the list.
        roll = self.get_queryset().get(pk=submission.roll.pk)
        roll.flagged = submission.flagged
        return Response(
            serializers.RollCallSubmissionSerializer(roll).data,
            status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK,
        )
