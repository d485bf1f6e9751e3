"""The roster import pages: upload a file, follow the background job. Every upload runs as a
job (one code path however large the file); the page only refuses what is plainly not a
roster before queuing it."""

import io

from django import forms
from django.http import FileResponse
from django.urls import reverse

from accounts import jobs
from accounts.choices import Capability, JobKind
from accounts.views import ServiceFormView, check
from kongchuo.errors import AppError

from . import imports
from .roster import template_bytes

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="花名册文件",
        help_text="Excel（.xlsx）文件，按模板填写。",
        error_messages={
            "required": "请选择要上传的花名册文件。",
            "empty": "文件是空的，请选择填写好的花名册（.xlsx）。",
            "invalid": "没有收到文件，请重新选择。",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_TYPE}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"文件超过 {imports.MAX_FILE_BYTES // 1024 // 1024} MB 的上限，请分批导入。"
            )
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(imports.NOT_XLSX)
        return upload


class RosterImportView(ServiceFormView):
    requires = Capability.MANAGE_STUDENTS
    form_class = RosterUploadForm
    template_name = "students/import.html"
    title = "导入学生花名册"
    success_message = "花名册已上传，正在后台导入，本页会自动刷新显示进度。"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "max_megabytes": imports.MAX_FILE_BYTES // 1024 // 1024,
            "max_rows": imports.MAX_ROWS,
        }

    def perform(self, data):
        upload = data["file"]
        # The full zip checks run here too, so a wrong file is refused on the page at once.
        upload.seek(0)
        try:
            imports.check_file(upload.read(), upload.name)
        except AppError as exc:
            raise AppError(exc.message, field="file") from None
        upload.seek(0)
        return jobs.job_start(
            by=self.request.user,
            kind=JobKind.ROSTER_IMPORT,
            params={"filename": upload.name},
            upload=upload,
        )

    def get_success_url(self, saved):
        return reverse("job-detail", args=[saved.pk])


def roster_template(request):
    check(request.user, Capability.MANAGE_STUDENTS)
    school = request.user.school
    content = template_bytes(school_code=school.code if school else "")
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename="学生花名册模板.xlsx",
        content_type=XLSX_TYPE,
    )
