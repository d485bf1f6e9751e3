"""劝返 case API: input serializers parse requests into the arguments of returns.services;
output serializers render a case with its team, plan versions, actions, timeline and
documents. The child's ID number is masked, always (DOMAIN.md §10)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import jurisdiction
from accounts.api.base import ScopedPrimaryKeyRelatedField
from accounts.choices import RegionLevel
from accounts.models import Region, School, SchoolClass, User
from kongchuo.api import BlankAsNullChoiceField, by_id_or_code, optional_text
from ledger.models import LedgerEntry
from students.models import Student

from .. import permissions, selectors, services
from ..choices import (
    Action,
    CaseState,
    Department,
    DocumentType,
    Duty,
    Help,
    Method,
    Placement,
    Step,
)
from ..models import (
    CaseAction,
    CaseAttachment,
    CaseDocument,
    CaseEvent,
    CaseMember,
    CasePlan,
    ReturnCase,
)

_DEPARTMENTS = dict(Department.choices)
_HELP = dict(Help.choices)


# ---------------------------------------------------------------------------------------------
# Related records an input names


class _InCaseCounty:
    """A related record looked up inside the case's county, not only the caller's area: a
    team takes accounts of other townships, a child returns to any school of the county.
    One elsewhere gets the same field error as one that does not exist; the services check
    the rest (an active account, a role that fits the duty, a class of the school)."""

    def get_queryset(self):
        return jurisdiction.within(self.context["case"].county, super().get_queryset())


class CaseCountyField(_InCaseCounty, serializers.PrimaryKeyRelatedField):
    def __init__(self, *, what: str, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": f"{what}“{{pk_value}}”不存在或不在本案件所在的县。",
                "incorrect_type": f"{what}应填写数字编号。",
            },
        )
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file of a multipart request, described as such (not as a URL) in the schema."""


def _account(label: str, **kwargs) -> CaseCountyField:
    return CaseCountyField(
        what="账号", label=label, queryset=User.objects.filter(is_active=True), **kwargs
    )


# ---------------------------------------------------------------------------------------------
# Input


class CaseOpenSerializer(serializers.Serializer):
    """下达劝返指令 from a confirmed dropout: the rules propose the township; another one
    needs a reason (services.case_open)."""

    entry = ScopedPrimaryKeyRelatedField(
        what="台账记录", label="台账记录编号（已确认辍学）", queryset=LedgerEntry.objects.all()
    )
    township = ScopedPrimaryKeyRelatedField(
        what="乡镇",
        label="责任乡镇编号（不填则按规则认定）",
        queryset=Region.objects.filter(level=RegionLevel.TOWNSHIP),
        allow_null=True,
        default=None,
    )
    reason = optional_text("改派理由（与规则认定的乡镇不同时必填）", 300)
    moved_after_dropout = serializers.BooleanField(
        label="辍学后迁出（原乡镇告知户籍地乡镇共同劝返）", default=False
    )
    note = optional_text("说明")


class CaseNoteSerializer(serializers.Serializer):
    note = optional_text("说明")


class CaseCloseSerializer(serializers.Serializer):
    note = optional_text("跟踪情况（必填）")


class CaseReassignSerializer(serializers.Serializer):
    township = CaseCountyField(
        what="乡镇",
        label="新的责任乡镇编号（本县）",
        queryset=Region.objects.filter(level=RegionLevel.TOWNSHIP),
    )
    reason = optional_text("改派理由（必填）", 300)


class CaseNoticeSerializer(serializers.Serializer):
    """书面告知 to another township or county, possibly outside the caller's area (the 户籍
    county of a child from elsewhere): any township or county of the division table."""

    _regions = Region.objects.filter(level__in=(RegionLevel.TOWNSHIP, RegionLevel.COUNTY))

    region = serializers.PrimaryKeyRelatedField(
        label="告知对象编号（乡镇或县）", queryset=_regions, allow_null=True, default=None
    )
    region_code = serializers.SlugRelatedField(
        label="告知对象区划代码（乡镇或县）",
        slug_field="code",
        queryset=_regions,
        required=False,
        error_messages={"does_not_exist": "区划代码“{value}”不是乡镇或县。"},
    )
    text = optional_text("告知内容（必填）")

    def validate(self, attrs):
        by_id_or_code(attrs, "region", "告知对象")
        return attrs


