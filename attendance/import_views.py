"""考勤表导入 pages: upload a sheet, download a template of either layout. Every upload runs
as a background job (``attendance.imports``); the job page follows it."""

import io

from django import forms
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone

from accounts import jobs
from accounts.choices import JobKind
from accounts.views import ServiceFormView, check
from kongchuo.errors import AppError
from kongchuo.xlsx import CONTENT_TYPE

from . import imports
from .permissions import IMPORT


class AttendanceUploadForm(forms.Form):
    file = forms.FileField(
        label="考勤表文件",
        help_text="Excel（.xlsx）或 CSV 文件（UTF-8 或 GBK 编码均可）。",
        error_messages={
            "required": "请选择要上传的考勤表。",
            "empty": "文件是空的，请选择填写好的考勤表。",
            "invalid": "没有收到文件，请重新选择。",
        },
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,.csv,{CONTENT_TYPE},text/csv"}),
    )
    valid_only = forms.BooleanField(
        label="只导入有效行",
        required=False,
        help_text="不勾选时，只要有一行有错就不导入任何数据；勾选后导入无错的行，有错的行列出待改正。",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"文件超过 {imports.MAX_FILE_BYTES // 1024 // 1024} MB 的上限，请按周或按月分批导入。"
            )
        return upload


class AttendanceImportView(ServiceFormView):
    requires = IMPORT
    form_class = AttendanceUploadForm
    template_name = "attendance/import.html"
    title = "导入考勤表"
    success_message = "考勤表已上传，正在后台检查和导入，本页会自动刷新显示进度。"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "max_megabytes": imports.MAX_FILE_BYTES // 1024 // 1024,
            "max_rows": imports.MAX_ROWS,
            "words": imports.WORD_LIST,
        }

    def perform(self, data):
        upload = data["file"]
        upload.seek(0)
        try:
            imports.check_file(upload.read())
        except AppError as exc:
            raise AppError(exc.message, field="file") from None
        upload.seek(0)
        return jobs.job_start(
            by=self.request.user,
            kind=JobKind.ATTENDANCE_IMPORT,
            params={"filename": upload.name, "valid_only": data["valid_only"]},
            upload=upload,
        )

    def get_success_url(self, saved):
        return reverse("job-detail", args=[saved.pk])


def attendance_template(request, layout):
    check(request.user, IMPORT)
    if request.user.school is None:
        raise Http404("本账号没有所属学校，没有考勤表模板。")
    name = "每天一列" if layout == imports.WIDE else "每行一天"
    return FileResponse(
        io.BytesIO(imports.template_bytes(request.user, layout)),
        as_attachment=True,
        filename=f"考勤表模板-{name}-{timezone.localdate():%Y%m}.xlsx",
        content_type=CONTENT_TYPE,
    )
