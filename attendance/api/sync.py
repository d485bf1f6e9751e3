"""Bulk sync of attendance (issue 19 §5): /api/v1/sync/attendance.ndjson and .csv.

One line per class-day (roll call) changed since the moment asked, with all its marks, as
/api/v1/attendance/ shows it (attendance.api.serializers.RollCallSerializer: the same keys,
the marks in the roster's order), plus its ``cursor``. A line is the class-day's whole state:
a mark taken back by a later submission is absent from the new line, so a mirror replaces the
day's marks with the line's. The cursor stands on ``changed_at``, which every submission sets."""

from collections import defaultdict

from accounts.models import grade_label
from kongchuo.sync import urls
from students.api.sync import ScopedSyncView, fast_moment, labels

from ..models import AttendanceMark, RollCall
from .serializers import RollCallSerializer

_MARKS = labels(AttendanceMark, "status")


class RollCallSync(ScopedSyncView):
    """Read as rows, not records (a term's class-days of a province are millions)."""

    queryset = RollCall.objects.all()
    stamp = "changed_at"
    what = "考勤"
    basename = "attendance"
    columns = tuple(RollCallSerializer.Meta.fields)
    values = (
        "klass_id",
        "klass__grade",
        "klass__name",
        "school_id",
        "school__code",
        "date",
        "submitted_by__username",
        "submitted_at",
        "changed_by__username",
    )

    def children(self, pks):
        marks = defaultdict(list)
        rows = (
            AttendanceMark.objects.using(self.using)
            .filter(roll_id__in=pks)
            # The roster's order (attendance.selectors.roster), as the API lists a day's marks.
            .order_by("student__student_number", "student__name", "student_id")
            .values_list("roll_id", "student_id", "student__name", "status", "note")
        )
        for roll, student, name, status, note in rows:
            marks[roll].append(
                {
                    "student": student,
                    "name": name,
                    "status": status,
                    "status_display": _MARKS.get(status, status),
                    "note": note,
                }
            )
        return marks

    def line(self, row, marks) -> dict:
        (pk, changed_at, klass, grade, klass_title, school, school_code, date) = row[:8]
        (submitted_by, submitted_at, changed_by) = row[8:]
        return {
            "id": pk,
            "klass": klass,
            # SchoolClass.__str__, without loading the class.
            "klass_name": f"{grade_label(grade)}{klass_title}",
            "school": school,
            "school_code": school_code,
            "date": date.isoformat(),
            "marks": marks.get(pk, []),
            "submitted_by": submitted_by,
            "submitted_at": fast_moment(submitted_at),
            "changed_by": changed_by,
            "changed_at": fast_moment(changed_at),
        }


_EXAMPLE = (
    '{"id":301,"klass":12,"klass_name":"三年级1班",…,"date":"2026-12-01",'
    '"marks":[{"student":5,"name":"李小明","status":"late","status_display":"迟到","note":""}],'
    '…,"cursor":"1796083200123456_301"}\n'
    '{"end":true,"rows":1,"next":"1796083200123456_301"}'
)

urlpatterns = urls(RollCallSync, "attendance", "考勤", _EXAMPLE)
