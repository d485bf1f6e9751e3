"""Attendance API: submit a class-day, list and read class-days of the caller's area; the
watch list (重点监测) and its measures."""

from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import jurisdiction
from accounts.api.base import Permitted, ScopedReadOnlyViewSet
from accounts.choices import Capability
from accounts.models import SchoolClass
from kongchuo.offline import Conflict
from kongchuo.pagination import IdCursorPagination
from students.models import Student

from .. import services
from ..models import AttendanceMark, RollCall, WatchMeasure, WatchPeriod
from ..permissions import RECORD_MEASURE
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

    @extend_schema(
        summary="提交离线考勤（手机离线时登记，恢复网络后上传；同一离线编号重复提交结果相同）",
        request=serializers.OfflineRollInputSerializer,
        responses={
            200: serializers.OfflineResultSerializer,
            409: OpenApiResponse(description="该日考勤在手机离线期间已被修改：附服务器上的版本"),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def offline(self, request):
        incoming = serializers.OfflineRollInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        klass = jurisdiction.get_or_404(
            request.user,
            SchoolClass.objects.select_related("school__township"),
            pk=incoming.validated_data["klass"],
        )
        try:
            result = services.submit_offline(
                by=request.user,
                klass=klass,
                day=incoming.validated_data["date"],
                marks=incoming.mark_data(),
                client_id=incoming.validated_data["client_id"],
                base=incoming.offline_base(),
            )
        except Conflict as conflict:
            current = self.get_queryset().get(pk=conflict.current.pk)
            return Response(
                {
                    "detail": conflict.message,
                    "errors": conflict.errors,
                    "server": serializers.RollCallSerializer(current).data,
                    "base": conflict.base,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(serializers.OfflineResultSerializer(result).data)


@extend_schema_view(
    list=extend_schema(summary="重点监测名单（按管辖范围，当前在名单上的学生）"),
    retrieve=extend_schema(summary="某学生的重点监测记录（全部原因的起止和帮扶措施）"),
)
class WatchListViewSet(ScopedReadOnlyViewSet):
    """The watch list (重点监测名单) of the caller's area: each child with the reasons that
    hold now, since when, and the last measure; a child's record keeps its whole history."""

    queryset = (
        Student.objects.filter(Exists(WatchPeriod.objects.filter(student=OuterRef("pk"))))
        .select_related("school", "klass")
        .prefetch_related(
            Prefetch(
                "watch_periods",
                queryset=WatchPeriod.objects.filter(ended_on__isnull=True).order_by(
                    "started_on", "reason"
                ),
                to_attr="open_periods",
            ),
            Prefetch(
                "watch_measures",
                queryset=WatchMeasure.objects.select_related("recorded_by").order_by(
                    "-date", "-id"
                ),
                to_attr="latest_measures",
            ),
        )
    )
    serializer_class = serializers.WatchedStudentSerializer
    filterset_class = filters.WatchFilter
    permission_classes = [IsAuthenticated, Permitted]
    permission_actions = {"measures": RECORD_MEASURE}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            holding = WatchPeriod.objects.filter(student=OuterRef("pk"), ended_on__isnull=True)
            return queryset.filter(Exists(holding))
        if self.action == "retrieve":
            return queryset.prefetch_related("watch_periods")
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.WatchedStudentDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="登记帮扶措施（结对帮扶、家访、资助、谈心；日期不能晚于今天）",
        request=serializers.WatchMeasureInputSerializer,
        responses={201: serializers.WatchMeasureSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def measures(self, request, pk=None):
        student = self.get_object()
        incoming = serializers.WatchMeasureInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        measure = services.measure_record(
            by=request.user, student=student, **incoming.validated_data
        )
        return Response(
            serializers.WatchMeasureSerializer(measure).data, status=status.HTTP_201_CREATED
        )
