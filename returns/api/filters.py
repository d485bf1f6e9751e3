import django_filters

from kongchuo.filters import IdFilter, IsoDateTimeFilter, StrictBooleanFilter

from .. import selectors
from ..choices import CaseState, Step
from ..models import ReturnCase

# Query parameter → keyword of selectors.cases where the two names differ.
_SELECTOR_ARGS = {"q": "query"}


class ReturnCaseFilter(django_filters.FilterSet):
    """The case list page's filters (selectors.cases), plus ``updated_since`` for sync
    clients.

    The filters here only parse and validate (a bad value is a 400 naming the parameter); what
    each one means is the selector's, so the page and the API cannot drift apart.
    """

    # Ids are compared as numbers, not looked up: an out-of-area id simply matches nothing.
    county = IdFilter(label="县编号（县级以上账号）")
    township = IdFilter(label="乡镇编号（责任乡镇或共同劝返乡镇）")
    step = django_filters.TypedChoiceFilter(choices=Step.choices, coerce=int, label="劝返步骤")
    state = django_filters.ChoiceFilter(choices=CaseState.choices, label="状态（办理结果）")
    overdue = StrictBooleanFilter(label="责令改正逾期")
    mine = StrictBooleanFilter(label="我的劝返案件（本人包保、本乡镇或本县暂管的）")
    due = django_filters.ChoiceFilter(
        choices=list(selectors.due_labels().items()), label="待办事项"
    )
    q = django_filters.CharFilter(label="姓名（包含）或身份证号（完整）")
    updated_since = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="更新时间不早于（ISO 8601）"
    )

    class Meta:
        model = ReturnCase
        fields: list[str] = []

    def filter_queryset(self, queryset):
        values = dict(self.form.cleaned_data)
        since = values.pop("updated_since")
        chosen = {
            _SELECTOR_ARGS.get(name, name): value
            for name, value in values.items()
            if value not in (None, "")
        }
        # selectors.cases scopes to the caller's area itself: the viewset's queryset is the
        # same selector unfiltered, so the filtered one replaces it.
        queryset = selectors.cases(self.request.user, **chosen)
        return self.filters["updated_since"].filter(queryset, since)