class CaseMemberInputSerializer(serializers.Serializer):
    user = _account("包保人员账号编号（本县）")
    duty = serializers.ChoiceField(
        label="包保身份（不填则按账号角色）", choices=Duty.choices, required=False
    )


class CaseTeamSerializer(serializers.Serializer):
    members = CaseMemberInputSerializer(label="包保小组（完整名单，未列出的人员退出）", many=True)

    def team(self) -> list[tuple[User, str]]:
        return [
            (member["user"], member.get("duty") or services.duty_for(member["user"]))
            for member in self.validated_data["members"]
        ]


class CasePlanInputSerializer(serializers.Serializer):
    cause = optional_text("原因分析（必填）")
    measures = optional_text("劝返措施（必填）")
    help = serializers.ListField(
        label="帮扶措施", child=serializers.ChoiceField(choices=Help.choices), default=list
    )


class CaseActionInputSerializer(serializers.Serializer):
    """One persuasion action; attachments come as multipart files (JPG, PNG or PDF)."""

    date = serializers.DateField(label="劝返日期（不晚于今天）")
    method = serializers.ChoiceField(label="劝返方式", choices=Method.choices)
    result = optional_text("劝返情况及结果（必填）")
    participants = _account("其他参与人员账号编号（记录人自动计入）", many=True, required=False)
    participant_names = optional_text("其他参与人员（无账号的）", 200)
    departments = serializers.ListField(
        label="参与部门（联合劝返必填）",
        child=serializers.ChoiceField(choices=Department.choices),
        default=list,
    )
    attachments = serializers.ListField(
        label="照片或PDF（JPG、PNG、PDF，每个不超过上限，图片元数据会被去除）",
        child=UploadField(),
        default=list,
    )


class OfflineVisitInputSerializer(CaseActionInputSerializer):
    """A home visit recorded offline on a phone (issue 17): the action, its client-generated
    UUID and the case's version the phone edited."""

    client_id = serializers.UUIDField(label="离线记录编号")
    base_version = serializers.IntegerField(label="手机载入时案件的版本号", min_value=0)


class OfflineVisitResultSerializer(serializers.Serializer):
    """What an offline visit produced; the same for every replay of its UUID."""

    replayed = serializers.BooleanField(label="此前已收到（重复提交）")
    action = serializers.IntegerField(label="劝返记录编号")
    case = serializers.IntegerField(label="案件编号")
    version = serializers.IntegerField(label="登记后的案件版本号")
    date = serializers.DateField(label="劝返日期")
    method = serializers.CharField(label="劝返方式")
    attachments = serializers.IntegerField(label="附件数")


class CaseStepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(label="推进到的劝返步骤", choices=Step.choices)
    reason = optional_text("理由（跳过步骤时必填）", 500)
    step_deadline = serializers.DateField(
        label="限期改正的截止日期（责令改正必填）", allow_null=True, default=None
    )


class CaseReturnSerializer(serializers.Serializer):
    placement = serializers.ChoiceField(label="安置方式", choices=Placement.choices)
    school = CaseCountyField(
        what="学校",
        label="复学学校编号（默认孩子的学校）",
        queryset=School.objects.all(),
        allow_null=True,
        default=None,
    )
    klass = CaseCountyField(
        what="班级",
        label="复学班级编号",
        queryset=SchoolClass.objects.all(),
        allow_null=True,
        default=None,
    )
    grade = serializers.IntegerField(
        label="复学年级（默认按离校时间建议）",
        min_value=1,
        max_value=9,
        allow_null=True,
        default=None,
    )
    returned_on = serializers.DateField(label="复学日期（默认今天）", allow_null=True, default=None)
    note = optional_text("说明")
    student = CaseCountyField(
        what="学生",
        label="入学后的学生编号（未入学儿童）",
        queryset=Student.objects.all(),
        allow_null=True,
        default=None,
    )


class CaseDeferSerializer(serializers.Serializer):
    reason = optional_text("延缓入学或休学的理由（必填）")
    court_ruling = serializers.BooleanField(label="法院已判决且监护人已履行义务", default=False)


# ---------------------------------------------------------------------------------------------
# Output


class AccountSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "role_display"]
        read_only_fields = fields


