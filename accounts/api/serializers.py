from django.contrib.auth import authenticate
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.reverse import reverse

from .. import lockout, two_factor
from ..models import ApiToken, Job, Notification, Region, School, SchoolClass


class AccountLocked(APIException):
    """429 with when the lock ends, in the message, as ``locked_until`` and as Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked"

    def __init__(self, username: str):
        until = lockout.locked_until(username)
        # DRF's handler turns ``wait`` into the Retry-After header.
        self.wait = lockout.seconds_left(until)
        detail = {"detail": lockout.message(until)}
        if until is not None:
            detail["locked_until"] = until.isoformat()
        super().__init__(detail)


class CodeRefused(APIException):
    """401 for a wrong or reused two-factor code (DRF would turn AuthenticationFailed into
    403 on an endpoint without authentication classes)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "otp"
    default_detail = two_factor.WRONG_CODE


class TwoFactorNotEnrolled(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "2fa_required"
    default_detail = "您的角色必须使用两步验证：请先在网页上登录并启用两步验证，再申请接口令牌。"


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名")
    password = serializers.CharField(
        label="密码", style={"input_type": "password"}, trim_whitespace=False
    )
    otp = serializers.CharField(
        label="两步验证码",
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="启用了两步验证的账号必填：验证器上的 6 位数字，或一个恢复码",
    )
    name = serializers.CharField(
        label="客户端名称",
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="使用该令牌的系统，如“学籍同步”；同一账号的每个客户端各申请一个令牌",
    )
    read_only = serializers.BooleanField(label="只读", required=False, default=False)
    expires_in_days = serializers.IntegerField(
        label="有效天数", required=False, min_value=1, max_value=365
    )

    def validate(self, attrs):
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            if getattr(self.context.get("request"), "axes_locked_out", False):
                # django-axes refused (or this failure reached the limit): say so and until
                # when, rather than "wrong password" to the right password.
                raise AccountLocked(attrs["username"])
            # Same answer for an unknown user, a wrong password and a disabled account.
            raise serializers.ValidationError(
                {"non_field_errors": ["用户名或密码错误，或账号已停用。"]}, code="authorization"
            )
        step = two_factor.next_step(user)
        if step == two_factor.CODE:
            if not attrs.get("otp"):
                raise serializers.ValidationError(
                    {"otp": ["该账号已启用两步验证，请填写验证器上的 6 位数字或一个恢复码。"]},
                    code="required",
                )
            if not two_factor.verify(user, attrs["otp"]):
                two_factor.record_wrong_code(user, "接口令牌")
                raise CodeRefused()
        elif step == two_factor.ENROL:
            raise TwoFactorNotEnrolled()
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(label="令牌", help_text="只显示这一次，请妥善保存")
    id = serializers.IntegerField(label="令牌编号")
    name = serializers.CharField(label="客户端名称")
    read_only = serializers.BooleanField(label="只读")
    expires_at = serializers.DateTimeField(label="到期时间")


class ApiTokenSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default="", read_only=True)
    current = serializers.SerializerMethodField(label="是否本次请求所用令牌")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "created_at",
            "created_by",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, token) -> bool:
        return getattr(self.context["request"].auth, "pk", None) == token.pk


class TokenRevokeSerializer(serializers.Serializer):
    id = serializers.IntegerField(label="令牌编号", min_value=1, max_value=2**63 - 1)


class RegionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "level_display", "parent"]


class SchoolSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    township_code = serializers.CharField(source="township.code", read_only=True)

    class Meta:
        model = School
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "kind_display",
            "township",
            "township_code",
            "parent",
        ]


class SchoolClassSerializer(serializers.ModelSerializer):
    grade_display = serializers.CharField(source="grade_label", read_only=True)

    class Meta:
        model = SchoolClass
        fields = ["id", "school", "school_year", "grade", "grade_display", "name", "head_teacher"]


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "body",
            "link",
            "created_at",
            "read_at",
            "is_read",
        ]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    """A background job of the caller's (an export): its progress, then its result file."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    download = serializers.SerializerMethodField(help_text="结果文件的下载地址（生成后才有）")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "done",
            "total",
            "percent",
            "message",
            "result_name",
            "download",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_download(self, job: Job) -> str | None:
        if not (job.finished and job.result):
            return None
        return reverse("api-job-download", args=[job.pk], request=self.context.get("request"))


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(label="标为已读的条数")
