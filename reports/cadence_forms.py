"""The sign-off and 双月报 forms; the rules are reports.cadence's."""

from django import forms

from accounts.choices import RegionLevel
from accounts.forms import ScopedForm
from accounts.models import Region

from .cadence import SUMMARY_LENGTH


class SignOffForm(forms.Form):
    summary = forms.CharField(
        label="审核意见",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=SUMMARY_LENGTH,
        required=False,  # the service names an empty summary
        help_text="本期控辍保学工作的审核结论、存在问题和整改要求。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)


class CadenceForm(ScopedForm):
    province = forms.ModelChoiceField(
        label="省份",
        queryset=Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code"),
        required=False,
        help_text="系统管理员选择要设置的省份；省级督导设置本省。",
    )
    bimonthly = forms.TypedChoiceField(
        label="报送周期",
        choices=(("0", "每月报送（月报）"), ("1", "每两个月报送（双月报）")),
        coerce=lambda value: value == "1",
    )
