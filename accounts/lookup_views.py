"""JSON answers for the lookup inputs of forms (static/js/lookup.js). Thin: parse, call a
selector of accounts.lookups, render. A login is required like for every page (the
deny-by-default middleware); a bad parameter is a 400 with the reason in Chinese."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from kongchuo.errors import AppError

from . import jurisdiction, lookups


def _bad_request(exc: AppError) -> JsonResponse:
    return JsonResponse(
        {"detail": exc.message, "errors": exc.errors},
        status=400,
        json_dumps_params={"ensure_ascii": False},
    )


def _results(rows: list[dict]) -> JsonResponse:
    return JsonResponse({"results": rows}, json_dumps_params={"ensure_ascii": False})


@require_GET
def regions(request):
    """``?q=南涧&levels=4,5``: regions anywhere in the country, the user's own area first."""
    try:
        hits = lookups.search_regions(
            request.GET.get("q", ""),
            levels=request.GET.get("levels", ""),
            near=jurisdiction.area_of(request.user).prefix,
        )
    except AppError as exc:
        return _bad_request(exc)
    return _results(
        [
            {"value": hit.code, "label": hit.label, "name": hit.name, "level": hit.level}
            for hit in hits
        ]
    )


@require_GET
def schools(request):
    """``?q=中心学校&anywhere=1``: schools of the user's area, or of the whole system."""
    try:
        anywhere = lookups.parse_flag(request.GET.get("anywhere", ""), name="anywhere")
        hits = lookups.search_schools(request.user, request.GET.get("q", ""), anywhere=anywhere)
    except AppError as exc:
        return _bad_request(exc)
    return _results(
        [
            {
                "value": hit.code,
                "label": hit.label,
                "id": hit.id,
                "name": hit.name,
                "township": hit.township,
                "county": hit.county,
            }
            for hit in hits
        ]
    )
