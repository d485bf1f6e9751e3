"""Page forms. Choice fields only offer records inside the user's area."""

from django import forms

from kongchuo.filters import NO_MATCH

from . import lookups
from .choices import COUNTY_GRANTABLE_ROLES, AuditAction, RegionLevel, Role
from .models import School, User, grade_label


class ScopedForm(forms.Form):
    """Narrows every model choice field to the acting user's area, and gives the search
    fields (accounts.lookups) the acting user. Regions and schools are searched rather than
    listed: an area can hold thousands of them."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.for_user(user)
        lookups.bind_user(self, user)


class RegionForm(ScopedForm):
    parent = lookups.RegionField(
        levels=(RegionLevel.COUNTY, RegionLevel.TOWNSHIP), label="上级区划"
    )
    code = forms.CharField(label="区划代码", max_length=12, help_text="乡镇9位，村12位")
    name = forms.CharField(label="名称", max_length=64)


class RegionRenameForm(ScopedForm):
    name = forms.CharField(label="名称", max_length=64)


class SchoolForm(ScopedForm):
    code = forms.CharField(label="学校标识码", max_length=10, min_length=10)
    name = forms.CharField(label="学校名称", max_length=100)
    kind = forms.ChoiceField(label="办学类型", choices=School._meta.get_field("kind").choices)
    township = lookups.RegionField(levels=(RegionLevel.TOWNSHIP,), label="所在乡镇")
    parent = lookups.SchoolField(label="所属中心校", required=False)


class SchoolClassForm(ScopedForm):
    school_year = forms.IntegerField(label="学年", min_value=2000, max_value=2100)
    grade = forms.TypedChoiceField(
        label="年级", coerce=int, choices=[(g, grade_label(g)) for g in range(1, 10)]
    )
    name = forms.CharField(label="班级名称", max_length=30)
    head_teacher = forms.ModelChoiceField(
        User.objects.filter(role=Role.CLASS_TEACHER, is_active=True), label="班主任", required=False
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["head_teacher"].queryset = self.fields["head_teacher"].queryset.filter(
            school=school
        )


class AccountForm(ScopedForm):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    role = forms.ChoiceField(
        label="角色", choices=[(r.value, r.label) for r in Role if r in COUNTY_GRANTABLE_ROLES]
    )
    region = lookups.RegionField(
        levels=(RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE),
        label="所属区划",
        required=False,
        help_text="区划级账号填写：输入名称搜索后选择，或填写区划代码",
    )
    school = lookups.SchoolField(
        label="所属学校",
        required=False,
        help_text="学校账号填写：输入校名搜索后选择，或填写学校标识码",
    )
    phone = forms.CharField(label="手机号", max_length=11, required=False)
    email = forms.EmailField(label="电子邮箱", required=False)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["password"]
            self.fields["username"].disabled = True


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="操作", required=False)
    actor = forms.CharField(label="操作人账号", required=False)
    object_type = forms.CharField(label="对象类型", required=False)
    # One child's events: its own record, its ledger entries and its cases (who viewed).
    child = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    since = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "全部"), *AuditAction.choices]


class PlaceFilterForm(ScopedForm):
    """A list page's township and school filters, searched rather than listed (a province
    has fifteen thousand schools). The query parameters carry codes; ``ids`` turns them into
    the ids the selectors take."""

    county = lookups.RegionField(
        levels=(RegionLevel.COUNTY,),
        label="县",
        required=False,
        widget=lookups.LookupInput(
            "lookup-regions", "levels=3", attrs={"placeholder": "全部县", "aria-label": "县"}
        ),
    )
    township = lookups.RegionField(
        levels=(RegionLevel.TOWNSHIP,),
        label="乡镇",
        required=False,
        widget=lookups.LookupInput(
            "lookup-regions", "levels=4", attrs={"placeholder": "全部乡镇", "aria-label": "乡镇"}
        ),
    )
    school = lookups.SchoolField(
        label="学校",
        required=False,
        widget=lookups.LookupInput(
            "lookup-schools", attrs={"placeholder": "全部学校", "aria-label": "学校"}
        ),
    )

    def __init__(self, params, *, user, fields=("township", "school")):
        super().__init__(params, user=user)
        for name in set(self.fields) - set(fields):
            del self.fields[name]

    def ids(self) -> dict[str, int | None]:
        """The chosen records' ids; a code that finds nothing in the area matches nothing."""
        self.is_valid()
        return {
            name: NO_MATCH
            if name in self.errors
            else getattr(self.cleaned_data.get(name), "pk", None)
            for name in self.fields
        }


class TwoFactorCodeForm(forms.Form):
    """The code after the password, or the one that confirms or removes an authenticator."""

    code = forms.CharField(
        label="验证码",
        max_length=16,
        help_text="验证器上当前显示的 6 位数字；手机不在身边时可填一个恢复码",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": "请填写验证码。"},
    )
