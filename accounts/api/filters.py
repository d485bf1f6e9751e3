import django_filters

from kongchuo.filters import IdFilter, PositiveIntegerFilter, StrictBooleanFilter

from ..models import Notification, Region, School, SchoolClass

# Related ids are compared as numbers, never looked up (as for students): an id outside the
# caller's area and one that does not exist both simply match nothing.


class RegionFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label="区划代码")
    parent = IdFilter(field_name="parent_id", label="上级区划编号")
    code_prefix = django_filters.CharFilter(
        field_name="code", lookup_expr="startswith", label="区划代码前缀"
    )

    class Meta:
        model = Region
        fields = ["level", "parent", "code"]


class SchoolFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label="学校名称")
    township = IdFilter(field_name="township_id", label="所在乡镇编号")
    parent = IdFilter(field_name="parent_id", label="中心校编号")

    class Meta:
        model = School
        fields = ["code", "kind", "township", "parent", "name"]


class SchoolClassFilter(django_filters.FilterSet):
    school = IdFilter(field_name="school_id", label="学校编号")
    head_teacher = IdFilter(field_name="head_teacher_id", label="班主任账号编号")
    school_year = PositiveIntegerFilter(label="学年（开始的年份，如 2026 表示 2026–2027 学年）")
    grade = PositiveIntegerFilter(label="年级")

    class Meta:
        model = SchoolClass
        fields = ["school", "school_year", "grade", "head_teacher"]


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull", label="仅未读")

    class Meta:
        model = Notification
        fields = ["kind", "unread"]
