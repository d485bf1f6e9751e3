"""Term classification (DOMAIN.md §5, 000): within one month of each term start every open
entry is reviewed for the term; afterwards an unreviewed one is overdue. The term functions
take dates, so no clock is frozen."""

import datetime

import pytest
from django.utils import timezone

from ledger import selectors, services
from ledger.choices import State
from ledger.models import LedgerEntry
from ledger.terms import Term, is_review_overdue, next_start, term_of
from tests.ledger.conftest import SCHOOL_USER, create_entry, entry_in, fresh, make_student

D = datetime.date


@pytest.mark.parametrize(
    ("day", "label", "start"),
    [
        (D(2025, 9, 1), "2025-2026学年第一学期", D(2025, 9, 1)),
        (D(2025, 12, 31), "2025-2026学年第一学期", D(2025, 9, 1)),
        (D(2026, 2, 28), "2025-2026学年第一学期", D(2025, 9, 1)),
        (D(2026, 3, 1), "2025-2026学年第二学期", D(2026, 3, 1)),
        (D(2026, 8, 31), "2025-2026学年第二学期", D(2026, 3, 1)),
        (D(2026, 1, 1), "2025-2026学年第一学期", D(2025, 9, 1)),
    ],
)
def test_term_of_a_day_is_the_latest_term_start_on_or_before_it(day, label, start):
    assert term_of(day) == Term(label=label, start=start)


def test_next_start_is_the_first_day_after_the_term():
    assert next_start(term_of(D(2025, 10, 1))) == D(2026, 3, 1)
    assert next_start(term_of(D(2026, 3, 1))) == D(2026, 9, 1)


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (D(2025, 9, 1), D(2025, 9, 30)),
        (D(2026, 3, 1), D(2026, 3, 31)),
        (D(2025, 12, 15), D(2026, 1, 14)),  # across the year end
        (D(2026, 8, 20), D(2026, 9, 19)),
        # A start late in a month: the month runs to the end of the shorter next month.
        (D(2026, 1, 31), D(2026, 2, 28)),
        (D(2028, 1, 30), D(2028, 2, 29)),
        (D(2026, 1, 28), D(2026, 2, 27)),
    ],
)
def test_review_deadline_is_the_end_of_the_first_month_of_the_term(start, deadline):
    assert Term(label="x", start=start).review_deadline == deadline


def test_configured_term_starts_are_used(settings):
    settings.LEDGER_TERM_STARTS = ((2, 20), (8, 25))
    assert term_of(D(2026, 2, 19)) == Term("2025-2026学年第一学期", D(2025, 8, 25))
    assert term_of(D(2026, 2, 20)).start == D(2026, 2, 20)
    assert term_of(D(2026, 2, 20)).review_deadline == D(2026, 3, 19)


def test_an_entry_from_last_term_not_reviewed_is_overdue_after_the_first_month():
    last, this = term_of(D(2026, 5, 1)).label, term_of(D(2026, 9, 1)).label
    assert not is_review_overdue(last, D(2026, 9, 1))
    assert not is_review_overdue(last, D(2026, 9, 30))
    assert is_review_overdue(last, D(2026, 10, 1))
    assert not is_review_overdue(this, D(2026, 10, 1))


def test_recent_terms_newest_first():
    terms = selectors.recent_terms(D(2026, 10, 1), count=3)
    assert [t.start for t in terms] == [D(2026, 9, 1), D(2026, 3, 1), D(2025, 9, 1)]


@pytest.mark.django_db
def test_an_entry_is_classified_for_the_term_it_is_created_in(world, child):
    entry = create_entry(world, child)
    assert entry.reviewed_term == term_of(timezone.localdate()).label
    assert not entry.is_overdue


def _overdue(day):
    return set(LedgerEntry.objects.filter(selectors.overdue_filter(today=day)))


@pytest.mark.django_db
def test_overdue_filter_finds_open_entries_not_reviewed_for_this_term(world, child):
    stale = create_entry(world, child)
    closed = entry_in(world, State.CLOSED, make_student(world))
    current = create_entry(world, make_student(world))
    LedgerEntry.objects.filter(pk__in=[stale.pk, closed.pk]).update(
        reviewed_term="2025-2026学年第二学期"
    )
    LedgerEntry.objects.filter(pk=current.pk).update(reviewed_term="2026-2027学年第一学期")
    # During the classification month nothing is overdue yet.
    assert _overdue(D(2026, 9, 15)) == set()
    # After it, the open entry not reviewed for the term is; the closed one never is.
    assert _overdue(D(2026, 10, 1)) == {stale}
    # In the next term, both open entries are overdue once its first month is over.
    assert _overdue(D(2027, 3, 31)) == set()
    assert _overdue(D(2027, 4, 1)) == {stale, current}


@pytest.mark.django_db
def test_review_clears_overdue(world, child):
    today = timezone.localdate()
    term = term_of(today)
    # A day of this term after its classification month (today itself once it is over).
    day = max(today, term.review_deadline + datetime.timedelta(days=1))
    entry = create_entry(world, child)
    LedgerEntry.objects.filter(pk=entry.pk).update(reviewed_term="2000-2001学年第一学期")
    assert _overdue(day) == {entry}
    assert fresh(entry).is_overdue == (today > term.review_deadline)
    entry = services.entry_review(by=world.user(SCHOOL_USER), entry=entry, note="仍在家")
    assert _overdue(day) == set()
    assert not fresh(entry).is_overdue
