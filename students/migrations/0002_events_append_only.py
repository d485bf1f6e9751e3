"""On PostgreSQL the database itself refuses UPDATE and DELETE on 学籍 events."""

from django.db import migrations

from kongchuo.append_only import trigger_operation


class Migration(migrations.Migration):
    dependencies = [("students", "0001_initial")]

    operations = [trigger_operation("students_enrollmentevent")]
