"""Bulk sync of students (issue 19 §5): /api/v1/sync/students.ndjson and .csv.

Each line is the student as /api/v1/students/ shows it (students.api.serializers
.StudentSerializer: the same keys, the ID number and guardian phones masked as the models'
``masked_*`` properties mask them), plus its ``cursor``. The serializer, and even making the
model instances, cost many times the 33 µs a row that 30,000 rows/s leaves: these lines are
made from ``values_list`` rows, and tests/api/test_sync.py holds them equal to the
serializer's output.

``ScopedSyncView`` is the base of every app's stream: the jurisdiction scope is applied
there, once, and each stream's end is written to the audit trail as an export.
"""

from collections import defaultdict
from itertools import compress

from django.db import connection, connections
from django.db.models import BinaryField, CharField, ExpressionWrapper, F
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import serializers

from accounts import audit, jurisdiction
from accounts.models import grade_label
from kongchuo.sync import SyncView, urls

from ..choices import KeyGroup
from ..models import Guardian, Student
from .serializers import StudentSerializer

# The API's own rendering of a date (ISO 8601).
day = serializers.DateField().to_representation
moment = serializers.DateTimeField().to_representation


_BEIJING = timezone.get_default_timezone()  # TIME_ZONE: no request activates another


def fast_moment(value) -> str:
    """``moment`` for a stream's millions of rows: the same text (Beijing time, ISO 8601)
    without DRF's checks, which cost more than the conversion."""
    return value.astimezone(_BEIJING).isoformat()


def labels(model, field: str) -> dict:
    """A choice field's values → labels, as ``get_<field>_display`` answers them."""
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


class ScopedSyncView(SyncView):
    """A stream of ``queryset`` inside the caller's area (accounts.jurisdiction), as every
    list of the API is."""

    queryset = None

    def get_queryset(self):
        return jurisdiction.scope(self.request.user, self.queryset.all())

    def finished(self, rows: int) -> None:
        audit.record_export(actor=self.request.user, what=f"{self.what}（批量同步）", rows=rows)


_GENDERS = labels(Student, "gender")
_STATUSES = labels(Student, "status")
_KEY_GROUPS = tuple(group.value for group in KeyGroup)  # the order of key_group_values


def _guardians_sql() -> str:
    meta, quote = Guardian._meta, connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("student", "name", "relation", "phone_masked")
    )
    student, pk = quote(meta.get_field("student").column), quote(meta.pk.column)
    # Names from the model, the ids a parameter (an array: PostgreSQL).
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {student} = ANY(%s) ORDER BY {pk}"  # noqa: S608


_GUARDIANS = _guardians_sql()


class StudentSync(ScopedSyncView):
    """Read as rows, not records: the ID number and the guardians' phones from their masked
    copies (``id_masked``, ``phone_masked``: what ``Student.masked_id_number`` and
    ``Guardian.masked_phone`` answer), never decrypted here."""

    queryset = Student.objects.annotate(
        school_code=F("school__code"),
        hukou_region_code=F("hukou_region__code"),
        # Read as the database writes them, so that no row goes through a converter: dates
        # as ISO text, the sealed columns as their bytes (opened in ``line`` where there are
        # any: few children have a disability recorded).
        birth_text=Cast("birth_date", CharField()),
        entry_text=Cast("entry_date", CharField()),
        disability_type_sealed=ExpressionWrapper(F("disability_type"), BinaryField()),
        disability_grade_sealed=ExpressionWrapper(F("disability_grade"), BinaryField()),
    )
    what = "学生"
    basename = "students"
    columns = tuple(StudentSerializer.Meta.fields)
    values = (
        "name",
        "gender",
        "birth_text",
        "ethnicity",
        "id_masked",
        "id_type",
        "student_number",
        "school_id",
        "school_code",
        "klass_id",
        "grade",
        "entry_text",
        "status",
        "hukou_region_id",
        "hukou_region_code",
        "address",
        *_KEY_GROUPS,
        "disability_type_sealed",
        "disability_grade_sealed",
        "merged_into_id",
    )

    def children(self, pks):
        """The batch's guardians in one query, each phone as its masked copy
        (``Guardian.phone_masked``, what ``masked_phone`` answers): nothing is decrypted."""
        database = connections[self.using]
        if database.vendor != "postgresql":
            rows = Guardian.objects.using(self.using).filter(student_id__in=pks).order_by("id")
            rows = rows.values_list("student_id", "name", "relation", "phone_masked")
        else:
            # Without the ORM's compiling, which costs as much as the rows.
            with database.cursor() as cursor:
                cursor.execute(_GUARDIANS, [pks])
                rows = cursor.fetchall()
        guardians = defaultdict(list)
        for student, name, relation, phone in rows:
            guardians[student].append({"name": name, "relation": relation, "phone": phone})
        return guardians

    def line(self, row, guardians) -> dict:
        (pk, updated_at, name, gender, birth_date, ethnicity, id_masked, id_type) = row[:8]
        (student_number, school, school_code, klass, grade, entry_date, status) = row[8:15]
        (hukou_region, hukou_region_code, address) = row[15:18]
        (disability_type, disability_grade, merged_into) = row[_AFTER_KEY_GROUPS:]
        return {
            "id": pk,
            "name": name,
            "gender": gender,
            "gender_display": _GENDERS.get(gender, gender),
            "birth_date": birth_date,
            "ethnicity": ethnicity,
            "id_number": id_masked,
            "id_type": id_type,
            "id_missing": not id_masked,
            "student_number": student_number,
            "school": school,
            "school_code": school_code,
            "klass": klass,
            "grade": grade,
            "grade_display": grade_label(grade),
            "entry_date": entry_date,
            "status": status,
            "status_display": _STATUSES.get(status, status),
            "hukou_region": hukou_region,
            "hukou_region_code": hukou_region_code,
            "address": address,
            "key_groups": list(compress(_KEY_GROUPS, row[18:_AFTER_KEY_GROUPS])),
            "disability_type": _opened(_DISABILITY_TYPE, disability_type) or None,
            "disability_grade": _opened(_DISABILITY_GRADE, disability_grade),
            "guardians": guardians.get(pk, []),
            "merged_into": merged_into,
            "updated_at": fast_moment(updated_at),
        }


_DISABILITY_TYPE = Student._meta.get_field("disability_type")
_DISABILITY_GRADE = Student._meta.get_field("disability_grade")


def _opened(field, sealed):
    """A sealed column's value as its field reads it; None where nothing is stored."""
    return field.from_db_value(sealed, None, None) if sealed else None


# Where the key groups' flags end in a row: after ``pk``, the stamp and the 16 fields before.
_AFTER_KEY_GROUPS = 18 + len(_KEY_GROUPS)


_EXAMPLE = (
    '{"id":12,"name":"李小明",…,"id_number":"532926********0013",…,'
    '"updated_at":"2026-12-01T08:00:00.123456+08:00","cursor":"1796083200123456_12"}\n'
    '{"end":true,"rows":1,"next":"1796083200123456_12"}'
)


urlpatterns = urls(StudentSync, "students", "学生", _EXAMPLE)
