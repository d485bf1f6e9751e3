"""Issue 15 §8, backups and the restore drill: ``manage.py backup`` writes the database (one
snapshot) and the media, ``manage.py restore`` puts them back into a new database and checks
every table's row count; a damaged backup or a non-empty target is refused with nothing
changed; old backups are pruned."""

import json

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import backups
from accounts.demo import DemoSize, build

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def committed(transactional_db, tmp_path, settings):
    """The demo world, committed (pg_dump sees only committed rows), with one media file."""
    build(DemoSize(counties=2, townships=2, villages=2, schools=4), seed=7)
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "ledger").mkdir(parents=True)
    (settings.MEDIA_ROOT / "ledger" / "证明.pdf").write_bytes(b"%PDF-1.4 evidence")
    return tmp_path


def _url(name: str) -> str:
    config = connection.settings_dict
    host = config.get("HOST") or "127.0.0.1"
    return (
        f"postgres://{config.get('USER') or 'postgres'}@{host}:{config.get('PORT') or 5432}/{name}"
    )


@pytest.fixture
def empty_database():
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = psycopg2.connect(_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _row_counts(url: str) -> dict[str, int]:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        return backups._counts(cursor)


def test_a_backup_restores_into_a_new_database_with_every_table_s_rows(
    committed, empty_database, capsys
):
    call_command("backup", dir=str(committed / "backups"))
    [folder] = (committed / "backups").iterdir()
    source = _row_counts(_url(connection.settings_dict["NAME"]))
    assert source["accounts_user"] > 0 and source["accounts_school"] > 0
    assert json.loads((folder / backups.MANIFEST).read_text())["tables"] == source

    media = committed / "restored-media"
    call_command("restore", str(folder), database_url=_url(empty_database), media_dir=str(media))
    assert "逐表核对一致" in capsys.readouterr().out
    assert _row_counts(_url(empty_database)) == source
    assert (media / "ledger" / "证明.pdf").read_bytes() == b"%PDF-1.4 evidence"


def test_a_restore_into_a_database_with_tables_needs_force(committed, empty_database):
    folder = backups.backup(committed / "backups")
    target = _url(empty_database)
    backups.restore(folder, database_url=target, media_dir=committed / "m1")
    with psycopg2.connect(target) as conn, conn.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_notification")  # a change the refusal must keep
        cursor.execute("SELECT count(*) FROM students_student")
        students = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="已有 .* 张表，未做任何恢复。确认要覆盖时请加 --force"):
        call_command("restore", str(folder), database_url=target, media_dir=str(committed / "m2"))
    assert not (committed / "m2").exists()
    assert _row_counts(target)["students_student"] == students
    call_command(
        "restore", str(folder), database_url=target, media_dir=str(committed / "m1"), force=True
    )
    assert _row_counts(target) == json.loads((folder / backups.MANIFEST).read_text())["tables"]


def test_a_damaged_backup_is_refused_before_anything_is_restored(committed, empty_database):
    folder = backups.backup(committed / "backups")
    with (folder / backups.DUMP).open("r+b") as dump:
        dump.seek(100)
        dump.write(b"XXXX")
    with pytest.raises(CommandError, match="database.dump 缺失或已损坏"):
        call_command("restore", str(folder), database_url=_url(empty_database))
    assert _row_counts(_url(empty_database)) == {}


def test_a_dump_pg_restore_cannot_read_leaves_a_forced_target_as_it_was(committed, empty_database):
    folder = backups.backup(committed / "backups")
    target = _url(empty_database)
    backups.restore(folder, database_url=target, media_dir=committed / "m1")
    before = _row_counts(target)
    # Not a dump at all, with a manifest that vouches for it: pg_restore fails before the
    # schema is emptied.
    (folder / backups.DUMP).write_bytes(b"not a dump")
    manifest = json.loads((folder / backups.MANIFEST).read_text())
    manifest["files"][backups.DUMP] = backups._sha256(folder / backups.DUMP)
    (folder / backups.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="pg_restore 失败"):
        call_command(
            "restore", str(folder), database_url=target, media_dir=str(committed / "m1"), force=True
        )
    assert _row_counts(target) == before and before["accounts_user"] > 0


def test_only_the_newest_backups_are_kept(committed):
    for _ in range(3):
        backups.backup(committed / "backups", keep=2)
    kept = sorted((committed / "backups").iterdir())
    assert len(kept) == 2
    assert all((folder / backups.MANIFEST).is_file() for folder in kept)


def test_sqlite_is_refused_with_a_clear_message(settings):
    with pytest.raises(backups.AppError, match="只支持 PostgreSQL"):
        backups._postgres({"ENGINE": "django.db.backends.sqlite3"})
    assert settings.BACKUP_KEEP == 14
