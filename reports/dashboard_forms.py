"""The dashboards' filters: the area (a region code or a school code), the school year and a
term or a month of it. The form only reads the parameters; what they may be, and whether the
area is the user's, is asked of reports.indicators (the API reads the same)."""

from django import forms

from accounts.lookups import LookupInput
from accounts.models import current_school_year
from kongchuo.errors import AppError

from . import indicators

MONTH_CHOICES = [("", "全学年")] + [
    (str(m), f"{m}月") for m in (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8)
]
TERM_CHOICES = [("", "全学年"), *indicators.TERMS.items()]


class DashboardFilterForm(forms.Form):
    area = forms.CharField(
        label="区域",
        required=False,
        max_length=12,
        widget=LookupInput(
            "lookup-regions",
            "levels=1,2,3,4",
            attrs={"placeholder": "本辖区", "aria-label": "区域"},
        ),
    )
    school = forms.CharField(
        label="学校",
        required=False,
        max_length=10,
        widget=LookupInput(
            "lookup-schools", attrs={"placeholder": "不选学校", "aria-label": "学校"}
        ),
    )
    school_year = forms.IntegerField(label="学年", required=False)
    term = forms.ChoiceField(label="学期", required=False, choices=TERM_CHOICES)
    month = forms.TypedChoiceField(
        label="月份", required=False, choices=MONTH_CHOICES, coerce=int, empty_value=None
    )

    def year_choices(self) -> list[int]:
        current = current_school_year()
        return list(range(current, current - 6, -1))

    def resolve(self, user) -> tuple[indicators.Place, indicators.Period]:
        """The place and period chosen (the user's own area and this year by default).
        Raises AppError (a bad value, the field named) or PlaceNotFound (not the user's)."""
        if not self.is_valid():
            field, messages = next(iter(self.errors.items()))
            label = self.fields[field].label
            raise AppError(f"{label}：{messages[0]}", field=field)
        data = self.cleaned_data
        period = indicators.period_of(data["school_year"], data["term"], data["month"])
        place = indicators.resolve_place(user, area=data["area"], school=data["school"])
        return place, period
