from django.db import migrations

from kongchuo.append_only import trigger_operation


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial")]

    operations = [
        trigger_operation(table)
        for table in (
            "returns_caseevent",
            "returns_caseplan",
            "returns_caseaction",
            "returns_caseattachment",
        )
    ]
