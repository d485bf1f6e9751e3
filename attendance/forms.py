"""Page forms of daily attendance."""

import re

from django import forms

from accounts import lookups
from accounts.choices import RegionLevel
from accounts.forms import ScopedForm
from accounts.models import Region

from .choices import Mark, WatchReason
from .models import AttendanceMark, AttendanceRules, WatchMeasure
from .services import MarkData

_DATE = forms.DateInput(attrs={"type": "date"})


class AttendanceDayForm(ScopedForm):
    """The attendance overview's day and, for accounts with several schools, the school."""

    date = forms.DateField(label="日期", required=False, widget=_DATE)
    county = forms.ModelChoiceField(
        Region.objects.filter(level=RegionLevel.COUNTY), label="县", required=False
    )
    # Searched, not listed: a province has fifteen thousand schools.
    school = lookups.SchoolField(
        label="学校",
        required=False,
        widget=lookups.LookupInput(
            "lookup-schools", attrs={"placeholder": "全部学校", "aria-label": "学校"}
        ),
    )


class RollForm(forms.Form):
    """One class's roll: a mark and an optional note for each student on ``rows``
    (attendance.SheetRow). Every student must carry a mark; present is the default."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            pk = row.student.pk
            self.fields[f"mark_{pk}"] = forms.ChoiceField(
                label=f"{row.student.name}的考勤状态",
                choices=Mark.choices,
                initial=row.mark,
                widget=forms.RadioSelect,
                error_messages={"required": f"请为{row.student.name}选择考勤状态。"},
            )
            self.fields[f"note_{pk}"] = forms.CharField(
                label=f"{row.student.name}的备注",
                max_length=AttendanceMark._meta.get_field("note").max_length,
                required=False,
                initial=row.note,
                widget=forms.TextInput(attrs={"placeholder": "如：发烧、家中有事"}),
            )

    def marks(self) -> list[MarkData]:
        data = self.cleaned_data
        return [
            MarkData(
                student=row.student.pk,
                status=data[f"mark_{row.student.pk}"],
                note=data[f"note_{row.student.pk}"],
            )
            for row in self.rows
        ]

    def field_for(self, error_key: str) -> str | None:
        """The form field a service error key (``marks[i].status``) points at, if any."""
        match = re.fullmatch(r"marks\[(\d+)\]\.(\w+)", error_key)
        if not match or int(match[1]) >= len(self.rows):
            return None
        pk = self.rows[int(match[1])].student.pk
        return f"note_{pk}" if match[2] == "note" else f"mark_{pk}"


class AttendanceRulesForm(forms.Form):
    """A county's attendance settings; labels, help and bounds come from the model. The
    watch list's settings may be left empty: they keep their value."""

    def __init__(self, *args, user=None, **kwargs):
        # ServiceFormView passes the acting user; these fields have no records to scope.
        super().__init__(*args, **kwargs)
        self.fields.update(
            forms.fields_for_model(
                AttendanceRules,
                fields=list(AttendanceRules.FORM_FIELDS),
                widgets={"cutoff_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")},
            )
        )
        for name in self._kept():
            self.fields[name].required = False

    @staticmethod
    def _kept() -> list[str]:
        return [name for name in AttendanceRules.FORM_FIELDS if name.startswith("watch_")]

    def clean(self):
        data = super().clean()
        for name in self._kept():
            if data.get(name) is None:
                data.pop(name, None)
        return data


class MeasureForm(forms.Form):
    """A measure for a watched child; labels and lengths from the model, the rules (a date
    not in the future, a partner for 结对帮扶) are attendance.services.measure_record's."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(
            forms.fields_for_model(
                WatchMeasure,
                fields=["kind", "date", "partner", "note"],
                widgets={
                    "date": _DATE,
                    "note": forms.Textarea(
                        attrs={"rows": 2, "placeholder": "如：与家长谈心，孩子答应按时到校"}
                    ),
                },
            )
        )


class WatchFilterForm(ScopedForm):
    """The watch list's filters: one reason, and for an area one school."""

    reason = forms.ChoiceField(
        label="监测原因", choices=[("", "全部原因"), *WatchReason.choices], required=False
    )
    school = lookups.SchoolField(
        label="学校",
        required=False,
        widget=lookups.LookupInput(
            "lookup-schools", attrs={"placeholder": "全部学校", "aria-label": "学校"}
        ),
    )
