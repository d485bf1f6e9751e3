# The guardians' phones masked beside the sealed ones (issue 19 §5): the bulk sync and lists
# show them without decrypting. Filled by opening each phone once.

from django.db import migrations

import kongchuo.sealed
from kongchuo import crypto
from kongchuo.masking import mask_phone
from kongchuo.sealed import rewrite


def _masked(row):
    (sealed,) = row
    return (mask_phone(crypto.unseal(sealed)),) if sealed else None


def fill(apps, schema_editor):
    guardian = apps.get_model("students", "Guardian")
    rewrite(schema_editor.connection, guardian, ["phone"], ["phone_masked"], _masked)


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0013_sealed_replace_plain"),
    ]

    operations = [
        migrations.AddField(
            model_name="guardian",
            name="phone_masked",
            field=kongchuo.sealed.MaskedCopyField(
                blank=True,
                editable=False,
                mask="phone",
                max_length=20,
                source="phone",
                verbose_name="联系电话（脱敏）",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
