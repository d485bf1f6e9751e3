from django.contrib.auth import authenticate
from rest_framework import serializers, status
from rest_framework.exceptions import APIException

from .. import lockout
from ..models import Notification, Region, School, SchoolClass


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


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名")
    password = serializers.CharField(
        label="密码", style={"input_type": "password"}, trim_whitespace=False
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
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(label="令牌")


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


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(label="标为已读的条数")
