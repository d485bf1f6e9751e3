"""Streamed bulk reads for systems that mirror an area (issue 19 §5): every record changed
since a moment, oldest change first, one line each, in a single response.

A page-by-page mirror of a province reads 3,500 students a second; a stream of lines read
from one server-side cursor reads ten times as many, with flat memory on both sides. The
mechanics live here (parameters, the resume cursor, NDJSON and CSV lines, the streaming
response, the schema); what a line holds and whose rows are read are the apps' (each app's
``api/sync.py`` turns a record into a line with its models' masked properties, and the
scoped base view in ``students.api.sync`` narrows every stream to the caller's area).

Resuming: every line carries ``cursor``, the change time and id of its record, and a
complete NDJSON stream ends with ``{"end": true, "rows": n, "next": cursor}``. A client
that lost the connection, or asked for ``limit`` lines, asks again with ``after=<cursor>``
and gets exactly the records after that one: none twice, none missed.
"""

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import orjson
from django.db import models, transaction
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from .errors import AppError

NDJSON, CSV = "ndjson", "csv"
CONTENT_TYPES = {NDJSON: "application/x-ndjson", CSV: "text/csv"}
# Rows fetched from the server-side cursor at a time (and the prefetches done per batch).
CHUNK_ROWS = 2000
# Bytes gathered before handing them to the server: one write per line costs more than the
# line itself.
FLUSH_BYTES = 256 * 1024
MAX_LIMIT = 10_000_000
PARAMETERS = ("since", "after", "limit")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)
_CURSOR = re.compile(r"^(\d{1,17})_(\d{1,18})$")
# "+08:00" arrives as " 08:00" when the client did not encode the "+" of the query string.
_DECODED_PLUS = re.compile(r" (\d\d(:?\d\d)?)$")

SINCE_MESSAGE = (
    "since 应为 ISO 8601 格式的时间（如 2026-12-01T08:00:00+08:00，未写时区按北京时间）"
    "或日期（如 2026-12-01，即当天 0 时）。"
)
AFTER_MESSAGE = "after 应为上一次同步某一行的 cursor 值（如 1796083200000000_123），原样填写。"
LIMIT_MESSAGE = f"limit 应为 1 至 {MAX_LIMIT} 之间的整数。"


def encode_cursor(at: datetime.datetime, pk: int) -> str:
    """``<microseconds since 1970 UTC>_<id>``: URL-safe, exact, ordered as the rows are."""
    return f"{(at - _EPOCH) // _MICROSECOND}_{pk}"


@dataclass(frozen=True)
class Cursor:
    """Where a stream stands: the change time and id of the last record sent."""

    at: datetime.datetime
    pk: int

    def encode(self) -> str:
        return encode_cursor(self.at, self.pk)

    @classmethod
    def decode(cls, raw: str) -> "Cursor":
        match = _CURSOR.match(raw.strip())
        if match is None:
            raise AppError(AFTER_MESSAGE, field="after")
        # At most 17 and 18 digits: a moment before the year 5000, an id that fits a bigint.
        return cls(_EPOCH + int(match[1]) * _MICROSECOND, int(match[2]))


@dataclass(frozen=True)
class Window:
    """The records a request asks for: changed at or after ``since``, after ``after``."""

    since: datetime.datetime | None = None
    after: Cursor | None = None
    limit: int | None = None

    @classmethod
    def parse(cls, params) -> "Window":
        unknown = sorted(set(params) - set(PARAMETERS))
        if unknown:
            names = "、".join(name[:40] for name in unknown[:5])
            raise AppError(
                f"不支持的查询参数：{names}。可用的参数为 since、after 和 limit。",
                field=unknown[0][:40],
            )
        since = parse_since(params.get("since", ""))
        after = params.get("after", "").strip()
        return cls(
            since=since,
            after=Cursor.decode(after) if after else None,
            limit=parse_limit(params.get("limit", "")),
        )

    def apply(self, queryset: models.QuerySet, stamp: str) -> models.QuerySet:
        """``queryset`` narrowed to the window, in the order of the cursor."""
        if self.since is not None:
            queryset = queryset.filter(**{f"{stamp}__gte": self.since})
        if self.after is not None:
            at, pk = self.after.at, self.after.pk
            queryset = queryset.filter(**{f"{stamp}__gte": at}).filter(
                models.Q(**{f"{stamp}__gt": at}) | models.Q(pk__gt=pk)
            )
        queryset = queryset.order_by(stamp, "pk")
        return queryset[: self.limit] if self.limit else queryset


