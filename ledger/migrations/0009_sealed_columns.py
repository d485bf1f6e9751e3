# Encryption at rest (issue 15 §3), step 1 of 3: the sealed columns beside the plain ones.

from django.db import migrations

import kongchuo.sealed


def _sealed(name, verbose_name, max_length):
    return migrations.AddField(
        model_name="ledgerentry",
        name=f"sealed_{name}",
        field=kongchuo.sealed.SealedField(
            blank=True, default="", max_length=max_length, verbose_name=verbose_name
        ),
        preserve_default=False,
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_consistency_run_by")]

    operations = [
        _sealed("id_number", "身份证号", 18),
        _sealed("family_situation", "家庭情况", 500),
        _sealed("parent_contact", "父母联系方式", 100),
        migrations.AddField(
            model_name="ledgerentry",
            name="id_hash",
            field=kongchuo.sealed.LookupHashField(
                blank=True,
                editable=False,
                max_length=32,
                null=True,
                source="id_number",
                verbose_name="身份证号查找码",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="id_masked",
            field=kongchuo.sealed.MaskedCopyField(
                blank=True,
                default="",
                editable=False,
                max_length=18,
                source="id_number",
                verbose_name="身份证号（脱敏）",
            ),
            preserve_default=False,
        ),
    ]
