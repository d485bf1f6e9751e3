"""月报表 API serializers. ID numbers are masked unless the caller asked for and may see them
(reports.monthly.reveal_ids: then the reveal is audited)."""

from rest_framework import serializers

from accounts.api.base import ScopedPrimaryKeyRelatedField
from accounts.models import School

from .. import monthly
from ..models import MonthlyReport, ReportRow, ReportVersion


class ReportRowSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField(
        label="身份证号码（脱敏，除非 reveal=1 且有权限）"
    )

    class Meta:
        model = ReportRow
        fields = ["id", "position", "entry", *monthly.ROW_FIELDS]

    def get_id_number(self, row) -> str:
        return monthly.shown_id(row.id_number, self.context.get("reveal", False))


class ReportVersionSerializer(serializers.ModelSerializer):
    signed_by_name = serializers.SerializerMethodField(label="签发人姓名")
    rows = ReportRowSerializer(many=True, read_only=True, source="ordered_rows")

    class Meta:
        model = ReportVersion
        fields = [
            "id",
            "number",
            "report_date",
            "filled_by",
            "phone",
            "correction_reason",
            "signed_by",
            "signed_by_name",
            "signed_at",
            "late",
            "created_at",
            "rows",
        ]

    def get_signed_by_name(self, version) -> str | None:
        user = version.signed_by
        return (user.full_name or user.username) if user else None


class MonthlyReportSerializer(serializers.ModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True, label="学校")
    signed = serializers.SerializerMethodField(label="最新版本已签发")
    latest_version = serializers.SerializerMethodField(label="最新版本号")
    late = serializers.SerializerMethodField(label="最新版本逾期报送")

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "school",
            "school_name",
            "year",
            "month",
            "months",
            "due_on",
            "latest_version",
            "signed",
            "late",
        ]

    def _latest(self, report) -> ReportVersion:
        return report.versions.all()[0]  # prefetched newest first

    def get_signed(self, report) -> bool:
        return self._latest(report).is_signed

    def get_latest_version(self, report) -> int:
        return self._latest(report).number

    def get_late(self, report) -> bool:
        return self._latest(report).late


class MonthlyReportDetailSerializer(MonthlyReportSerializer):
    versions = serializers.SerializerMethodField(label="全部版本（新的在前）")

    class Meta(MonthlyReportSerializer.Meta):
        fields = [*MonthlyReportSerializer.Meta.fields, "versions"]

    def get_versions(self, report) -> list[dict]:
        return ReportVersionSerializer(report.versions.all(), many=True, context=self.context).data


class OpenSerializer(serializers.Serializer):
    school = ScopedPrimaryKeyRelatedField(
        what="学校", queryset=School.objects.all(), label="学校编号"
    )
    year = serializers.IntegerField(label="年份", min_value=2000, max_value=2100)
    month = serializers.IntegerField(label="月份", min_value=1, max_value=12)


class MeasureSerializer(serializers.Serializer):
    row = serializers.IntegerField(label="明细行编号", min_value=1, max_value=2**31 - 1)
    measures = serializers.CharField(label="控辍保学措施", allow_blank=True, max_length=100000)


class DraftSerializer(serializers.Serializer):
    filled_by = serializers.CharField(label="填表人", allow_blank=True, max_length=1000)
    phone = serializers.CharField(label="联系电话", allow_blank=True, max_length=1000)
    measures = MeasureSerializer(many=True, required=False, default=list)

    def changes(self) -> monthly.DraftChanges:
        data = self.validated_data
        return monthly.DraftChanges(
            filled_by=data["filled_by"],
            phone=data["phone"],
            measures={item["row"]: item["measures"] for item in data["measures"]},
        )


class CorrectSerializer(serializers.Serializer):
    correction_reason = serializers.CharField(
        label="更正原因", allow_blank=True, max_length=2000, help_text="必填：更正已签发的版本"
    )
