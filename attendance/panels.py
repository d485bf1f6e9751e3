"""Attendance's panels on lower apps' pages (students.panels): on the student page the last
20 school days, on a ledger entry the attendance rule opened the unexcused days that opened
it. Registered by AttendanceConfig.ready()."""

import datetime

from accounts.models import SchoolClass
from ledger.choices import Source
from ledger.panels import entry_page
from students.panels import Panel, student_page

from . import selectors
from .choices import Mark

# One character per mark, for strips and grids of days ("" = not recorded).
SYMBOLS = {
    Mark.PRESENT: "出",
    Mark.LATE: "迟",
    Mark.SICK: "病",
    Mark.PERSONAL: "事",
    Mark.UNEXCUSED: "旷",
    "": "·",
}
NOT_RECORDED = "未记"
WEEKDAYS = "一二三四五六日"


def mark_label(mark: str) -> str:
    return Mark(mark).label if mark else NOT_RECORDED


def day_cells(days) -> list[tuple[datetime.date, str, str, str]]:
    """(day, symbol, label, css suffix) for each (day, mark) — the roll page's strip and the
    student page's grid draw days alike."""
    return [(day, SYMBOLS[mark], mark_label(mark), mark or "none") for day, mark in days]


def recent_days(user, student) -> Panel | None:
    """The student's last 20 school days, for whoever sees the student's class (and so its
    roll calls)."""
    if not student.klass_id or not (
        SchoolClass.objects.for_user(user).filter(pk=student.klass_id).exists()
    ):
        return None
    days = selectors.recent_days(student)
    recorded = [(day, mark) for day, mark in days if mark]
    counts = {mark: sum(1 for _, m in days if m == mark) for mark in (*Mark, "")}
    summary = [
        (mark_label(mark), counts[mark])
        for mark in (Mark.UNEXCUSED, Mark.SICK, Mark.PERSONAL, Mark.LATE, "")
        if counts[mark]
    ]
    # The month only where it changes: twenty cells fit a phone's width.
    cells, month = [], None
    for day, symbol, label, css in day_cells(days):
        short = f"{day.month}/{day.day}" if day.month != month else str(day.day)
        cells.append((day, symbol, label, css, short))
        month = day.month
    return Panel(
        "attendance/panels/student_days.html",
        {
            "cells": cells,
            "run": selectors.trailing_run(recorded),
            "summary": summary,
            "legend": [(SYMBOLS[m], mark_label(m), m or "none") for m in (*Mark, "")],
        },
    )


def opening_run(user, entry) -> Panel | None:
    """On an entry the attendance rule opened: the run of unexcused days behind it."""
    if entry.source != Source.ATTENDANCE or entry.student_id is None:
        return None
    run = selectors.opening_runs([entry]).get(entry.pk)
    threshold = selectors.rules_for_school(entry.student.school).threshold
    days = (
        [(day, f"周{WEEKDAYS[day.weekday()]}", day == entry.found_on) for day in run.days]
        if run
        else []
    )
    return Panel(
        "attendance/panels/entry_run.html",
        {
            "run": run,
            "days": days,
            "found_on": entry.found_on,
            "threshold": threshold,
            # A correction took some of the days away: the run no longer reaches the setting.
            "broken": run is None or run.length < threshold,
        },
    )


student_page.register("attendance.recent_days", recent_days, order=20)
entry_page.register("attendance.opening_run", opening_run, order=10)
