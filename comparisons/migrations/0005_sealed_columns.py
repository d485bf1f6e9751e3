# Encryption at rest (issue 15 §3), step 1 of 3: the sealed columns beside the plain ones.

from django.db import migrations

import kongchuo.sealed


def _sealed(model_name):
    return migrations.AddField(
        model_name=model_name,
        name="sealed_id_number",
        field=kongchuo.sealed.SealedField(
            blank=True, default="", max_length=18, verbose_name="身份证号"
        ),
        preserve_default=False,
    )


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0004_source_rows_without_source_check")]

    operations = [
        migrations.RemoveIndex(model_name="sourcerow", name="source_row_id_number"),
        _sealed("sourcerow"),
        _sealed("mismatch"),
        *(
            migrations.AddField(
                model_name=model_name,
                name="id_hash",
                field=kongchuo.sealed.LookupHashField(
                    blank=True,
                    editable=False,
                    max_length=32,
                    null=True,
                    source="id_number",
                    verbose_name="身份证号查找码",
                ),
            )
            for model_name in ("sourcerow", "mismatch")
        ),
        migrations.AddField(
            model_name="mismatch",
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
