import django_filters

from kongchuo.filters import IdFilter, StrictBooleanFilter

from .. import selectors
from ..choices import Change, MismatchKind, RunStatus, SourceKind, Strength
from ..models import Mismatch, Run

# Query parameter → keyword of selectors.mismatches where the two names differ.
_SELECTOR_ARGS = {"q": "query"}


class RunFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label="名单类型")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, label="状态")

    class Meta:
        model = Run
        fields: list[str] = []


class MismatchFilter(django_filters.FilterSet):
    """The mismatch list page's filters (selectors.mismatches). They only parse and validate
    (a bad value is a 400 naming the parameter); what each one means is the selector's, so
    the page and the API cannot drift apart. Without ``run``: the current mismatches (of the
    latest finished run of each county and kind of list)."""

    # Ids are compared as numbers, not looked up: an out-of-area id simply matches nothing.
    run = IdFilter(label="比对任务编号（不填：各类名单最近一次比对）")
    county = IdFilter(label="县编号（县级以上账号）")
    township = IdFilter(label="乡镇编号（责任乡镇或责任学校所在乡镇）")
    school = IdFilter(label="责任学校编号")
    kind = django_filters.ChoiceFilter(choices=MismatchKind.choices, label="不一致类型")
    strength = django_filters.ChoiceFilter(choices=Strength.choices, label="匹配方式")
    change = django_filters.ChoiceFilter(choices=Change.choices, label="与上次相比")
    handled = StrictBooleanFilter(label="已处理（false：待处理）")
    q = django_filters.CharFilter(label="姓名（包含）或身份证号（完整）")

    class Meta:
        model = Mismatch
        fields: list[str] = []

    def filter_queryset(self, queryset):
        chosen = {
            _SELECTOR_ARGS.get(name, name): value
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "")
        }
        # selectors.mismatches scopes to the caller's area itself: the viewset's queryset is
        # the same selector unfiltered, so the filtered one replaces it.
        return selectors.mismatches(self.request.user, **chosen)
