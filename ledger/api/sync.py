"""Bulk sync of ledger entries (issue 19 §5): /api/v1/sync/ledger-entries.ndjson and .csv.

Each line is the entry as /api/v1/ledger-entries/ lists it (ledger.api.serializers
.LedgerEntrySerializer: the same keys, the ID number and the parents' contact masked by the
model's ``masked_*`` properties, 逾期未分类 computed in SQL by the list's own selector),
plus its ``cursor``."""

from django.db.models import F

from kongchuo.sync import urls
from students.api.sync import ScopedSyncView, day, moment

from .. import selectors
from ..models import LedgerEntry
from .serializers import LedgerEntrySerializer


def _blank_as_null(value: str) -> str | None:
    return value or None


class LedgerEntrySync(ScopedSyncView):
    queryset = LedgerEntry.objects.annotate(
        school_name=F("school__name"),
        hukou_region_code=F("hukou_region__code"),
        township_name=F("township__name"),
    )
    what = "台账记录"
    basename = "ledger-entries"
    columns = tuple(LedgerEntrySerializer.Meta.fields)

    def get_queryset(self):
        # Today's 逾期未分类, as the list computes it for a page.
        return selectors.with_overdue(super().get_queryset())

    def line(self, entry: LedgerEntry) -> dict:
        return {
            "id": entry.pk,
            "kind": entry.kind,
            "kind_display": entry.get_kind_display(),
            "source": entry.source,
            "source_display": entry.get_source_display(),
            "state": entry.state,
            "state_display": entry.get_state_display(),
            "student": entry.student_id,
            "previous": entry.previous_id,
            "name": entry.name,
            "gender": entry.gender,
            "gender_display": entry.get_gender_display(),
            "birth_date": day(entry.birth_date) if entry.birth_date else None,
            "id_number": entry.masked_id_number,
            "school": entry.school_id,
            "school_name": entry.school_name,
            "grade": entry.grade,
            "grade_display": entry.grade_label,
            "hukou_region": entry.hukou_region_id,
            "hukou_region_code": entry.hukou_region_code,
            "township": entry.township_id,
            "township_name": entry.township_name,
            "record_check": _blank_as_null(entry.record_check),
            "person_status": entry.person_status,
            "family_situation": entry.family_situation,
            "parent_contact": entry.masked_parent_contact,
            "department_opinion": entry.department_opinion,
            "reason": entry.reason,
            "reason_display": entry.get_reason_display(),
            "other_reasons": entry.other_reasons,
            "other_reason_labels": entry.other_reason_labels,
            "whereabouts": entry.whereabouts,
            "whereabouts_display": entry.get_whereabouts_display(),
            "key_groups": entry.key_groups,
            "key_group_labels": entry.key_group_labels,
            "measures": entry.measures,
            "found_on": day(entry.found_on),
            "reviewed_on": day(entry.reviewed_on),
            "is_overdue": entry.is_overdue,
            "review_flag": entry.review_flag,
            "closure_reason": _blank_as_null(entry.closure_reason),
            "closed_at": moment(entry.closed_at) if entry.closed_at else None,
            "created_at": moment(entry.created_at),
            "updated_at": moment(entry.updated_at),
        }


_EXAMPLE = (
    '{"id":7,"kind":"dropout",…,"id_number":"532926********0013",…,'
    '"parent_contact":"138****5678",…,"cursor":"1796083200123456_7"}\n'
    '{"end":true,"rows":1,"next":"1796083200123456_7"}'
)

urlpatterns = urls(LedgerEntrySync, "ledger-entries", "台账记录", _EXAMPLE)
