# Kept apart from kongchuo.api: DRF imports the pagination class while it builds its own
# generic views, before a module that subclasses those views could finish importing.
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable pages for sync clients: ordered by id, page size capped."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 500
