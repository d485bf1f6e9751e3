# Encryption at rest (issue 15 §3), step 2 of 3: seal the plain values (keys from settings).

from django.db import migrations

from kongchuo import crypto
from kongchuo.masking import mask_id_number
from kongchuo.sealed import rewrite


def _sealed(text):
    return crypto.seal(text) if text else b""


def _entry(row):
    id_number, family_situation, parent_contact = row
    if not (id_number or family_situation or parent_contact):
        return None
    return (
        _sealed(id_number),
        crypto.lookup_hash(id_number),
        mask_id_number(id_number),
        _sealed(family_situation),
        _sealed(parent_contact),
    )


def seal(apps, schema_editor):
    rewrite(
        schema_editor.connection,
        apps.get_model("ledger", "LedgerEntry"),
        ["id_number", "family_situation", "parent_contact"],
        [
            "sealed_id_number",
            "id_hash",
            "id_masked",
            "sealed_family_situation",
            "sealed_parent_contact",
        ],
        _entry,
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_sealed_columns")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
