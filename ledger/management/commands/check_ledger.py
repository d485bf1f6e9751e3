from django.core.management.base import BaseCommand, CommandError

from accounts.choices import RegionLevel
from accounts.models import Region
from ledger import consistency


class Command(BaseCommand):
    help = "人账相符检查：列出学籍状态与台账不一致的孩子，以及没有真实孩子的在册记录。"

    def add_arguments(self, parser):
        parser.add_argument("--county", help="只检查该县（6位区划代码）；默认检查所有县。")

    def handle(self, *args, county=None, **options):
        if county:
            region = Region.objects.filter(code=county, level=RegionLevel.COUNTY).first()
            if region is None:
                raise CommandError(f"找不到区划代码为{county}的县。")
            runs = [consistency.check_county(region)]
        else:
            runs = consistency.check_all()
        for run in runs:
            self.stdout.write(f"{run.county.code} {run.county.name}：{run.problem_count}个问题")
            for problem in run.problems:
                label = consistency.Mismatch(**problem).label
                self.stdout.write(f"  {label}：{problem['name']}（{problem['school']}）")
