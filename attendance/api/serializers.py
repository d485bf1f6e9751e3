"""Attendance API serializers: input parses into the service's arguments; output shows a
class-day with only the students who were not simply present."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from students.models import Student

from ..choices import Mark, MeasureKind
from ..models import AttendanceMark, RollCall, WatchMeasure, WatchPeriod
from ..services import MarkData, OfflineBase


class MarkInputSerializer(serializers.Serializer):
    # Plain types only: whether the student is on the class's roll, whether the status is
    # known and how long the note may be are attendance.services' rules.
    student = serializers.IntegerField(label="学生编号")
    status = serializers.CharField(
        label="考勤状态",
        help_text="、".join(f"{m.value}（{m.label}）" for m in Mark)
        + "；出勤（present）的学生可以不列出",
    )
    note = serializers.CharField(label="备注", allow_blank=True, default="")


class RollCallInputSerializer(serializers.Serializer):
    """One class's roll for one school day, as attendance.services.submit takes it. The
    class is resolved by the view inside the caller's area (outside it: 404); the rules
    (school day, cut-off, who is on the roll) are the service's; this only parses."""

    klass = serializers.IntegerField(label="班级编号")
    date = serializers.DateField(label="考勤日期")
    marks = MarkInputSerializer(
        label="未出勤的学生", many=True, help_text="只需列出迟到、请假或旷课的学生"
    )

    def mark_data(self) -> list[MarkData]:
        return [MarkData(**mark) for mark in self.validated_data["marks"]]


class OfflineRollInputSerializer(RollCallInputSerializer):
    """A roll taken offline on a phone (issue 17): the roll, its client-generated UUID, when
    the phone took it and the class-day's last change as the phone had loaded it."""

    client_id = serializers.UUIDField(label="离线记录编号")
    taken_at = serializers.DateTimeField(label="手机上的考勤时间", required=False, allow_null=True)
    base = serializers.DateTimeField(
        label="手机载入时该日考勤的最后修改时间",
        required=False,
        allow_null=True,
        help_text="手机载入时尚未提交则为空",
    )

    def offline_base(self) -> OfflineBase:
        return OfflineBase(
            taken_at=self.validated_data.get("taken_at"),
            changed_at=self.validated_data.get("base"),
        )


class OfflineResultSerializer(serializers.Serializer):
    """What an offline write produced; the same for every replay of its UUID."""

    replayed = serializers.BooleanField(label="此前已收到（重复提交）")
    roll = serializers.IntegerField(label="考勤编号")
    klass = serializers.IntegerField(label="班级编号")
    date = serializers.DateField(label="考勤日期")
    created = serializers.BooleanField(label="首次提交")
    changed = serializers.IntegerField(label="变动人数")
    absent = serializers.IntegerField(label="缺勤或请假人数")
    flagged = serializers.ListField(child=serializers.DictField(), label="登记为疑似辍学的学生")


class AttendanceMarkSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="student.name", label="姓名", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = AttendanceMark
        fields = ["student", "name", "status", "status_display", "note"]
        read_only_fields = fields


class RollCallSerializer(serializers.ModelSerializer):
    """A class-day: the students who were not simply present; everyone else was present."""

    klass_name = serializers.StringRelatedField(source="klass", label="班级")
    school_code = serializers.CharField(source="school.code", label="学校标识码", read_only=True)
    submitted_by = serializers.CharField(
        source="submitted_by.username", label="提交人", read_only=True
    )
    changed_by = serializers.CharField(
        source="changed_by.username", label="最后修改人", read_only=True
    )
    marks = AttendanceMarkSerializer(many=True, read_only=True)

    class Meta:
        model = RollCall
        fields = [
            "id",
            "klass",
            "klass_name",
            "school",
            "school_code",
            "date",
            "marks",
            "submitted_by",
            "submitted_at",
            "changed_by",
            "changed_at",
        ]
        read_only_fields = fields


class FlaggedEntrySerializer(serializers.Serializer):
    """A 疑似辍学 ledger entry the attendance rule opened."""

    id = serializers.IntegerField(label="台账记录编号", read_only=True)
    student = serializers.IntegerField(source="student_id", label="学生编号", read_only=True)
    name = serializers.CharField(label="姓名", read_only=True)


class RollCallSubmissionSerializer(RollCallSerializer):
    """The class-day as saved, with the ledger entries the submission opened (the view sets
    ``flagged`` on the roll call from attendance.services.Submission)."""

    flagged = FlaggedEntrySerializer(
        label="本次提交触发的疑似辍学台账记录", many=True, read_only=True
    )

    class Meta(RollCallSerializer.Meta):
        fields = [*RollCallSerializer.Meta.fields, "flagged"]
        read_only_fields = fields


class WatchPeriodSerializer(serializers.ModelSerializer):
    # A plain string, not an enum (the ledger's 辍学原因 is another "reason").
    reason = serializers.CharField(label="监测原因", read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = WatchPeriod
        fields = ["reason", "reason_display", "started_on", "ended_on"]
        read_only_fields = fields


class WatchMeasureSerializer(serializers.ModelSerializer):
    # Plain strings, not enums: the values are listed in the help text.
    kind = serializers.CharField(label="措施", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    recorded_by = serializers.CharField(
        source="recorded_by.username", label="登记人", read_only=True
    )

    class Meta:
        model = WatchMeasure
        fields = ["id", "kind", "kind_display", "date", "partner", "note", "recorded_by"]
        fields += ["recorded_at"]
        read_only_fields = fields


class WatchMeasureInputSerializer(serializers.Serializer):
    """A measure, as attendance.services.measure_record takes it (it checks the rules: the
    kind, a date not in the future, a partner for 结对帮扶)."""

    kind = serializers.CharField(
        label="措施", help_text="、".join(f"{m.value}（{m.label}）" for m in MeasureKind)
    )
    date = serializers.DateField(label="日期（不能晚于今天）")
    partner = serializers.CharField(
        label="帮扶责任人", allow_blank=True, default="", help_text="结对帮扶时必填"
    )
    note = serializers.CharField(label="情况")


class WatchedStudentSerializer(serializers.ModelSerializer):
    """A child on the watch list: the reasons that hold now (each since when) and the last
    measure recorded."""

    school_name = serializers.CharField(source="school.name", label="学校", read_only=True)
    klass_name = serializers.StringRelatedField(source="klass", label="班级", allow_null=True)
    reasons = WatchPeriodSerializer(source="open_periods", many=True, read_only=True)
    last_measure = serializers.SerializerMethodField(label="最近措施")

    class Meta:
        model = Student
        fields = ["id", "name", "school", "school_name", "klass", "klass_name", "reasons"]
        fields += ["last_measure"]
        read_only_fields = fields

    @extend_schema_field(WatchMeasureSerializer(allow_null=True))
    def get_last_measure(self, student):
        latest = student.latest_measures[:1]
        return WatchMeasureSerializer(latest[0]).data if latest else None


class WatchedStudentDetailSerializer(WatchedStudentSerializer):
    """The child's whole watch history: every period (ended ones too) and every measure."""

    periods = WatchPeriodSerializer(source="watch_periods", many=True, read_only=True)
    measures = WatchMeasureSerializer(source="latest_measures", many=True, read_only=True)

    class Meta(WatchedStudentSerializer.Meta):
        fields = [*WatchedStudentSerializer.Meta.fields, "periods", "measures"]
        read_only_fields = fields