class CaseMemberSerializer(serializers.ModelSerializer):
    user = AccountSerializer(label="包保人员", read_only=True)
    duty_display = serializers.CharField(source="get_duty_display", read_only=True)

    class Meta:
        model = CaseMember
        fields = ["user", "duty", "duty_display", "added_at"]
        read_only_fields = fields


class CasePlanSerializer(serializers.ModelSerializer):
    help = serializers.ListField(
        label="帮扶措施", child=serializers.ChoiceField(choices=Help.choices), read_only=True
    )
    help_labels = serializers.SerializerMethodField(label="帮扶措施（名称）")
    author = serializers.CharField(source="author.username", label="制定人", read_only=True)

    class Meta:
        model = CasePlan
        fields = [
            "id",
            "version",
            "cause",
            "measures",
            "help",
            "help_labels",
            "author",
            "created_at",
        ]
        read_only_fields = fields

    def get_help_labels(self, plan: CasePlan) -> list[str]:
        return [_HELP.get(value, value) for value in plan.help]


class CaseAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(label="下载地址（页面登录后可用）")

    class Meta:
        model = CaseAttachment
        fields = ["id", "content_type", "size", "sha256", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment: CaseAttachment) -> str:
        return reverse("returns-attachment", args=[attachment.pk])


class CaseActionSerializer(serializers.ModelSerializer):
    step_display = serializers.CharField(source="get_step_display", read_only=True)
    method_display = serializers.CharField(source="get_method_display", read_only=True)
    departments = serializers.ListField(
        label="参与部门",
        child=serializers.ChoiceField(choices=Department.choices),
        read_only=True,
    )
    department_labels = serializers.SerializerMethodField(label="参与部门（名称）")
    participants = AccountSerializer(label="参与人员（账号）", many=True, read_only=True)
    recorded_by = serializers.CharField(
        source="recorded_by.username", label="记录人", read_only=True
    )
    attachments = CaseAttachmentSerializer(label="附件", many=True, read_only=True)

    class Meta:
        model = CaseAction
        fields = [
            "id",
            "date",
            "step",
            "step_display",
            "method",
            "method_display",
            "departments",
            "department_labels",
            "participants",
            "participant_names",
            "result",
            "recorded_by",
            "recorded_at",
            "attachments",
        ]
        read_only_fields = fields

    def get_department_labels(self, action: CaseAction) -> list[str]:
        return [_DEPARTMENTS.get(value, value) for value in action.departments]


class CaseEventSerializer(serializers.ModelSerializer):
    """One line of the case's timeline."""

    action_display = serializers.CharField(source="get_action_display", read_only=True)
    state_before = BlankAsNullChoiceField(
        label="操作前状态", choices=CaseState.choices, help_text="下达指令时为 null"
    )
    state_after_display = serializers.CharField(source="get_state_after_display", read_only=True)
    region_name = serializers.CharField(
        source="region.name", label="告知/指派对象", allow_null=True, read_only=True
    )
    actor = serializers.SerializerMethodField(
        label="操作人", help_text=f"复学跟踪自动写入的为“{services.RULE_ACTOR}”"
    )

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "action",
            "action_display",
            "state_before",
            "state_after",
            "state_after_display",
            "step_before",
            "step_after",
            "region",
            "region_name",
            "note",
            "actor",
            "at",
        ]
        read_only_fields = fields

    def get_actor(self, event: CaseEvent) -> str:
        return event.actor.username if event.actor_id else services.RULE_ACTOR


class CaseDocumentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    generated_by = serializers.CharField(
        source="generated_by.username", label="生成人", read_only=True
    )
    url = serializers.SerializerMethodField(label="下载地址（本接口）")

    class Meta:
        model = CaseDocument
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "sha256",
            "template_version",
            "size",
            "generated_by",
            "generated_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, document: CaseDocument) -> str:
        return reverse(
            "api-return-case-document", kwargs={"pk": document.case_id, "doc_id": document.pk}
        )


