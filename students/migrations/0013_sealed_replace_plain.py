# Encryption at rest (issue 15 §3), step 3 of 3: the sealed columns replace the plain ones.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("students", "0012_seal_values")]

    operations = [
        migrations.RemoveField(model_name="student", name="id_number"),
        migrations.RemoveField(model_name="student", name="disability_type"),
        migrations.RemoveField(model_name="student", name="disability_grade"),
        migrations.RemoveField(model_name="guardian", name="phone"),
        migrations.RenameField(
            model_name="student", old_name="sealed_id_number", new_name="id_number"
        ),
        migrations.RenameField(
            model_name="student", old_name="sealed_disability_type", new_name="disability_type"
        ),
        migrations.RenameField(
            model_name="student", old_name="sealed_disability_grade", new_name="disability_grade"
        ),
        migrations.RenameField(model_name="guardian", old_name="sealed_phone", new_name="phone"),
        migrations.AddConstraint(
            model_name="student",
            constraint=models.UniqueConstraint(
                fields=("id_hash",), name="student_id_number_unique"
            ),
        ),
    ]
