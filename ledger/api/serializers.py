"""Ledger API: input serializers parse requests into service arguments; output serializers
render entries with the ID number and the parents' contact masked, always (DOMAIN.md §10)."""

from pathlib import Path

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import ScopedCodeRelatedField, ScopedPrimaryKeyRelatedField
from accounts.models import Region
from kongchuo.api import BlankAsNullChoiceField, by_id_or_code, optional_text
from students.choices import Gender, KeyGroup
from students.models import Student

from .. import permissions, selectors, services
from ..choices import (
    Action,
    ClosureReason,
    ConsistencyProblem,
    EntryKind,
    Reason,
    RecordCheck,
    Source,
    State,
    Whereabouts,
)
from ..models import EntryEvent, LedgerEntry


def _township(label: str, **kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(
        what="乡镇", label=label, queryset=Region.objects.all(), **kwargs
    )


# ---------------------------------------------------------------------------------------------
# Input


class EntryInputSerializer(serializers.Serializer):
    """A new entry: the fields of services.EntryData. The rules (who the child is, the 学籍
    check, one open entry per child, the area) are the service's; this only parses."""

    student = ScopedPrimaryKeyRelatedField(
        what="学生",
        label="学生编号",
        queryset=Student.objects.all(),
        allow_null=True,
        default=None,
        help_text="已有学生档案的孩子；未入学儿童留空并填写下面的身份信息",
    )
    kind = serializers.ChoiceField(label="类别", choices=EntryKind.choices)
    source = serializers.ChoiceField(label="来源", choices=Source.choices)
    reason = serializers.ChoiceField(label="主要辍学原因", choices=Reason.choices)
    other_reasons = serializers.ListField(
        label="其他原因", child=serializers.ChoiceField(choices=Reason.choices), default=list
    )
    whereabouts = serializers.ChoiceField(label="人员现状", choices=Whereabouts.choices)
    name = optional_text("姓名（未入学）", 50)
    gender = serializers.ChoiceField(
        label="性别（未入学）", choices=Gender.choices, allow_blank=True, default=""
    )
    birth_date = serializers.DateField(label="出生日期（未入学）", allow_null=True, default=None)
    id_number = optional_text("身份证号（未入学）", 30)
    hukou_region = ScopedPrimaryKeyRelatedField(
        what="户籍地",
        label="户籍地编号（未入学，乡镇或村）",
        queryset=Region.objects.all(),
        allow_null=True,
        default=None,
    )
    hukou_region_code = ScopedCodeRelatedField(
        what="户籍地", label="户籍地区划代码", queryset=Region.objects.all(), required=False
    )
    key_groups = serializers.ListField(
        label="重点群体（未入学；已有学生档案的按档案记录）",
        child=serializers.ChoiceField(choices=KeyGroup.choices),
        default=list,
    )
    record_check = serializers.ChoiceField(
        label="学籍核查结果", choices=RecordCheck.choices, allow_blank=True, default=""
    )
    person_status = optional_text("人员现状说明（无学籍必填）", 500)
    family_situation = optional_text("家庭情况（无学籍必填）", 500)
    parent_contact = optional_text("父母联系方式（无学籍必填）", 100)
    department_opinion = optional_text("相关部门意见（无学籍必填）", 500)
    township = _township("责任乡镇编号（默认为户籍地所在乡镇）", allow_null=True, default=None)
    measures = optional_text("已采取的控辍保学措施")
    found_on = serializers.DateField(label="发现日期（默认今天）", allow_null=True, default=None)
    note = optional_text("情况说明")

    def validate(self, attrs):
        by_id_or_code(attrs, "hukou_region", "户籍地")
        return attrs

    def entry_data(self) -> services.EntryData:
        return services.EntryData(**self.validated_data)


class EntryUpdateSerializer(serializers.Serializer):
    """更新情况 (PATCH): the fields given change; the others keep the entry's values."""

    reason = serializers.ChoiceField(label="主要辍学原因", choices=Reason.choices)
    other_reasons = serializers.ListField(
        label="其他原因", child=serializers.ChoiceField(choices=Reason.choices)
    )
    whereabouts = serializers.ChoiceField(label="人员现状", choices=Whereabouts.choices)
    measures = optional_text("控辍保学措施")
    note = optional_text("说明")

    def update_arguments(self, entry: LedgerEntry) -> dict:
        return {
            "reason": entry.reason,
            "whereabouts": entry.whereabouts,
            "other_reasons": entry.other_reasons,
            "measures": entry.measures,
            **self.validated_data,
        }


class VerifySerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        label="核实结果",
        choices=[(Action.EXCLUDE.value, "排除（不是辍学）"), (Action.CONFIRM.value, "确认辍学")],
    )
    note = optional_text("核实情况（排除时必填）")


class NoteSerializer(serializers.Serializer):
    note = optional_text("说明")


class AssignSerializer(serializers.Serializer):
    township = _township("负责劝返的乡镇编号")
    note = optional_text("说明")


class ReturnSerializer(serializers.Serializer):
    note = optional_text("复学情况（学校、年级和安置方式）")
    student = ScopedPrimaryKeyRelatedField(
        what="学生",
        label="入学后的学生编号（未入学儿童必填）",
        queryset=Student.objects.all(),
        allow_null=True,
        default=None,
    )


class ProposeClosureSerializer(serializers.Serializer):
    closure_reason = serializers.ChoiceField(
        label="销号原因", choices=ClosureReason.choices, source="reason"
    )
    evidence_text = optional_text("证明情况（与证明材料文件至少提供一项）")
    evidence_file = serializers.FileField(
        label="证明材料文件（PDF、图片、Word或Excel，不超过10 MB）",
        allow_null=True,
        default=None,
    )


