"""Page forms of the follow-ups on a mismatch. They only parse; comparisons.services (and the
ledger's and students' services behind it) decide."""

from django import forms

from accounts.forms import ScopedForm
from ledger.forms import EntryForm, StudentLookupMixin

_NOTE = {"widget": forms.Textarea(attrs={"rows": 3}), "max_length": 2000}


class ExplainForm(ScopedForm):
    note = forms.CharField(
        label="情况说明", help_text="为什么这条不一致不需要其他处理，例如已核实的情况", **_NOTE
    )


class CorrectFlagForm(ScopedForm):
    confirmed = forms.BooleanField(
        label="已核对：名单上的孩子就是该学生",
        required=False,
        help_text="只按姓名和出生日期匹配的，须先核对确认",
    )
    note = forms.CharField(label="说明", required=False, **_NOTE)


class LinkForm(StudentLookupMixin, ScopedForm):
    """The student the list's child is: the proposed one (hidden), or one typed by ID number
    or 学籍号, inside the user's area."""

    note = forms.CharField(label="说明", required=False, **_NOTE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("student") is None and not self.has_error("student_key"):
            self.add_error("student_key", "请填写要关联的学生的身份证号或学籍号。")
        return cleaned


class OpenEntryForm(EntryForm):
    """The ledger's own entry form without the choice of student, kind and source: a 未入学
    entry from a comparison, started with what the list says (services.entry_prefill)."""

    SECTIONS = [
        ("学籍核查", EntryForm.RECORD_CHECK),
        ("未入学情况", EntryForm.CIRCUMSTANCES),
    ]
    _FIXED = ("student", "student_key", "kind", "source", "found_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self._FIXED:
            del self.fields[name]
        # The list's birth date as a date input shows one (ISO), whatever the locale's format.
        self.fields["birth_date"].widget.format = "%Y-%m-%d"

    def entry_fields(self) -> dict:
        """The EntryData fields the user gave, for services.open_entry."""
        return dict(self.cleaned_data)
