"""Searching regions and schools for forms: the selectors behind ``/lookup/…`` and the form
fields whose text input suggests matches as one types.

Regions are searched in the whole country: a migrant child's 户籍地 may be anywhere, and the
divisions are public reference data. Schools are searched in the user's area, or in the whole
system where a form asks for any school (a 转出 may name a school of another county); of a
school nothing is given out but its id, code, name, township and county.
"""

import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import format_html

from kongchuo.errors import AppError

from . import jurisdiction
from .choices import RegionLevel
from .divisions import full_name
from .models import Region, School

MAX_QUERY = 50
LIMIT = 20
ALL_LEVELS = tuple(RegionLevel.values)
# Up to the province, so that a village's whole name comes with it in the same query.
_ANCESTORS = "parent__parent__parent__parent"


@dataclass(frozen=True)
class RegionHit:
    code: str
    name: str
    level: int
    label: str  # the full name: 云南省大理白族自治州南涧彝族自治县南涧镇


@dataclass(frozen=True)
class SchoolHit:
    id: int
    code: str
    name: str
    township: str
    county: str

    @property
    def label(self) -> str:
        return f"{self.name}（{self.county}{self.township}）"


def clean_query(text) -> str:
    """The search text, trimmed and with full-width digits and letters made plain."""
    query = unicodedata.normalize("NFKC", str(text or "")).strip()
    if len(query) > MAX_QUERY:
        raise AppError(f"搜索内容不能超过{MAX_QUERY}个字符。", field="q")
    if any(unicodedata.category(char) == "Cc" for char in query):
        raise AppError("搜索内容含有无效字符。", field="q")
    return query


def parse_levels(value) -> tuple[int, ...]:
    """Region levels from "4,5" or an iterable of numbers; empty means every level."""
    if isinstance(value, str):
        if not value.strip():
            return ALL_LEVELS
        items = value.split(",")
    else:
        items = [value] if isinstance(value, int) else list(value)
    levels = []
    for item in items:
        text = str(item).strip()
        if not (text.isdigit() and int(text) in ALL_LEVELS):
            raise AppError("级别应为1–5之间的数字，多个用逗号分隔，如 4,5。", field="levels")
        levels.append(int(text))
    return tuple(sorted(set(levels)))


def parse_flag(value, *, name: str) -> bool:
    text = str(value or "").strip().lower()
    if text in ("", "0", "false"):
        return False
    if text in ("1", "true"):
        return True
    raise AppError(f"参数 {name} 应为 1 或 0。", field=name)


def _matching(queryset: QuerySet, query: str, *, code: str, name: str) -> QuerySet:
    """Rows whose code starts with the digits typed, or whose name contains the text; an
    exact or leading name match first."""
    if query.isdigit():
        return queryset.filter(**{f"{code}__startswith": query}).alias(
            _match=Value(0, output_field=IntegerField())
        )
    return queryset.filter(**{f"{name}__contains": query}).alias(
        _match=Case(
            When(**{name: query}, then=0),
            When(**{f"{name}__startswith": query}, then=1),
            default=2,
            output_field=IntegerField(),
        )
    )


def _nearness(code_path: str, near: str):
    """0 for rows inside the prefix ``near`` (the user's own area), 1 in its province, 2
    elsewhere: a name shared across the country lists the user's own one first."""
    whens = [When(**{f"{code_path}__startswith": near}, then=0)] if near else []
    if near[:2]:
        whens.append(When(**{f"{code_path}__startswith": near[:2]}, then=1))
    return Case(*whens, default=2, output_field=IntegerField()) if whens else Value(2)


def search_regions(query, *, levels, limit: int = LIMIT, near: str = "") -> list[RegionHit]:
    """Regions of ``levels`` anywhere in the country whose name contains ``query`` or whose
    code starts with it, each with its full name; one query. ``near`` (a code prefix) ranks
    that area's regions first."""
    query = clean_query(query)
    levels = parse_levels(levels)
    if not query:
        return []

    # Not scoped on purpose: a 户籍地 may be any region of the country (public reference data).
    def ranked(regions: QuerySet) -> QuerySet:
        regions = _matching(regions, query, code="code", name="name")
        return regions.alias(_near=_nearness("code", near)).order_by(
            "_match", "_near", "level", "code"
        )

    # The best ``limit`` are picked from the region table alone, and only they are joined to
    # their ancestors: one query, without joining every match of a common word first.
    best = ranked(Region.objects.filter(level__in=levels)).values("pk")[:limit]
    regions = ranked(Region.objects.filter(pk__in=best)).select_related(_ANCESTORS)
    return [RegionHit(code=r.code, name=r.name, level=r.level, label=full_name(r)) for r in regions]


def search_schools(user, query, *, anywhere: bool, limit: int = LIMIT) -> list[SchoolHit]:
    """Schools whose name contains ``query`` or whose code starts with it: in ``user``'s
    area, or in the whole system when ``anywhere`` (the user's own area listed first)."""
    query = clean_query(query)
    area = jurisdiction.area_of(user)
    if not query or area.kind == jurisdiction.NOTHING:
        return []
    schools = School.objects.all() if anywhere else School.objects.for_user(user)
    schools = _matching(schools, query, code="code", name="name").alias(
        _near=_nearness("township__code", area.prefix)
    )
    rows = schools.order_by("_match", "_near", "code").values_list(
        "id", "code", "name", "township__name", "township__parent__name"
    )
    return [
        SchoolHit(id=pk, code=code, name=name, township=township, county=county or "")
        for pk, code, name, township, county in rows[:limit]
    ]


