import django_filters

from ..models import Notification, Region, School, SchoolClass


class RegionFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label="区划代码")
    code_prefix = django_filters.CharFilter(
        field_name="code", lookup_expr="startswith", label="区划代码前缀"
    )

    class Meta:
        model = Region
        fields = ["level", "parent", "code"]


class SchoolFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label="学校名称")

    class Meta:
        model = School
        fields = ["code", "kind", "township", "parent", "name"]


class SchoolClassFilter(django_filters.FilterSet):
    class Meta:
        model = SchoolClass
        fields = ["school", "school_year", "grade", "head_teacher"]


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="仅未读"
    )

    class Meta:
        model = Notification
        fields = ["kind", "unread"]
