from rest_framework import serializers

from ..cadence import SUMMARY_LENGTH
from ..choices import Period
from ..models import SignOff


class SignOffSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    period_display = serializers.CharField(source="get_period_display", read_only=True)
    signed_by_name = serializers.CharField(source="signed_by.full_name", read_only=True)

    class Meta:
        model = SignOff
        fields = [
            "id",
            "region_code",
            "region_name",
            "period",
            "period_display",
            "year",
            "number",
            "summary",
            "signed_by_name",
            "signed_at",
        ]
        read_only_fields = fields


class SignInputSerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        label="周期",
        choices=Period.choices,
        error_messages={"invalid_choice": "周期应为季度、学期或年度之一。"},
    )
    year = serializers.IntegerField(label="年份", min_value=2000, max_value=2100)
    number = serializers.IntegerField(label="序号", min_value=1, max_value=4)
    summary = serializers.CharField(
        label="审核意见", max_length=SUMMARY_LENGTH, allow_blank=True, default=""
    )