class ReturnCaseSerializer(serializers.ModelSerializer):
    """A case as the list shows it. The child's ID number is masked."""

    name = serializers.CharField(source="entry.name", label="姓名", read_only=True)
    id_number = serializers.CharField(
        source="entry.masked_id_number", label="身份证号（脱敏）", read_only=True
    )
    school_name = serializers.CharField(
        source="school.name", label="学校", allow_null=True, read_only=True
    )
    township_name = serializers.CharField(
        source="township.name",
        label="责任乡镇",
        allow_null=True,
        read_only=True,
        help_text="null：户籍地在县外，县教体局暂管",
    )
    co_township_name = serializers.CharField(
        source="co_township.name", label="共同劝返乡镇", allow_null=True, read_only=True
    )
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    step_display = serializers.CharField(source="get_step_display", read_only=True)
    responsible_rule_display = serializers.CharField(
        source="get_responsible_rule_display", read_only=True
    )
    placement = BlankAsNullChoiceField(
        label="安置方式", choices=Placement.choices, help_text="未复学时为 null"
    )
    # Annotated by selectors.cases (the viewset's queryset): the order of "my cases".
    urgency = serializers.IntegerField(
        label="紧急程度",
        read_only=True,
        help_text="0 责令改正逾期，1 超过规定天数无劝返记录，2 新指令待签收，3 其他，4 已结案",
    )

    class Meta:
        model = ReturnCase
        fields = [
            "id",
            "entry",
            "name",
            "id_number",
            "school",
            "school_name",
            "county",
            "township",
            "township_name",
            "co_township",
            "co_township_name",
            "responsible_rule",
            "responsible_rule_display",
            "state",
            "state_display",
            "step",
            "step_display",
            "step_deadline",
            "urgency",
            "instructed_at",
            "acknowledged_at",
            "last_action_on",
            "placement",
            "returned_on",
            "follow_up_until",
            "deferred_on",
            "closed_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReturnCaseDetailSerializer(ReturnCaseSerializer):
    """One case with its team, plan (the latest version and every version), actions with
    their attachments, timeline, documents and what the caller may do to it now."""

    instructed_by = serializers.CharField(
        source="instructed_by.username", label="下达人", read_only=True
    )
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", label="签收人", allow_null=True, read_only=True
    )
    return_school_name = serializers.CharField(
        source="return_school.name", label="复学学校", allow_null=True, read_only=True
    )
    members = CaseMemberSerializer(label="包保小组", many=True, read_only=True)
    plan = serializers.SerializerMethodField(label="当前劝返方案（最新版本，未制定时为 null）")
    plans = CasePlanSerializer(label="劝返方案各版本（新的在前）", many=True, read_only=True)
    actions = CaseActionSerializer(label="劝返记录（新的在前）", many=True, read_only=True)
    joint_count = serializers.SerializerMethodField(label="联合劝返次数")
    events = serializers.SerializerMethodField(label="过程记录（时间线）")
    documents = serializers.SerializerMethodField(label="已生成的文书")
    possible_actions = serializers.SerializerMethodField(label="当前账号可执行的操作")

    class Meta(ReturnCaseSerializer.Meta):
        fields = [
            *ReturnCaseSerializer.Meta.fields,
            "responsible_note",
            "override_reason",
            "instructed_by",
            "acknowledged_by",
            "return_school",
            "return_school_name",
            "return_class",
            "return_grade",
            "deferral_reason",
            "members",
            "plan",
            "plans",
            "actions",
            "joint_count",
            "events",
            "documents",
            "possible_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CasePlanSerializer(allow_null=True))
    def get_plan(self, case: ReturnCase) -> dict | None:
        latest = next(iter(case.plans.all()), None)
        return CasePlanSerializer(latest).data if latest is not None else None

    def get_joint_count(self, case: ReturnCase) -> int:
        return sum(action.method == Method.JOINT for action in case.actions.all())

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_events(self, case: ReturnCase) -> list[dict]:
        return CaseEventSerializer(selectors.timeline(case), many=True).data

    @extend_schema_field(CaseDocumentSerializer(many=True))
    def get_documents(self, case: ReturnCase) -> list[dict]:
        return CaseDocumentSerializer(case.documents.all(), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Action.choices)))
    def get_possible_actions(self, case: ReturnCase) -> list[str]:
        return [
            action.value
            for action in permissions.possible_actions(self.context["request"].user, case)
        ]


class CaseDocumentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(label="文书类型", choices=DocumentType.choices)
    reveal = serializers.BooleanField(
        label="显示完整身份证号和电话（须有查看权限，会记入审计）", default=False
    )
    return_by = serializers.DateField(
        label="复学通知书：要求返校的日期（不填则留空待手写）", allow_null=True, default=None
    )
