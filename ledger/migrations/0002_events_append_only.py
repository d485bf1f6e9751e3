"""On PostgreSQL the database itself refuses UPDATE and DELETE on ledger timeline events."""

from django.db import migrations

from kongchuo.append_only import trigger_operation


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [trigger_operation("ledger_entryevent")]
