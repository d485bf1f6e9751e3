# Encryption at rest (issue 15 §3), step 3 of 3: the sealed columns replace the plain ones.

from django.db import migrations, models

_SEALED = ("id_number", "family_situation", "parent_contact")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_seal_values")]

    operations = [
        *(migrations.RemoveField(model_name="ledgerentry", name=name) for name in _SEALED),
        *(
            migrations.RenameField(
                model_name="ledgerentry", old_name=f"sealed_{name}", new_name=name
            )
            for name in _SEALED
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["id_hash"], name="ledger_id_hash"),
        ),
    ]
