"""The API schema documents the error answers too, so a client (or a fuzzer) generated from it
knows every status an operation may give and the one error body they share."""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent

# kongchuo.api.exception_handler: ``detail`` always; ``errors`` on a 400, keyed by field or
# query parameter, each a list of messages (a nested input gives nested lists or objects).
ERROR_SCHEMA = {
    "type": "object",
    "description": "错误信息：detail 为概要；请求有误（400）时 errors 按字段或查询参数列出原因。",
    "properties": {
        "detail": {"type": "string", "description": "概要"},
        "errors": {
            "type": "object",
            "description": "字段名或查询参数 → 错误信息列表",
            "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
        },
    },
    "required": ["detail"],
}

_BAD_REQUEST = "请求有误：提交的数据或查询参数无效，errors 按名称列出原因"
_UNAUTHENTICATED = "未登录：缺少令牌或令牌无效"
_FORBIDDEN = "当前账号无权执行此操作"
_NOT_FOUND = "记录不存在或不在管辖范围内（两者答复相同），或分页游标无效"
_THROTTLED = "请求过于频繁或账号已被锁定：Retry-After 给出可重试的秒数"
_UNSUPPORTED = "不支持的请求格式（Content-Type）：请按本接口列出的格式提交"


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the 400/401/403/404 answers, 415 where a body is read
    and 429 where the operation is throttled."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if not operation:
            return operation
        error = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        registry.register_on_missing(error)
        responses = operation.setdefault("responses", {})
        for status_code, description in self.error_statuses(operation):
            responses.setdefault(
                str(status_code),
                {
                    "content": {"application/json": {"schema": error.ref}},
                    "description": description,
                },
            )
        return operation

    def error_statuses(self, operation: dict) -> list[tuple[int, str]]:
        statuses = [(400, _BAD_REQUEST)]
        if self.view.authentication_classes:
            statuses += [(401, _UNAUTHENTICATED), (403, _FORBIDDEN)]
        statuses.append((404, _NOT_FOUND))
        if "requestBody" in operation:
            statuses.append((415, _UNSUPPORTED))
        if self.view.throttle_classes:
            statuses.append((429, _THROTTLED))
        return statuses
