"""学期分类复核 moves to the school calendar: an entry keeps the day of its last
classification (``reviewed_on``) instead of the label of a term computed from fixed dates.
The day is that of the newest 学期分类复核 on the entry's timeline, or else the day the entry
was created (an entry counts as classified for the term it is created in); days are local
(settings.TIME_ZONE), as the services write them. 0006 then drops ``reviewed_term``."""

import zoneinfo

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce, TruncDate


def fill_reviewed_on(apps, schema_editor):
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    EntryEvent = apps.get_model("ledger", "EntryEvent")
    local = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    newest_review = (
        EntryEvent.objects.filter(entry=OuterRef("pk"), action="review")
        .order_by("-at", "-pk")
        .values(day=TruncDate("at", tzinfo=local))[:1]
    )
    # One statement, whatever the number of entries.
    LedgerEntry.objects.update(
        reviewed_on=Coalesce(
            Subquery(newest_review, output_field=models.DateField()),
            TruncDate("created_at", tzinfo=local),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_key_group_values"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="reviewed_on",
            field=models.DateField(editable=False, null=True, verbose_name="最近分类复核日期"),
        ),
        migrations.RunPython(fill_reviewed_on, migrations.RunPython.noop),
    ]
