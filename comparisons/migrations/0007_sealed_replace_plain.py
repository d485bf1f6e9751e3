# Encryption at rest (issue 15 §3), step 3 of 3: the sealed columns replace the plain ones.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0006_seal_values")]

    operations = [
        *(
            operation
            for model_name in ("sourcerow", "mismatch")
            for operation in (
                migrations.RemoveField(model_name=model_name, name="id_number"),
                migrations.RenameField(
                    model_name=model_name, old_name="sealed_id_number", new_name="id_number"
                ),
            )
        ),
        migrations.AddIndex(
            model_name="sourcerow",
            index=models.Index(fields=["source", "id_hash"], name="source_row_id_hash"),
        ),
    ]
