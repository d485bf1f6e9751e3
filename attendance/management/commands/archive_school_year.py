from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attendance import archive
from kongchuo.errors import AppError

_NAMES = {
    "students_rollcall": "考勤",
    "students_attendancemark": "缺勤记录",
    "accounts_notification": "通知",
}


class Command(BaseCommand):
    help = (
        "归档已结束学年的考勤、缺勤记录和通知：从数据库移出，写成压缩文件（每个分区一个"
        " .csv.gz）；--restore 把归档目录中的文件恢复回数据库。审计日志不归档。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "year", nargs="?", type=int, help="学年（开始的年份，如 2024 即 2024—2025 学年）"
        )
        parser.add_argument("--dir", default=None, help="归档目录（默认 数据目录/archive/<学年>）")
        parser.add_argument("--restore", metavar="DIR", default=None, help="从此归档目录恢复")

    def handle(self, *args, year=None, dir=None, restore=None, **options):
        try:
            if restore:
                restored = archive.restore(Path(restore))
                self.stdout.write(f"已从 {restore} 恢复 {sum(restored.values())} 行：")
                for name, rows in restored.items():
                    self.stdout.write(f"  {name}：{rows} 行")
                return
            if year is None:
                raise CommandError("请给出要归档的学年，如 2024；或用 --restore 恢复。")
            folder = Path(dir) if dir else settings.DATA_DIR / "archive" / str(year)
            counts = archive.archive_year(year, folder)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        parts = "、".join(f"{_NAMES.get(table, table)} {rows} 行" for table, rows in counts.items())
        self.stdout.write(
            f"已归档{year}学年：{parts}，文件在 {folder}。"
            f"恢复：manage.py archive_school_year --restore {folder}"
        )