class CommentSerializer(serializers.Serializer):
    comment = optional_text("审核意见（退回时必填）")


# ---------------------------------------------------------------------------------------------
# Output


class EntryEventSerializer(serializers.ModelSerializer):
    """One line of an entry's timeline."""

    action_display = serializers.CharField(source="get_action_display", read_only=True)
    state_before = BlankAsNullChoiceField(
        label="操作前状态", choices=State.choices, help_text="登记（新建）时为 null"
    )
    state_after_display = serializers.CharField(source="get_state_after_display", read_only=True)
    actor = serializers.SerializerMethodField(
        label="操作人", help_text=f"考勤规则自动执行的操作为“{services.RULE_ACTOR}”"
    )
    evidence = serializers.SerializerMethodField(label="证明材料文件名")
    evidence_url = serializers.SerializerMethodField(label="证明材料下载地址（页面登录后可用）")

    def get_actor(self, event: EntryEvent) -> str:
        return event.actor.username if event.actor_id else services.RULE_ACTOR

    class Meta:
        model = EntryEvent
        fields = [
            "id",
            "action",
            "action_display",
            "state_before",
            "state_after",
            "state_after_display",
            "note",
            "evidence",
            "evidence_url",
            "actor",
            "at",
        ]
        read_only_fields = fields

    def get_evidence(self, event: EntryEvent) -> str:
        return Path(event.evidence.name).name if event.evidence else ""

    def get_evidence_url(self, event: EntryEvent) -> str:
        return reverse("ledger-evidence", args=[event.pk]) if event.evidence else ""


class LedgerEntrySerializer(serializers.ModelSerializer):
    """An entry as the list shows it. The ID number and the parents' contact are masked."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    gender_display = serializers.CharField(source="get_gender_display", read_only=True)
    id_number = serializers.CharField(
        source="masked_id_number", label="身份证号（脱敏）", read_only=True
    )
    school_name = serializers.CharField(
        source="school.name", label="学校", allow_null=True, read_only=True
    )
    grade_display = serializers.CharField(source="grade_label", read_only=True)
    hukou_region_code = serializers.CharField(
        source="hukou_region.code", label="户籍地区划代码", allow_null=True, read_only=True
    )
    township_name = serializers.CharField(source="township.name", label="责任乡镇", read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    other_reasons = serializers.ListField(
        label="其他原因", child=serializers.ChoiceField(choices=Reason.choices), read_only=True
    )
    other_reason_labels = serializers.ListField(
        label="其他原因（名称）", child=serializers.CharField(), read_only=True
    )
    whereabouts_display = serializers.CharField(source="get_whereabouts_display", read_only=True)
    key_groups = serializers.ListField(
        label="重点群体", child=serializers.ChoiceField(choices=KeyGroup.choices), read_only=True
    )
    key_group_labels = serializers.ListField(
        label="重点群体（名称）", child=serializers.CharField(), read_only=True
    )
    parent_contact = serializers.CharField(
        source="masked_parent_contact", label="父母联系方式（脱敏）", read_only=True
    )
    # Annotated by selectors.with_overdue (the viewset's queryset): the school calendar's rule.
    is_overdue = serializers.BooleanField(
        label="逾期未分类（本学期开学一个月内未做学期分类复核）", read_only=True
    )
    record_check = BlankAsNullChoiceField(
        label="学籍核查结果", choices=RecordCheck.choices, help_text="未核查时为 null"
    )
    closure_reason = BlankAsNullChoiceField(
        label="销号原因", choices=ClosureReason.choices, help_text="未申请销号时为 null"
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "kind_display",
            "source",
            "source_display",
            "state",
            "state_display",
            "student",
            "previous",
            "name",
            "gender",
            "gender_display",
            "birth_date",
            "id_number",
            "school",
            "school_name",
            "grade",
            "grade_display",
            "hukou_region",
            "hukou_region_code",
            "township",
            "township_name",
            "record_check",
            "person_status",
            "family_situation",
            "parent_contact",
            "department_opinion",
            "reason",
            "reason_display",
            "other_reasons",
            "other_reason_labels",
            "whereabouts",
            "whereabouts_display",
            "key_groups",
            "key_group_labels",
            "measures",
            "found_on",
            "reviewed_on",
            "is_overdue",
            "review_flag",
            "closure_reason",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LedgerEntryDetailSerializer(LedgerEntrySerializer):
    """One entry with its timeline and what the caller may do to it now."""

    events = serializers.SerializerMethodField(label="操作记录")
    possible_actions = serializers.SerializerMethodField(label="当前账号可执行的操作")

    class Meta(LedgerEntrySerializer.Meta):
        fields = [*LedgerEntrySerializer.Meta.fields, "events", "possible_actions"]
        read_only_fields = fields

    @extend_schema_field(EntryEventSerializer(many=True))
    def get_events(self, entry: LedgerEntry) -> list[dict]:
        return EntryEventSerializer(selectors.timeline(entry), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Action.choices)))
    def get_possible_actions(self, entry: LedgerEntry) -> list[str]:
        return [
            action.value
            for action in permissions.possible_actions(self.context["request"].user, entry)
        ]


class MismatchSerializer(serializers.Serializer):
    """One 人账相符 mismatch (ledger.consistency.Mismatch)."""

    problem = serializers.ChoiceField(label="问题", choices=ConsistencyProblem.choices)
    problem_display = serializers.CharField(source="label", label="问题说明")
    name = serializers.CharField(label="姓名")
    school = serializers.CharField(label="学校")
    student = serializers.IntegerField(source="student_id", label="学生编号", allow_null=True)
    entry = serializers.IntegerField(source="entry_id", label="台账记录编号", allow_null=True)
