from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import backups
from kongchuo.errors import AppError


class Command(BaseCommand):
    help = (
        "备份数据库（pg_dump 自定义格式）与上传文件，写入一个以时间命名的文件夹，"
        "并只保留最新的若干份（BACKUP_KEEP）。可由 cron 每日运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=None, help=f"备份目录（默认 {settings.BACKUP_DIR}）")
        parser.add_argument(
            "--keep", type=int, default=None, help=f"保留份数（默认 {settings.BACKUP_KEEP}）"
        )

    def handle(self, *args, dir=None, keep=None, **options):
        try:
            folder = backups.backup(Path(dir or settings.BACKUP_DIR), keep=keep)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        manifest = backups.read_manifest(folder)
        rows = sum(manifest["tables"].values())
        self.stdout.write(f"已备份到 {folder}：{len(manifest['tables'])} 张表，{rows} 行。")
