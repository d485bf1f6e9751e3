# Encryption at rest (issue 15 §3): the report rows' ID numbers sealed, in three steps (the
# sealed column beside the plain one, the values sealed, the plain column dropped).

from django.db import migrations

import kongchuo.sealed
from kongchuo import crypto
from kongchuo.sealed import rewrite


def seal(apps, schema_editor):
    rewrite(
        schema_editor.connection,
        apps.get_model("reports", "ReportRow"),
        ["id_number"],
        ["sealed_id_number"],
        lambda row: (crypto.seal(row[0]),) if row[0] else None,
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="reportrow",
            name="sealed_id_number",
            field=kongchuo.sealed.SealedField(
                blank=True, default="", max_length=18, verbose_name="身份证号码"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(seal, migrations.RunPython.noop),
        migrations.RemoveField(model_name="reportrow", name="id_number"),
        migrations.RenameField(
            model_name="reportrow", old_name="sealed_id_number", new_name="id_number"
        ),
    ]
