"""Entries that the attendance rule opened before its fix stored the student's key groups as
their Chinese names (``农村留守儿童``) instead of the values every other path stores
(``left_behind``); the list, the entry page and the export failed on them. This turns every
name back into its value. Values already right are left alone, so it can run twice."""

from django.db import migrations

# students.choices.KeyGroup as it stood when the names were written (label → value).
LABEL_TO_VALUE = {
    "建档立卡/脱贫家庭": "poverty_registered",
    "防止返贫监测对象": "relapse_monitored",
    "低收入农户": "low_income",
    "农村留守儿童": "left_behind",
    "随迁子女": "migrant",
    "残疾": "disabled",
    "学习困难": "learning_difficulty",
    "家庭经济困难": "financial_hardship",
    "服刑人员未成年子女": "parent_in_prison",
    "孤儿/事实无人抚养": "orphan",
}


def names_to_values(apps, schema_editor):
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    repaired = []
    for entry in LedgerEntry.objects.exclude(key_groups=[]).only("pk", "key_groups").iterator():
        groups = [LABEL_TO_VALUE.get(group, group) for group in entry.key_groups]
        if groups != entry.key_groups:
            entry.key_groups = groups
            repaired.append(entry)
    LedgerEntry.objects.bulk_update(repaired, ["key_groups"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_rule_entries"),
    ]

    operations = [
        migrations.RunPython(names_to_values, migrations.RunPython.noop),
    ]
