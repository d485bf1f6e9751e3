"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit trail."""

from django.db import migrations

from kongchuo.append_only import trigger_operation


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [trigger_operation("accounts_auditevent")]
