"""Backups and the restore drill (issue 15 §8). A backup is a folder named for its time:
``database.dump`` (pg_dump's custom format, taken in one exported snapshot), ``media.tar.gz``
(uploads and generated files) and ``manifest.json`` (when, the files' SHA-256, and the row
count of every table in the same snapshot as the dump). ``restore`` checks the files against
the manifest first, refuses a database that already holds tables unless forced, restores, and
compares every table's row count with the manifest. Only PostgreSQL: the demo's SQLite file is
copied as a file."""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import psycopg2
from django.conf import settings
from django.db import connections
from django.utils import timezone

from kongchuo.errors import AppError

DUMP, MEDIA, MANIFEST = "database.dump", "media.tar.gz", "manifest.json"
PREFIX = "kongchuo-"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Restored:
    tables: int
    rows: int
    mismatched: dict[str, tuple[int, int]]  # table → (in the backup, after the restore)


def _postgres(config: dict) -> dict:
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise AppError("备份与恢复只支持 PostgreSQL；SQLite 演示库请直接复制数据库文件。")
    return config


def _environment(config: dict) -> dict:
    return {**os.environ, "PGPASSWORD": config.get("PASSWORD") or ""}


def _arguments(config: dict) -> list[str]:
    args = ["--dbname", config["NAME"], "--username", config.get("USER") or "postgres"]
    if config.get("HOST"):
        args += ["--host", config["HOST"]]
    if config.get("PORT"):
        args += ["--port", str(config["PORT"])]
    return args


def _run(command: list[str], config: dict) -> None:
    # The program is pg_dump, pg_restore or psql, the arguments come from the settings.
    result = subprocess.run(  # noqa: S603
        command, env=_environment(config), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AppError(f"{command[0]} 失败：{result.stderr.strip()[:500]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [name for (name,) in cursor.fetchall()]


def _counts(cursor) -> dict[str, int]:
    counts = {}
    for table in _tables(cursor):
        # Table names come from the catalogue, quoted as identifiers.
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def _connect(config: dict):
    return psycopg2.connect(
        dbname=config["NAME"],
        user=config.get("USER") or "postgres",
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )


def backup(directory: Path, *, keep: int | None = None, using: str = "default") -> Path:
    """Write a backup folder into ``directory``; keep the ``keep`` newest ones (the
    ``BACKUP_KEEP`` setting by default). Returns the new folder."""
    config = _postgres(connections[using].settings_dict)
    directory.mkdir(parents=True, exist_ok=True)
    folder = directory / f"{PREFIX}{timezone.now():%Y%m%d-%H%M%S-%f}"
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir()
    try:
        connection = _connect(config)
        try:
            connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = _counts(cursor)
                command = ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}"]
                _run([*command, "--file", str(partial / DUMP), *_arguments(config)], config)
        finally:
            connection.close()
        media = Path(settings.MEDIA_ROOT)
        with tarfile.open(partial / MEDIA, "w:gz") as archive:
            if media.is_dir():
                archive.add(media, arcname=".")
        manifest = {
            "created_at": timezone.now().isoformat(),
            "database": config["NAME"],
            "files": {name: _sha256(partial / name) for name in (DUMP, MEDIA)},
            "tables": counts,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _prune(directory, settings.BACKUP_KEEP if keep is None else keep)
    return folder


def _prune(directory: Path, keep: int) -> None:
    folders = sorted(path for path in directory.glob(f"{PREFIX}*") if (path / MANIFEST).is_file())
    for old in folders[: max(0, len(folders) - keep)]:
        shutil.rmtree(old)


def read_manifest(folder: Path) -> dict:
    """The backup's manifest, once every file is found whole."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise AppError(f"{folder} 不是完整的备份（缺少或无法读取 {MANIFEST}）。") from exc
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise AppError(f"备份文件 {name} 缺失或已损坏（校验值不符），未做任何恢复。")
    return manifest


def restore(
    folder: Path,
    *,
    database_url: str = "",
    media_dir: Path | None = None,
    force: bool = False,
    using: str = "default",
) -> Restored:
    """Restore ``folder`` into the configured database (or ``database_url``) and its media
    into MEDIA_ROOT (or ``media_dir``). A database that holds tables, or a media folder that
    holds files, is refused unless ``force``: then both are replaced."""
    manifest = read_manifest(folder)
    if database_url:
        config = {"ENGINE": "", **dj_database_url.parse(database_url)}
    else:
        config = connections[using].settings_dict
    config = _postgres(config)
    media = Path(media_dir or settings.MEDIA_ROOT)
    connection = _connect(config)
    try:
        with connection.cursor() as cursor:
            existing = _tables(cursor)
    finally:
        connection.close()
    if (existing or (media.is_dir() and any(media.iterdir()))) and not force:
        where = (
            f"数据库 {config['NAME']} 已有 {len(existing)} 张表" if existing else f"{media} 非空"
        )
        raise AppError(f"{where}，未做任何恢复。确认要覆盖时请加 --force。")
    # The dump as SQL, written whole and checked first, then run by psql in one transaction —
    # after emptying the public schema of a database with tables (pg_restore --clean cannot
    # drop the constraints that partitions inherit, kongchuo.partitions) — so that a failure
    # of either leaves the database as it was.
    command = ["psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    if existing:
        command += ["-c", "DROP SCHEMA public CASCADE", "-c", "CREATE SCHEMA public"]
    with tempfile.TemporaryDirectory(prefix="kongchuo-restore-") as scratch:
        script = Path(scratch) / "restore.sql"
        _run(["pg_restore", "--no-owner", f"--file={script}", str(folder / DUMP)], config)
        _run([*command, *_arguments(config), "-f", str(script)], config)
    if media.is_dir():
        shutil.rmtree(media)
    media.mkdir(parents=True)
    with tarfile.open(folder / MEDIA, "r:gz") as archive:
        archive.extractall(media, filter="data")
    connection = _connect(config)
    try:
        with connection.cursor() as cursor:
            after = _counts(cursor)
    finally:
        connection.close()
    expected = manifest["tables"]
    mismatched = {
        table: (expected.get(table, 0), after.get(table, 0))
        for table in expected.keys() | after.keys()
        if expected.get(table, 0) != after.get(table, 0)
    }
    return Restored(tables=len(after), rows=sum(after.values()), mismatched=mismatched)
