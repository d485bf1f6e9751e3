"""Archiving a finished school year (issue 19 §2): its roll calls, attendance marks and
notifications leave the database for compressed files (kongchuo.partitions.archive), so that
the live tables hold the years still in use; ``restore`` brings a year back. The audit trail
stays: its hash chain must stay whole."""

import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from kongchuo import partitions
from kongchuo.errors import AppError

from .models import OfflineRoll


def _postgres() -> None:
    if connection.vendor != "postgresql":
        raise AppError("归档需要 PostgreSQL：只有 PostgreSQL 上的考勤表按学年分区。")


def archive_year(year: int, folder: Path, *, today: datetime.date | None = None) -> dict:
    """Archive the school year starting in ``year`` into ``folder``; returns the rows
    archived per table. Only a school year that has ended."""
    _postgres()
    first, last = partitions.school_year_days(year)
    if last >= (today or timezone.localdate()):
        raise AppError(f"{year}学年（{first:%Y-%m-%d}至{last:%Y-%m-%d}）尚未结束，不能归档。")
    # Kept answers to phones' offline replays of the year's rolls would point at nothing.
    OfflineRoll.objects.filter(roll__date__range=(first, last)).delete()
    try:
        # One transaction of its own, so that a failure, even at its commit, removes the
        # files it wrote.
        return partitions.archive(year, folder)
    except (ValueError, OSError) as exc:
        raise AppError(f"归档失败，数据库未做任何改动：{exc}") from exc


def restore(folder: Path) -> dict:
    """Put back every partition archived in ``folder``; returns the rows per file."""
    _postgres()
    files = sorted(folder.glob("*.csv.gz"))
    if not files:
        raise AppError(f"{folder} 中没有归档文件（*.csv.gz）。")
    try:
        with transaction.atomic():
            return {path.name: partitions.restore(path) for path in files}
    except ValueError as exc:
        raise AppError(f"恢复失败，未做任何改动：{exc}") from exc
