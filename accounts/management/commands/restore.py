from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import backups
from kongchuo.errors import AppError


class Command(BaseCommand):
    help = (
        "从 manage.py backup 的备份文件夹恢复数据库与上传文件，先校验文件完整，"
        "恢复后逐表核对行数。目标库已有数据表时须加 --force 才会覆盖。"
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="备份文件夹")
        parser.add_argument(
            "--database-url", default="", help="恢复到另一个数据库（默认：当前配置的数据库）"
        )
        parser.add_argument("--media-dir", default=None, help="上传文件恢复到（默认 MEDIA_ROOT）")
        parser.add_argument("--force", action="store_true", help="覆盖已有数据的库和目录")

    def handle(self, *args, folder, database_url, media_dir, force, **options):
        try:
            restored = backups.restore(
                Path(folder),
                database_url=database_url,
                media_dir=Path(media_dir) if media_dir else None,
                force=force,
            )
        except AppError as exc:
            raise CommandError(exc.message) from exc
        if restored.mismatched:
            lines = [
                f"{t}：备份 {a} 行，恢复后 {b} 行" for t, (a, b) in restored.mismatched.items()
            ]
            raise CommandError("恢复后行数与备份不符：\n" + "\n".join(sorted(lines)))
        self.stdout.write(
            f"已恢复 {restored.tables} 张表，{restored.rows} 行，与备份逐表核对一致。"
        )
