# Encryption at rest (issue 15 §3), step 2 of 3: seal the plain values (keys from settings).

from django.db import migrations

from kongchuo import crypto
from kongchuo.masking import mask_id_number
from kongchuo.sealed import rewrite


def _sealed(text, empty):
    return crypto.seal(str(text)) if text not in (None, "") else empty


def _student(row):
    id_number, disability_type, disability_grade = row
    if not (id_number or disability_type or disability_grade is not None):
        return None
    return (
        _sealed(id_number, None),
        crypto.lookup_hash(id_number),
        mask_id_number(id_number or ""),
        _sealed(disability_type, b""),
        _sealed(disability_grade, None),
    )


def _guardian(row):
    (phone,) = row
    return (_sealed(phone, b""),) if phone else None


def seal(apps, schema_editor):
    connection = schema_editor.connection
    rewrite(
        connection,
        apps.get_model("students", "Student"),
        ["id_number", "disability_type", "disability_grade"],
        [
            "sealed_id_number",
            "id_hash",
            "id_masked",
            "sealed_disability_type",
            "sealed_disability_grade",
        ],
        _student,
    )
    rewrite(
        connection, apps.get_model("students", "Guardian"), ["phone"], ["sealed_phone"], _guardian
    )


class Migration(migrations.Migration):
    dependencies = [("students", "0011_sealed_columns")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
