"""Comparisons API (runs and mismatches): input serializers parse requests into the arguments
of comparisons.runs and comparisons.services; output serializers render runs with their
progress and mismatches with what was done about them. ID numbers are masked, always
(DOMAIN.md §10)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import ScopedPrimaryKeyRelatedField
from kongchuo.api import optional_text
from ledger.api.serializers import EntryInputSerializer
from ledger.models import LedgerEntry
from students.models import Student

from .. import runs, selectors, services
from ..choices import Change, Disposition, MismatchKind, RunStatus, Strength
from ..models import Mismatch, MismatchDisposition, Run, Source

# ---------------------------------------------------------------------------------------------
# Input


class RunStartSerializer(serializers.Serializer):
    source = ScopedPrimaryKeyRelatedField(
        what="名单", label="名单编号（本县上传的名单）", queryset=Source.objects.all()
    )


class DisposeSerializer(serializers.Serializer):
    """A disposition (services.dispose): the service says what each one needs."""

    disposition = serializers.ChoiceField(
        label="处理方式",
        choices=[
            (value, label)
            for value, label in Disposition.choices
            if value != Disposition.FLAG_CORRECTED
        ],
        help_text="更正学生标识请用 correct-flag 操作",
    )
    note = optional_text("说明（已说明情况时必填）")
    student = ScopedPrimaryKeyRelatedField(
        what="学生",
        label="学生编号（已关联已有学生时必填）",
        queryset=Student.objects.all(),
        allow_null=True,
        default=None,
    )
    entry = ScopedPrimaryKeyRelatedField(
        what="台账记录",
        label="台账记录编号（已登记未入学台账时必填）",
        queryset=LedgerEntry.objects.all(),
        allow_null=True,
        default=None,
    )


class CorrectFlagSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField(
        label="已核对是同一个孩子（只按姓名和出生日期匹配的须确认）", default=False
    )
    note = optional_text("说明")


class OpenEntrySerializer(EntryInputSerializer):
    """A 未入学 entry from a mismatch (services.open_entry): the list's data with what the
    request gives over it — the 学籍 check's result and fields, the reason and whereabouts."""

    student = kind = source = found_on = None

    def entry_fields(self) -> dict:
        """Only what the request gave: the rest comes from the list (services.entry_prefill)."""
        given = set(self.initial_data)
        if "hukou_region_code" in given:
            given.add("hukou_region")
        return {
            name: value
            for name, value in self.validated_data.items()
            if name in given and name != "note"
        }


# ---------------------------------------------------------------------------------------------
# Output


class ComparisonRunSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    county_code = serializers.CharField(source="county.code", label="县代码", read_only=True)
    source_name = serializers.CharField(source="source.name", label="名单文件名", read_only=True)
    started_by = serializers.SerializerMethodField(label="发起人（null：按计划自动比对）")
    counts = serializers.DictField(
        label="各类不一致数", child=serializers.IntegerField(), read_only=True
    )
    changes = serializers.DictField(
        label="与上次相比（new、same、changed、gone）",
        child=serializers.IntegerField(),
        read_only=True,
    )

    class Meta:
        model = Run
        fields = [
            "id",
            "county",
            "county_code",
            "kind",
            "kind_display",
            "source",
            "source_name",
            "previous",
            "status",
            "status_display",
            "done",
            "total",
            "message",
            "cancel_requested",
            "counts",
            "changes",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_started_by(self, run: Run) -> str | None:
        user = run.started_by
        return (user.full_name or user.username) if user is not None else None


class RunProgressSerializer(serializers.Serializer):
    """comparisons.runs.run_progress."""

    status = serializers.ChoiceField(label="状态", choices=RunStatus.choices)
    status_label = serializers.CharField(label="状态说明")
    done = serializers.IntegerField(label="已完成步数")
    total = serializers.IntegerField(label="总步数")
    percent = serializers.IntegerField(label="完成百分比", min_value=0, max_value=100)
    finished = serializers.BooleanField(label="已结束（完成、失败或取消）")
    cancel_requested = serializers.BooleanField(label="已要求取消")
    message = serializers.CharField(label="说明", allow_blank=True)


class ComparisonRunDetailSerializer(ComparisonRunSerializer):
    progress = serializers.SerializerMethodField(label="进度")

    class Meta(ComparisonRunSerializer.Meta):
        fields = [*ComparisonRunSerializer.Meta.fields, "progress"]
        read_only_fields = fields

    @extend_schema_field(RunProgressSerializer)
    def get_progress(self, run: Run) -> dict:
        return RunProgressSerializer(runs.run_progress(run)).data


class MismatchDispositionSerializer(serializers.ModelSerializer):
    disposition_display = serializers.CharField(source="get_disposition_display", read_only=True)
    by = serializers.SerializerMethodField(label="处理人")

    class Meta:
        model = MismatchDisposition
        fields = [
            "id",
            "disposition",
            "disposition_display",
            "note",
            "student",
            "entry",
            "by",
            "at",
        ]
        read_only_fields = fields

    def get_by(self, made: MismatchDisposition) -> str:
        return made.by.full_name or made.by.username


class ComparisonMismatchSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(label="不一致类型", choices=MismatchKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    strength = serializers.ChoiceField(label="匹配方式", choices=Strength.choices, read_only=True)
    change = serializers.ChoiceField(label="与上次相比", choices=Change.choices, read_only=True)
    id_number = serializers.CharField(
        source="masked_id_number", label="身份证号（脱敏）", read_only=True
    )
    township_name = serializers.CharField(
        source="township.name", label="责任乡镇", allow_null=True, read_only=True
    )
    school_name = serializers.CharField(
        source="school.name", label="责任学校", allow_null=True, read_only=True
    )
    details = serializers.SerializerMethodField(label="详情（名称 → 值）")
    handled = MismatchDispositionSerializer(
        label="处理情况（null：待处理）", read_only=True, allow_null=True
    )
    follow_ups = serializers.SerializerMethodField(label="当前账号可执行的后续操作")

    class Meta:
        model = Mismatch
        fields = [
            "id",
            "run",
            "county",
            "kind",
            "kind_display",
            "strength",
            "change",
            "name",
            "id_number",
            "birth_date",
            "student",
            "entry",
            "township",
            "township_name",
            "school",
            "school_name",
            "details",
            "handled",
            "follow_ups",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_details(self, mismatch: Mismatch) -> dict[str, str]:
        return dict(selectors.shown_details(mismatch))

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(services.FollowUp.choices))
    )
    def get_follow_ups(self, mismatch: Mismatch) -> list[str]:
        return [
            follow_up.value
            for follow_up in services.offered(self.context["request"].user, mismatch)
        ]
