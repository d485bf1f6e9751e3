"""Page forms of the list upload: step 1 chooses the kind and the file, step 2 maps the list's
columns to our fields. They only parse; comparisons.sources decides."""

from django import forms

from kongchuo import spreadsheets
from kongchuo.errors import AppError

from . import reading
from .choices import SourceKind
from .sources import FIELDS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_MAPPED = "（名单中没有此列）"


class SourceUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="名单类型",
        choices=[("", "请选择"), *SourceKind.choices],
        error_messages={"required": "请选择名单类型。"},
    )
    file = forms.FileField(
        label="名单文件",
        help_text="CSV（UTF-8 或 GBK 编码均可）或 Excel（.xlsx）文件，第一行为列标题。",
        error_messages={
            "required": "请选择要上传的名单文件。",
            "empty": "文件是空的，请选择要比对的名单（CSV 或 .xlsx）。",
            "invalid": "没有收到文件，请重新选择。",
        },
        widget=forms.ClearableFileInput(attrs={"accept": f".csv,.txt,.xlsx,text/csv,{XLSX_TYPE}"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Refused by its size alone, before anything of it is read.
        try:
            spreadsheets.check_size(
                upload.size, reading.max_bytes(), advice=reading.TOO_LARGE_ADVICE
            )
        except AppError as exc:
            raise forms.ValidationError(exc.message) from None
        return upload


class MappingForm(forms.Form):
    """One choice per our field of the kind: which of the list's columns holds it."""

    def __init__(self, *args, kind: str, headings: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", NOT_MAPPED), *((heading, heading) for heading in headings)]
        for field in FIELDS[kind]:
            self.fields[field.key] = forms.ChoiceField(
                label=field.label,
                required=field.required,
                choices=choices,
                error_messages={
                    "required": f"请选择名单中哪一列是{field.label}。",
                    "invalid_choice": "名单中没有这一列，请重新选择。",
                },
            )

    def mapping(self) -> dict[str, str]:
        return {key: heading for key, heading in self.cleaned_data.items() if heading}
