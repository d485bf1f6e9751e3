# Kept apart from kongchuo.api: DRF imports the pagination class while it builds its own
# generic views, before a module that subclasses those views could finish importing.
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

PAGE_SIZE_MESSAGE = "每页条数应为正整数（最大 500，更大的按 500）。"


class IdCursorPagination(CursorPagination):
    """Stable pages for sync clients: ordered by id, page size capped.

    A ``page_size`` that is not a positive whole number is a 400 naming it (DRF would quietly
    fall back to the default page size, and a client would never learn its value was wrong).
    """

    ordering = "id"
    page_size_query_param = "page_size"
    page_size_query_description = "每页条数（默认 50，最大 500，更大的按 500）"
    cursor_query_description = "分页游标：使用上一页返回的 next 或 previous 地址"
    invalid_cursor_message = "分页游标无效，请使用上一页返回的 next 或 previous 地址。"
    max_page_size = 500

    def get_page_size(self, request):
        text = (request.query_params.get(self.page_size_query_param) or "").strip()
        if not text:
            return self.page_size
        digits = text.lstrip("0")
        if not (text.isascii() and text.isdigit()) or not digits:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_MESSAGE]})
        # Compared by length first: int() of a few thousand digits is refused by Python itself.
        if len(digits) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
