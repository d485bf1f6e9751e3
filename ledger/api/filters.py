import django_filters

from kongchuo.filters import IdFilter, IsoDateTimeFilter, StrictBooleanFilter
from students.choices import KeyGroup

from .. import selectors
from ..choices import EntryKind, Reason, State
from ..models import LedgerEntry

# Query parameter → keyword of selectors.entries where the two names differ.
_SELECTOR_ARGS = {"q": "query"}


class LedgerEntryFilter(django_filters.FilterSet):
    """The ledger pages' filters (selectors.entries), plus ``updated_since`` for sync clients.

    The filters here only parse and validate (a bad value is a 400 naming the parameter); what
    each one means is the selector's, so the pages and the API cannot drift apart.
    """

    # Ids are compared as numbers, not looked up: an out-of-area id simply matches nothing.
    township = IdFilter(label="责任乡镇编号")
    school = IdFilter(label="学校编号")
    grade = django_filters.NumberFilter(label="年级")
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices, label="类别")
    state = django_filters.ChoiceFilter(choices=State.choices, label="状态")
    reason = django_filters.ChoiceFilter(
        choices=Reason.choices, label="辍学原因（主要原因或其他原因）"
    )
    key_group = django_filters.ChoiceFilter(choices=KeyGroup.choices, label="重点群体")
    term = django_filters.DateFilter(
        label="发现日期所在学期：该日期在各记录所属校历中所在的学期（从该学期开学到下学期开学前）"
    )
    overdue = StrictBooleanFilter(label="逾期未分类（本学期开学一个月内未做学期分类复核）")
    rebound = StrictBooleanFilter(label="反弹（曾销号）")
    q = django_filters.CharFilter(label="姓名（包含）或身份证号（完整）")
    updated_since = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="更新时间不早于（ISO 8601）"
    )

    class Meta:
        model = LedgerEntry
        fields: list[str] = []

    def filter_queryset(self, queryset):
        values = dict(self.form.cleaned_data)
        since = values.pop("updated_since")
        if values["term"] is not None:
            values["term"] = values["term"].isoformat()
        chosen = {
            _SELECTOR_ARGS.get(name, name): value
            for name, value in values.items()
            if value not in (None, "")
        }
        # The viewset's queryset is already scoped; the pages' filters narrow it.
        queryset = selectors.filtered(queryset, **chosen)
        return self.filters["updated_since"].filter(queryset, since)