def parse_since(raw: str) -> datetime.datetime | None:
    raw = _DECODED_PLUS.sub(r"+\1", raw.strip())
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is not None:
                moment = datetime.datetime.combine(day, datetime.time())
    except ValueError:  # well formed, but no such day or time (2026-02-30)
        moment = None
    if moment is None or moment.year < 1971:
        raise AppError(SINCE_MESSAGE, field="since")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_limit(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 8 or not 1 <= int(raw) <= MAX_LIMIT:
        raise AppError(LIMIT_MESSAGE, field="limit")
    return int(raw)


# -- lines --------------------------------------------------------------------------------


def _json(value) -> bytes:
    """A line's JSON as the API's JSONRenderer writes it (compact, Chinese as it is), in
    UTF-8: orjson, a fifth of the standard encoder's time a line."""
    return orjson.dumps(value)


def _buffered(pieces: Iterable[bytes]) -> Iterator[bytes]:
    buffer, size = [], 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= FLUSH_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def ndjson_lines(records: Iterable[dict], counter: list[int], after: Cursor | None):
    last = after.encode() if after else None
    for record in records:
        counter[0] += 1
        last = record["cursor"]
        yield _json(record) + b"\n"
    yield _json({"end": True, "rows": counter[0], "next": last}) + b"\n"


def csv_lines(records: Iterable[dict], counter: list[int], columns: tuple[str, ...]):
    """One header line, then one line per record; a list or an object (guardians, marks)
    is one cell of JSON. Excel opens the file as UTF-8 by its byte-order mark."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    yield ("\ufeff" + out.getvalue()).encode()
    for record in records:
        counter[0] += 1
        out.seek(0)
        out.truncate()
        writer.writerow(
            [
                _json(value).decode() if isinstance(value, (list, dict)) else value
                for value in map(record.get, columns)
            ]
        )
        yield out.getvalue().encode()


# -- the view -----------------------------------------------------------------------------


class SyncView(APIView):
    """One stream: GET answers every record of ``get_queryset()`` in the request's window,
    one line per record made by ``line``, as NDJSON or CSV (``fmt``, one class per format:
    see ``urls``).

    Errors (a bad parameter, no token, too many requests) are the API's JSON errors,
    whatever the client accepts: the stream's own types are set on the stream only."""

    permission_classes = [IsAuthenticated]
    # The field that changes with every write of a record; indexed.
    stamp = "updated_at"
    # The record's keys, in the CSV's column order (``cursor`` comes first).
    columns: tuple[str, ...] = ()
    what = ""  # the records, in Chinese, for the audit trail
    basename = "records"  # of the CSV's file name
    fmt = NDJSON

    def get_queryset(self) -> models.QuerySet:
        raise NotImplementedError

    # A model instance costs more to make than its line: a stream of many rows names the
    # columns it reads (``values_list``: ``pk`` and the stamp first, then these, a tuple),
    # and ``line`` gets each row and what ``children`` found for the rows of its batch.
    values: tuple[str, ...] | None = None

    def line(self, record, children=None) -> dict:
        raise NotImplementedError

    def children(self, pks: list[int]) -> dict:
        """The rows that belong to a batch of records (a student's guardians), by record."""
        return {}

    def finished(self, rows: int) -> None:
        """Called once the stream has ended or the client went away, with the rows sent."""

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def get(self, request):
        fmt = self.fmt
        window = Window.parse(request.query_params)
        queryset = window.apply(self.get_queryset(), self.stamp)
        response = StreamingHttpResponse(
            self._stream(queryset, window, fmt),
            content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"  # nginx passes the lines on as they come
        if fmt == CSV:
            response["Content-Disposition"] = f'attachment; filename="{self.filename()}.csv"'
        return response

    def filename(self) -> str:
        return f"sync-{self.basename}-{timezone.localtime():%Y%m%d-%H%M%S}"

    def _records(self, queryset) -> Iterator[dict]:
        stamp, line = self.stamp, self.line
        if self.values is None:
            for record in queryset.iterator(chunk_size=CHUNK_ROWS):
                values = line(record)
                values["cursor"] = encode_cursor(getattr(record, stamp), record.pk)
                yield values
            return
        self.using = queryset.db  # where ``children`` reads too
        rows = queryset.values_list("pk", stamp, *self.values)
        rows = rows.iterator(chunk_size=CHUNK_ROWS)
        while batch := list(islice(rows, CHUNK_ROWS)):
            children = self.children([row[0] for row in batch])
            for row in batch:
                values = line(row, children)
                values["cursor"] = encode_cursor(row[1], row[0])
                yield values

    def _stream(self, queryset, window: Window, fmt: str) -> Iterator[bytes]:
        counter = [0]
        try:
            # One transaction: the server-side cursor is read as the client reads, not
            # copied whole on the server first (a cursor WITH HOLD, outside a transaction).
            with transaction.atomic(using=queryset.db):
                records = self._records(queryset)
                if fmt == CSV:
                    lines = csv_lines(records, counter, ("cursor", *self.columns))
                else:
                    lines = ndjson_lines(records, counter, window.after)
                yield from _buffered(lines)
        finally:
            self.finished(counter[0])


# -- the schema ---------------------------------------------------------------------------


def sync_schema(*, what: str, fmt: str, example: str) -> Callable:
    """The OpenAPI description of one stream."""
    media = CONTENT_TYPES[fmt]
    if fmt == NDJSON:
        body = (
            f"每行一个 JSON 对象（{what}，与列表接口的字段相同，另有 cursor），按更新时间"
            '从早到晚；完整的响应以 {"end": true, "rows": 行数, "next": cursor} 一行结束，'
            "没有这一行说明连接中断，可用最后一行的 cursor 作为 after 续传。例如：\n" + example
        )
    else:
        body = (
            f"UTF-8（带 BOM）的 CSV，首行为列名，之后每行一条{what}；列表或对象（如监护人）"
            "以 JSON 文本放在一格中。第一列 cursor 可作为 after 续传。"
        )
    return extend_schema(
        summary=f"批量同步{what}（{fmt.upper()}，按更新时间增量，可续传）",
        description=(
            f"按令牌所属账号的管辖范围，流式返回自 since 以来新增或修改的{what}，"
            "证件号和电话与列表接口一样脱敏。一次请求返回全部结果，不分页；"
            "与导出一样限制请求频率。"
        ),
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.STR,
                description="只返回此时刻及以后更新的记录：ISO 8601 时间或日期；不填为全部",
            ),
            OpenApiParameter(
                "after",
                OpenApiTypes.STR,
                description="续传：上一次同步某一行的 cursor，只返回其后的记录",
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"最多返回的行数（1–{MAX_LIMIT}）"
            ),
        ],
        responses={(200, media): OpenApiResponse(OpenApiTypes.STR, description=body)},
    )


def urls(view: type[SyncView], name: str, what: str, example: str = "") -> list:
    """The NDJSON and CSV routes of one stream, ``sync/<name>.ndjson`` and ``.csv``. Their
    names end in ``-export``: the exports' rate limits apply (kongchuo.ratelimits)."""
    routes = []
    for fmt in (NDJSON, CSV):

        def get(self, request):
            return SyncView.get(self, request)

        described = sync_schema(what=what, fmt=fmt, example=example)(get)
        streams = type(f"{view.__name__}{fmt.title()}", (view,), {"fmt": fmt, "get": described})
        routes.append(
            path(f"sync/{name}.{fmt}", streams.as_view(), name=f"api-sync-{name}-{fmt}-export")
        )
    return routes
