from ledger.models import LedgerEntry
from tests.attendance.conftest import MON, TUE, WED, absent


def test_three_unexcused_days_open_an_entry(world, klass, pupils):
    results = absent(world, klass, [MON, TUE, WED], pupils[0])
    assert [len(r.flagged) for r in results] == [0, 0, 1]
    assert LedgerEntry.objects.get().student == pupils[0]
