"""The roster import pages: upload a file, follow the background job. Every upload runs as a
job (one code path however large the file); the page only refuses what is plainly not a
roster before queuing it. A file in the national 学籍 system's layout is shown first — how
each of its columns is read — and imported once the user confirms (issue 18)."""

import io
import uuid

from django import forms
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import jobs
from accounts.choices import Capability, JobKind
from accounts.views import ServiceFormView, check
from kongchuo.errors import AppError

from . import imports, national
from .roster import template_bytes

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The national file waiting for the user's confirmation: its stored path and name, kept in
# the session, so that only the user who uploaded it can import it.
PENDING = "roster_import_pending"
NOT_PENDING = "没有待确认的文件（可能已导入或已过期），请重新上传。"


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="花名册文件",
        help_text="按模板填写的 Excel（.xlsx），或全国学籍系统导出的学生名单（.xlsx 或 .csv）。",
        error_messages={
            "required": "请选择要上传的花名册文件。",
            "empty": "文件是空的，请选择填写好的花名册（.xlsx）。",
            "invalid": "没有收到文件，请重新选择。",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv," + XLSX_TYPE}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"文件超过 {imports.MAX_FILE_BYTES // 1024 // 1024} MB 的上限，请分批导入。"
            )
        name = upload.name.lower()
        if not (name.endswith(".xlsx") or imports.is_csv(name)):
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
            "national_columns": national.reads_as(),
        }

    def post(self, request, *args, **kwargs):
        if "confirm" in request.POST:
            return self.confirm()
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        upload.seek(0)
        try:
            # The full file checks run here too, so a wrong file is refused on the page at once.
            shown = imports.preview(upload.read(), upload.name)
        except AppError as exc:
            form.add_error("file", exc.message)
            return self.form_invalid(form)
        upload.seek(0)
        if shown.layout == national.TEMPLATE:
            job = self.start(upload, upload.name)
            messages.success(self.request, self.success_message)
            return HttpResponseRedirect(reverse("job-detail", args=[job.pk]))
        # A national file: shown first, imported when the user confirms.
        self.discard_pending()
        path = default_storage.save(f"jobs/uploads/preview-{uuid.uuid4().hex}", upload)
        self.request.session[PENDING] = {"path": path, "filename": upload.name}
        return self.render_to_response(self.get_context_data(form=form, preview=shown))

    def start(self, upload, filename):
        return jobs.job_start(
            by=self.request.user,
            kind=JobKind.ROSTER_IMPORT,
            params={"filename": filename},
            upload=upload,
        )

    def confirm(self):
        pending = self.request.session.pop(PENDING, None)
        if not pending or not default_storage.exists(pending["path"]):
            messages.error(self.request, NOT_PENDING)
            return HttpResponseRedirect(reverse("roster-import"))
        try:
            with default_storage.open(pending["path"], "rb") as stored:
                job = self.start(stored, pending["filename"])
        finally:
            default_storage.delete(pending["path"])
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(reverse("job-detail", args=[job.pk]))

    def discard_pending(self):
        pending = self.request.session.pop(PENDING, None)
        if pending and default_storage.exists(pending["path"]):
            default_storage.delete(pending["path"])


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
