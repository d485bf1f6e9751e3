"""The student table's indexes, for the roster import (issue 10), which pays for each one on
every row it writes. ID number and 学籍号 stay unique, by constraints instead of unique=True,
and the name keeps a plain index instead of db_index: on PostgreSQL the latter two also build
a varchar_pattern_ops ("_like") index per column, which no query uses (look-ups are exact, a
name search is 包含). The school's own index goes: student_school_status (school, status)
serves every look-up by school."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_notification"),
        ("students", "0006_attendance_moves_out"),
    ]

    operations = [
        # The new constraints and index first, so the columns are never without one.
        migrations.AddConstraint(
            model_name="student",
            constraint=models.UniqueConstraint(
                fields=("id_number",), name="student_id_number_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="student",
            constraint=models.UniqueConstraint(
                fields=("student_number",), name="student_number_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="student",
            index=models.Index(fields=["name"], name="student_name"),
        ),
        migrations.AlterField(
            model_name="student",
            name="id_number",
            field=models.CharField(blank=True, max_length=18, null=True, verbose_name="身份证号"),
        ),
        migrations.AlterField(
            model_name="student",
            name="student_number",
            field=models.CharField(blank=True, max_length=30, null=True, verbose_name="学籍号"),
        ),
        migrations.AlterField(
            model_name="student",
            name="name",
            field=models.CharField(max_length=50, verbose_name="姓名"),
        ),
        migrations.AlterField(
            model_name="student",
            name="school",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="students",
                to="accounts.school",
                verbose_name="学校",
            ),
        ),
    ]
