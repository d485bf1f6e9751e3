"""Indexes for the reason and key-group filters: a B-tree on the main reason, and on
PostgreSQL GIN indexes (jsonb_path_ops) that answer ``has_value`` (``@>``) on the JSON lists
of other reasons and key groups (see kongchuo.json_lookups)."""

from django.db import migrations, models

from kongchuo.json_lookups import gin_index_operation


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_drop_reviewed_term"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["reason"], name="ledger_reason"),
        ),
        gin_index_operation("ledger_ledgerentry", "key_groups", "ledger_key_groups_gin"),
        gin_index_operation("ledger_ledgerentry", "other_reasons", "ledger_other_reasons_gin"),
    ]