def _school_choices(user, anywhere: bool) -> QuerySet:
    if anywhere:
        return School.objects.all()
    if user is None:
        raise ImproperlyConfigured(
            "SchoolField(anywhere=False) needs the acting user: call lookups.bind_user(form, user)."
        )
    return School.objects.for_user(user)


def bind_user(form: forms.BaseForm, user) -> None:
    """Give the acting user to the form's lookup fields (a form's fields are its own copies,
    so this binds them for this form only)."""
    for field in form.fields.values():
        if isinstance(field, SchoolField):
            field.user = user


@dataclass(frozen=True)
class Shown:
    """What a lookup input shows: the code in the box, the full name beside it."""

    code: str
    label: str = ""


class LookupInput(forms.TextInput):
    """A text input with a ``<datalist>`` that static/js/lookup.js fills from ``url`` as one
    types; the chosen option puts the code in the box. Without JavaScript one types the code.
    """

    def __init__(self, url_name: str, params: str = "", attrs=None):
        super().__init__(attrs)
        self.url_name = url_name
        self.params = params

    def format_value(self, value):
        return value.code if isinstance(value, Shown) else super().format_value(value)

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        base = attrs.get("id") or f"lookup-{name}"
        shown = value if isinstance(value, Shown) else Shown(self.format_value(value) or "")
        url = reverse(self.url_name) + (f"?{self.params}" if self.params else "")
        attrs.update(
            {
                "type": "text",
                "name": name,
                "id": base,
                "list": f"{base}-options",
                "autocomplete": "off",
                "spellcheck": "false",
                "data-lookup-url": url,
                "data-lookup-name": f"{base}-name",
                "aria-describedby": f"{attrs.get('aria-describedby', '')} {base}-name".strip(),
                "class": f"{attrs.get('class', '')} lookup-input".strip(),
            }
        )
        if shown.code:
            attrs["value"] = shown.code
        return format_html(
            '<div class="lookup"><input{}><datalist id="{}-options"></datalist>'
            '<span class="lookup-name" id="{}-name" aria-live="polite">{}</span></div>',
            flatatt(attrs),
            base,
            base,
            shown.label,
        )


# A suggestion as lookup.js lists it, "full name · code", in case it reaches the server whole.
_SUGGESTION = re.compile(r"·\s*(\d{1,12})$")


class _LookupField(forms.Field):
    def _code(self, value) -> str:
        if isinstance(value, Region | School | Shown):
            return value.code
        text = unicodedata.normalize("NFKC", str(value or "")).strip()
        suggestion = _SUGGESTION.search(text)
        return suggestion.group(1) if suggestion else text

    def has_changed(self, initial, data):
        return self._code(initial) != self._code(data)

    def _lookup(self, code: str):
        raise NotImplementedError

    def _label(self, instance) -> str:
        raise NotImplementedError

    def prepare_value(self, value):
        if isinstance(value, Region | School):
            return Shown(value.code, self._label(value))
        code = self._code(value)
        if not code:
            return Shown("")
        instance = self._lookup(code) if code.isdigit() and len(code) <= 12 else None
        return Shown(code, self._label(instance) if instance is not None else "")

    def to_python(self, value):
        code = self._code(value)
        if code in self.empty_values:
            return None
        instance = self._lookup(code) if code.isdigit() and len(code) <= 12 else None
        if instance is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return instance


class RegionField(_LookupField):
    """A region of ``levels`` anywhere in the country, typed or chosen by its code; the
    cleaned value is the ``Region``."""

    default_error_messages = {
        "invalid_choice": "请从搜索结果中选择，或填写正确的区划代码。",
    }

    def __init__(self, *, levels=(RegionLevel.TOWNSHIP, RegionLevel.VILLAGE), **kwargs):
        try:
            self.levels = parse_levels(levels)
        except AppError as exc:
            raise ImproperlyConfigured(f"RegionField(levels={levels!r}): {exc.message}") from None
        kwargs.setdefault(
            "help_text",
            f"输入名称搜索后选择，或直接填写{'、'.join(RegionLevel(n).label for n in self.levels)}级区划代码",
        )
        kwargs.setdefault(
            "widget", LookupInput("lookup-regions", "levels=" + ",".join(map(str, self.levels)))
        )
        super().__init__(**kwargs)

    def _lookup(self, code: str):
        return (
            Region.objects.select_related(_ANCESTORS)
            .filter(code=code, level__in=self.levels)
            .first()
        )

    def _label(self, instance) -> str:
        return full_name(instance)


class SchoolField(_LookupField):
    """A school, typed or chosen by its 学校标识码: of the user's area, or of the whole system
    when ``anywhere``. The cleaned value is the ``School``. With ``anywhere=False`` the form
    must bind the acting user (``bind_user``)."""

    default_error_messages = {
        "invalid_choice": "请从搜索结果中选择，或填写正确的学校标识码。",
    }

    def __init__(self, *, anywhere: bool = False, user=None, **kwargs):
        self.anywhere = anywhere
        self.user = user
        kwargs.setdefault("help_text", "输入校名搜索后选择，或直接填写10位学校标识码")
        kwargs.setdefault("widget", LookupInput("lookup-schools", "anywhere=1" if anywhere else ""))
        super().__init__(**kwargs)

    def _lookup(self, code: str):
        return (
            _school_choices(self.user, self.anywhere)
            .select_related("township__parent")
            .filter(code=code)
            .first()
        )

    def _label(self, instance) -> str:
        county = instance.township.parent.name if instance.township.parent_id else ""
        return SchoolHit(
            instance.pk, instance.code, instance.name, instance.township.name, county
        ).label
