"""Pages of a case's printed documents (returns.documents): print one and go back to the case
with what happened, and download a stored one (scoped: 404 outside the user's area; logged)."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from accounts import jurisdiction
from accounts.permissions import refusal
from kongchuo.errors import AppError

from . import documents, jobs
from .list_views import list_filters, place_filters
from .models import CaseDocument, ReturnCase
from .permissions import DOCUMENT, DOCUMENT_BATCH


def _date(value: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise AppError("复学报到日期格式不正确。", field="return_by") from None


@require_POST
def document_generate(request, pk, kind):
    case = jurisdiction.get_or_404(request.user, ReturnCase, pk=pk)
    reason = refusal(request.user, DOCUMENT, case)
    if reason is not None:
        raise PermissionDenied(reason)
    try:
        document = documents.generate(
            by=request.user,
            case=case,
            kind=kind,
            reveal=request.POST.get("reveal") == "1",
            return_by=_date(request.POST.get("return_by", "")),
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已生成{document.title}并存入案件文书，请下载后用A4纸打印、签字盖章。"
        )
    return redirect(case)


@require_POST
def document_batch(request):
    """The county prints one kind of document for every case of its list as it is filtered
    (the list's query string comes back in ``filters``), as a background job."""
    user = request.user
    reason = refusal(user, DOCUMENT_BATCH, None)
    if reason is not None:
        raise PermissionDenied(reason)
    query = request.POST.get("filters", "")
    params = QueryDict(query)
    try:
        job = jobs.batch_generate(
            by=user,
            kind=request.POST.get("kind", ""),
            **list_filters(params, user, place_filters(params, user)),
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('returns-list')}?{query}")
    messages.success(
        request, "已开始批量生成文书：完成后在本页下载压缩包，每份文书也已存入对应案件。"
    )
    return redirect("job-detail", pk=job.pk)


@require_GET
def document_download(request, pk):
    document = jurisdiction.get_or_404(
        request.user, CaseDocument.objects.select_related("case"), pk=pk
    )
    try:
        filename, data = documents.download(by=request.user, document=document)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect(document.case)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
