from django.core.management.base import BaseCommand, CommandError

from accounts.choices import RegionLevel
from accounts.demo import DEMO_PASSWORD, DemoSize, build, real_counties
from accounts.models import Region, current_school_year
from attendance.demo import build_attendance
from attendance.watch import compute as compute_watch_list
from comparisons.demo import build_lists
from ledger.demo import build_entries
from returns.demo import build_cases
from students.calendar import default_terms
from students.demo import build_students


class Command(BaseCommand):
    help = "生成演示县（或用于性能测试的多个县）：区划、学校、班级和各角色演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="随机种子，相同种子生成相同数据")
        parser.add_argument("--counties", type=int, default=1)
        parser.add_argument("--townships", type=int, default=3, help="每县乡镇数")
        parser.add_argument("--villages", type=int, default=4, help="每乡镇村数")
        parser.add_argument("--schools", type=int, default=4, help="每乡镇学校数")
        parser.add_argument("--classes-per-grade", type=int, default=1)
        parser.add_argument("--students", type=int, default=600, help="学生总数（平均分到各班）")
        parser.add_argument("--no-accounts", action="store_true", help="不生成演示账号")
        parser.add_argument("--if-empty", action="store_true", help="库中已有区划时什么也不做")

    def handle(self, *args, **options):
        if Region.objects.exists():
            if options["if_empty"]:
                self.stdout.write("已有数据，跳过生成演示数据。")
                return
            raise CommandError("数据库中已有区划数据；演示数据只能生成到空库中。")
        if options["students"] < 0:
            raise CommandError("--students 不能为负数。")
        for name in ("counties", "townships", "villages", "schools", "classes_per_grade"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} 至少为 1。")
        if options["counties"] > len(real_counties()):
            raise CommandError(
                f"--counties 最多为 {len(real_counties())}（云南省现有县级区划数）。"
            )
        if options["townships"] > 8 + 95:
            raise CommandError("--townships 最多为 103。")
        size = DemoSize(
            counties=options["counties"],
            townships=options["townships"],
            villages=options["villages"],
            schools=options["schools"],
            classes_per_grade=options["classes_per_grade"],
            accounts=not options["no_accounts"],
        )
        if options["students"] and not size.accounts:
            raise CommandError("生成学生需要演示账号（县级管理员作为建档经办人）。")
        result = build(size, seed=options["seed"])
        for county in Region.objects.filter(level=RegionLevel.COUNTY):
            default_terms(county, current_school_year())
        students = build_students(options["students"], seed=options["seed"])
        entries = build_entries(seed=options["seed"]) if students else 0
        rolls = build_attendance(seed=options["seed"]) if students else 0
        cases = build_cases(seed=options["seed"]) if students else 0
        # The watch list as the first night would leave it (key groups, absences so far).
        watched = compute_watch_list().started if students else 0
        mismatches = build_lists() if students else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成 {result['counties']} 个县、{result['schools']} 所学校、"
                f"{result['classes']} 个班级、{students} 名学生、{entries} 条台账记录、"
                f"{rolls} 份班级考勤、{cases} 个劝返案件、{watched} 项重点监测、"
                f"{mismatches} 条比对不一致、"
                f"{result['accounts']} 个账号。"
                f"演示密码：{DEMO_PASSWORD}"
            )
        )
