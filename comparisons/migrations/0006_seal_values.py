# Encryption at rest (issue 15 §3), step 2 of 3: seal the plain values (keys from settings).

from django.db import migrations

from kongchuo import crypto
from kongchuo.masking import mask_id_number
from kongchuo.sealed import rewrite


def _row(row):
    (id_number,) = row
    return (crypto.seal(id_number), crypto.lookup_hash(id_number)) if id_number else None


def _mismatch(row):
    (id_number,) = row
    if not id_number:
        return None
    return crypto.seal(id_number), crypto.lookup_hash(id_number), mask_id_number(id_number)


def seal(apps, schema_editor):
    connection = schema_editor.connection
    rewrite(
        connection,
        apps.get_model("comparisons", "SourceRow"),
        ["id_number"],
        ["sealed_id_number", "id_hash"],
        _row,
    )
    rewrite(
        connection,
        apps.get_model("comparisons", "Mismatch"),
        ["id_number"],
        ["sealed_id_number", "id_hash", "id_masked"],
        _mismatch,
    )


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0005_sealed_columns")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
