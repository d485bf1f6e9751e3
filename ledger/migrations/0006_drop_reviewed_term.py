from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_reviewed_on"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="reviewed_on",
            field=models.DateField(editable=False, verbose_name="最近分类复核日期"),
        ),
        migrations.RemoveField(
            model_name="ledgerentry",
            name="reviewed_term",
        ),
    ]
