"""The list pages (issue 13): the lists a county uploaded, one list with its error list, and
the upload in two steps — choose the kind and the file; map the list's columns (the guess
pre-filled, the first rows shown) and confirm. Between the steps the file waits in the
default storage under a random name, tied to the uploader's session, so that nothing is lost
when the mapping is refused and it can be corrected. Once the mapping is accepted the file
is handed to a background job (comparisons.upload_jobs), which takes the list in and deletes
it. Thin: parse, call comparisons.sources and upload_jobs, render."""

import io
import uuid

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db.models import OuterRef, Subquery
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import DetailView, ListView

from accounts import jurisdiction
from accounts.permissions import can
from accounts.views import ScopedMixin, check
from kongchuo import xlsx
from kongchuo.errors import AppError
from kongchuo.json_lookups import ArrayLength
from ledger.consistency import county_of

from . import reading, sources, upload_jobs
from .choices import SourceKind
from .forms import MappingForm, SourceUploadForm
from .models import Run, Source
from .permissions import UPLOAD

SHOWN_ERRORS = 200
# Session key: upload token → the waiting file (its storage path, name and kind).
PENDING = "comparison_uploads"
UPLOAD_DIR = "comparisons/uploads"
UPLOAD_QUEUED = (
    "名单已提交，正在后台读取、核对并导入，本页自动刷新。可以离开本页：导入完成后，"
    "名单会出现在“比对名单”中，并自动开始比对。"
)


def _latest_run(queryset):
    latest = Run.objects.filter(source=OuterRef("pk")).order_by("-created_at", "-id")
    return queryset.annotate(latest_run_id=Subquery(latest.values("pk")[:1]))


class SourceListView(ScopedMixin, ListView):
    model = Source
    template_name = "comparisons/source_list.html"
    paginate_by = 50

    def get_queryset(self):
        # The error lists can hold 10,000 problems each: counted in SQL, never loaded.
        found = (
            super()
            .get_queryset()
            .select_related("uploaded_by", "county")
            .defer("errors", "mapping")
            .annotate(problem_count=ArrayLength("errors"))
        )
        kind = self.request.GET.get("kind", "")
        if kind in SourceKind.values:
            found = found.filter(kind=kind)
        return _latest_run(found)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "kinds": SourceKind.choices,
            "can_upload": can(self.request.user, UPLOAD),
            # Above a county, lists of several counties: each says whose it is.
            "show_county": county_of(self.request.user) is None,
        }


class SourceDetailView(ScopedMixin, DetailView):
    model = Source
    template_name = "comparisons/source_detail.html"

    def get_queryset(self):
        return _latest_run(super().get_queryset().select_related("uploaded_by", "county"))

    def get_context_data(self, **kwargs):
        source = self.object
        labels = {f.key: f.label for f in sources.FIELDS.get(source.kind, ())}
        problems = source.errors
        return {
            **super().get_context_data(**kwargs),
            "mapping": [(labels.get(key, key), heading) for key, heading in source.mapping.items()],
            "problems": problems[:SHOWN_ERRORS],
            "more_problems": max(0, len(problems) - SHOWN_ERRORS),
            "warnings": sum(p.get("level") == sources.WARNING for p in problems),
            "staged": source.row_count - source.error_count,
            "runs": source.runs.order_by("-created_at", "-id")[:10],
        }


def source_errors(request, pk):
    source = jurisdiction.get_or_404(request.user, Source, pk=pk)
    content, filename = sources.errors_workbook(source)
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=xlsx.CONTENT_TYPE
    )


# -- the upload ------------------------------------------------------------------------------


def _pending(request) -> dict:
    return request.session.get(PENDING, {})


def _forget(request, token: str) -> dict | None:
    """Take the waiting file ``token`` off the user's session (the file itself stays)."""
    waiting = _pending(request)
    entry = waiting.pop(token, None)
    request.session[PENDING] = waiting
    return entry


def _discard(request, token: str | None = None) -> None:
    """Delete the user's waiting file (``token``), or every one of them."""
    for key in [token] if token else list(_pending(request)):
        entry = _forget(request, key)
        if entry and default_storage.exists(entry["path"]):
            default_storage.delete(entry["path"])


def _fields_help() -> list[tuple[str, list[tuple[str, bool]]]]:
    return [
        (label, [(f.label, f.required) for f in sources.FIELDS[kind]])
        for kind, label in SourceKind.choices
    ]


def source_upload(request):
    """Step 1 (no ``upload`` token): the kind and the file. Step 2 (``?upload=…``): the
    mapping, checked at once, then the upload itself as a background job (its page follows it)."""
    check(request.user, UPLOAD)
    token = request.GET.get("upload", "")
    entry = _pending(request).get(token) if token else None
    if entry is None:
        return _choose_file(request, missing=bool(token))
    return _map_columns(request, token, entry)


def _choose_file(request, *, missing: bool):
    if missing:
        messages.warning(request, "上一步选择的文件已不在（已上传完成或已过期），请重新选择文件。")
    form = SourceUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sources.preview(upload, name=upload.name)
        except AppError as exc:
            form.add_error("file", exc.message)
        else:
            _discard(request)  # an earlier file left waiting by this user
            upload.seek(0)
            path = default_storage.save(f"{UPLOAD_DIR}/{uuid.uuid4().hex}", upload)
            token = uuid.uuid4().hex
            request.session[PENDING] = {
                token: {"path": path, "name": upload.name, "kind": form.cleaned_data["kind"]}
            }
            messages.info(request, "文件已读取。请核对每个字段对应名单中的哪一列，然后确认上传。")
            return redirect(f"{reverse('comparisons-upload')}?upload={token}")
    return render(
        request,
        "comparisons/upload.html",
        {"form": form, "fields_help": _fields_help(), "max_megabytes": _max_megabytes()},
    )


def _max_megabytes() -> int:
    return reading.max_bytes() // 1024 // 1024


def _map_columns(request, token: str, entry: dict):
    kind = entry["kind"]
    with default_storage.open(entry["path"], "rb") as file:
        try:
            table, rows = sources.preview(file, name=entry["name"])
        except AppError as exc:
            _discard(request, token)
            messages.error(request, exc.message)
            return redirect("comparisons-upload")
    county = county_of(request.user)
    initial = sources.suggest_mapping(county, kind, table.headings) if county else {}
    form = MappingForm(request.POST or None, kind=kind, headings=table.headings, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = upload_jobs.upload_start(
                by=request.user,
                kind=kind,
                path=entry["path"],
                name=entry["name"],
                headings=table.headings,
                mapping=form.mapping(),
            )
        except AppError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            _forget(request, token)  # the file is the job's now: it deletes it when done
            messages.success(request, UPLOAD_QUEUED)
            return redirect("job-detail", job.pk)
    return render(
        request,
        "comparisons/upload_mapping.html",
        {
            "form": form,
            "kind_label": SourceKind(kind).label,
            "file_name": entry["name"],
            "table": table,
            "preview_rows": [
                [{"heading": h, "value": v} for h, v in zip(table.headings, row, strict=True)]
                for row in rows
            ],
        },
    )
