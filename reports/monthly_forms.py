"""Page forms of the 月报表. They parse input; the rules (lengths, the correction's reason,
the future period) are the services' (reports.monthly), whose errors come back onto the
field they name — the field names here are the ones its AppErrors use."""

from django import forms
from django.utils import timezone

from accounts.forms import ScopedForm
from accounts.models import School

from .monthly import DraftChanges


class OpenForm(ScopedForm):
    school = forms.ModelChoiceField(
        label="学校", queryset=School.objects.all(), error_messages={"required": "请选择学校。"}
    )
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100)
    month = forms.IntegerField(
        label="月份",
        min_value=1,
        max_value=12,
        error_messages={"min_value": "月份应为1至12。", "max_value": "月份应为1至12。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["year"].initial, self.fields["month"].initial = today.year, today.month


class DraftForm(forms.Form):
    """The draft's header and one 控辍保学措施 field per row (``measures_<row id>``). No
    length limits here: the service names the row that is too long."""

    filled_by = forms.CharField(label="填表人", required=False)
    phone = forms.CharField(label="联系电话", required=False)

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        for row in self.rows:
            self.fields[f"measures_{row.pk}"] = forms.CharField(
                label=f"第{row.position}行 {row.name} 控辍保学措施",
                required=False,
                initial=row.measures,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def row_fields(self):
        return [(row, self[f"measures_{row.pk}"]) for row in self.rows]

    def changes(self) -> DraftChanges:
        """What was posted: a row whose field was not sent keeps its measures."""
        data = self.cleaned_data
        return DraftChanges(
            filled_by=data["filled_by"],
            phone=data["phone"],
            measures={
                row.pk: data[f"measures_{row.pk}"]
                for row in self.rows
                if f"measures_{row.pk}" in self.data
            },
        )


class CorrectForm(forms.Form):
    correction_reason = forms.CharField(
        label="更正原因",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="已签发的版本不再改动；更正将生成新版本，按台账重新生成名单，原措施保留。",
    )
