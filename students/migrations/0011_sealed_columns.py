# Encryption at rest (issue 15 §3), step 1 of 3: the sealed columns beside the plain ones.

from django.db import migrations

import kongchuo.sealed


class Migration(migrations.Migration):
    dependencies = [("students", "0010_event_school_kind_date")]

    operations = [
        migrations.RemoveConstraint(model_name="student", name="student_id_number_unique"),
        migrations.AddField(
            model_name="student",
            name="sealed_id_number",
            field=kongchuo.sealed.SealedField(
                blank=True, max_length=18, null=True, verbose_name="身份证号"
            ),
        ),
        migrations.AddField(
            model_name="student",
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
            model_name="student",
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
        migrations.AddField(
            model_name="student",
            name="sealed_disability_type",
            field=kongchuo.sealed.SealedField(
                blank=True,
                choices=[
                    ("visual", "视力残疾"),
                    ("hearing", "听力残疾"),
                    ("speech", "言语残疾"),
                    ("physical", "肢体残疾"),
                    ("intellectual", "智力残疾"),
                    ("mental", "精神残疾"),
                    ("multiple", "多重残疾"),
                ],
                default="",
                max_length=20,
                verbose_name="残疾类型",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="student",
            name="sealed_disability_grade",
            field=kongchuo.sealed.SealedIntegerField(
                blank=True,
                choices=[(1, "一级"), (2, "二级"), (3, "三级"), (4, "四级")],
                null=True,
                verbose_name="残疾等级",
            ),
        ),
        migrations.AddField(
            model_name="guardian",
            name="sealed_phone",
            field=kongchuo.sealed.SealedField(
                blank=True, default="", max_length=20, verbose_name="联系电话"
            ),
            preserve_default=False,
        ),
    ]
