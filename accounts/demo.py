"""A realistic demo county (or many, for benchmarks), deterministic from a seed.

The first county is 云南省大理白族自治州南涧彝族自治县 (532926), the county of source text 003;
further counties are Yunnan's other real counties, in code order. Codes follow GB/T 2260 and the
statistics bureau's 12-digit extension (towns 1xx, townships 2xx, village committees 2xx).
"""

import random
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.hashers import make_password
from django.db import transaction
from stdnum import numdb

from .choices import RegionLevel, Role, SchoolKind
from .models import Region, School, SchoolClass, User, current_school_year

DEMO_PASSWORD = "Kongchuo@2026"  # noqa: S105 — published in the README for the demo site

# The county's real townships with their statistics-bureau codes, so that the national
# division table (manage.py load_divisions) finds them already there instead of doubling them.
TOWNSHIP_NAMES = [
    ("南涧镇", "101"),
    ("小湾东镇", "102"),
    ("公郎镇", "103"),
    ("宝华镇", "104"),
    ("无量山镇", "105"),
    ("拥翠乡", "201"),
    ("乐秋乡", "202"),
    ("碧溪乡", "203"),
]
VILLAGE_NAMES = [
    "新政村",
    "西山村",
    "龙平村",
    "德安村",
    "沙乐村",
    "岔江村",
    "回营村",
    "麦地村",
    "永平村",
    "凤岭村",
    "虎街村",
    "碧云村",
]
SURNAMES = "李王张刘陈杨赵黄周吴徐孙马朱胡郭何罗高林字施鲁茶"
GIVEN = "文华明国建丽芳军平志秀兰英红海云春玉成德永强晓静"


@dataclass
class DemoSize:
    counties: int = 1
    townships: int = 3
    villages: int = 4
    schools: int = 4  # per township: 中心校, 村小, 教学点, 初中, then repeating
    classes_per_grade: int = 1
    accounts: bool = True


# Per township, schools follow this pattern: (kind, name suffix, attached to the 中心校).
SCHOOL_PATTERN = [
    (SchoolKind.PRIMARY, "中心学校", False),
    (SchoolKind.PRIMARY, "完全小学", True),
    (SchoolKind.TEACHING_POINT, "教学点", True),
    (SchoolKind.JUNIOR, "初级中学", False),
    (SchoolKind.NINE_YEAR, "九年一贯制学校", False),
]
GRADES = {
    SchoolKind.PRIMARY: range(1, 7),
    SchoolKind.TEACHING_POINT: range(1, 4),
    SchoolKind.JUNIOR: range(7, 10),
    SchoolKind.NINE_YEAR: range(1, 10),
    SchoolKind.SPECIAL: range(1, 10),
}


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _village_name(index: int) -> str:
    base = VILLAGE_NAMES[index % len(VILLAGE_NAMES)]
    return base if index < len(VILLAGE_NAMES) else f"{base[:-1]}{index // len(VILLAGE_NAMES) + 1}村"


def _township(index: int) -> tuple[str, str]:
    """(name, 3-digit code within the county) of the index-th township."""
    if index < len(TOWNSHIP_NAMES):
        return TOWNSHIP_NAMES[index]
    return f"第{index + 1}镇", f"{106 + index - len(TOWNSHIP_NAMES):03d}"


@cache
def real_counties() -> list[tuple[str, str, str, str]]:
    """(city code, city name, county code, county name) of Yunnan's current counties, the
    demo county first. Real codes, so that generated ID numbers pass the GB 11643 place check."""
    db = numdb.get("cn/loc")

    def name(code: str) -> str:
        info = {k: v for _, props in db.info(code) for k, v in props.items()}
        return info.get("county", "")

    counties = []
    for city in range(1, 40):
        for county in range(1, 100):
            code = f"53{city:02d}{county:02d}"
            # The last of "[1983-1995]old,[1995-]new" is the current name; "[x-y]" is gone.
            label = name(code).split(",")[-1]
            if label.startswith("["):
                span, label = label[1:].split("]", 1)
                if not span.endswith("-"):
                    continue
            if not label or "市辖区" in label:
                continue
            city_name = name(f"53{city:02d}00").split(",")[-1].split("]")[-1]
            counties.append((f"53{city:02d}00", city_name, code, label))
    counties.sort(key=lambda row: row[2] != "532926")
    return counties


def _county_code(index: int) -> tuple[str, str, str, str]:
    counties = real_counties()
    if index >= len(counties):
        raise ValueError(f"only {len(counties)} counties available")
    return counties[index]


@transaction.atomic
def build(size: DemoSize, *, seed: int = 1) -> dict:
    rng = random.Random(seed)  # noqa: S311 — deterministic demo data, not secrets
    year = current_school_year()
    password = make_password(DEMO_PASSWORD)
    province, _ = Region.objects.get_or_create(
        code="530000", defaults={"name": "云南省", "level": RegionLevel.PROVINCE}
    )
    cities: dict[str, Region] = {}
    users: list[User] = []
    head_teachers: list[tuple[User, tuple]] = []
    class_rows: list[SchoolClass] = []

    def account(username, role, *, region=None, school=None):
        user = User(
            username=username,
            full_name=_person(rng),
            role=role,
            region=region,
            school=school,
            password=password,
        )
        users.append(user)
        return user

    if size.accounts:
        account("sheng_dudao", Role.PROVINCE_SUPERVISOR, region=province)
    school_serial = 0
    for c in range(size.counties):
        city_code, city_name, county_code, county_name = _county_code(c)
        if city_code not in cities:
            cities[city_code] = Region.objects.create(
                code=city_code, name=city_name, level=RegionLevel.CITY, parent=province
            )
            if size.accounts and c == 0:
                account("shi_dudao", Role.CITY_SUPERVISOR, region=cities[city_code])
        county = Region.objects.create(
            code=county_code, name=county_name, level=RegionLevel.COUNTY, parent=cities[city_code]
        )
        prefix = "" if c == 0 else f"c{c + 1}_"
        if size.accounts:
            account(f"{prefix}xian_admin", Role.COUNTY_ADMIN, region=county)
            account(f"{prefix}xian_staff", Role.COUNTY_STAFF, region=county)
            account(f"{prefix}api_xian", Role.API_CLIENT, region=county)
        townships = Region.objects.bulk_create(
            [
                Region(
                    code=county_code + code, name=name, level=RegionLevel.TOWNSHIP, parent=county
                )
                for name, code in (_township(t) for t in range(size.townships))
            ]
        )
        villages = Region.objects.bulk_create(
            [
                Region(
                    # 4xx: demo villages, clear of the real ones (0xx, 2xx) of the table.
                    code=f"{township.code}{401 + v:03d}",
                    name=_village_name(t * size.villages + v),
                    level=RegionLevel.VILLAGE,
                    parent=township,
                )
                for t, township in enumerate(townships)
                for v in range(size.villages)
            ]
        )
        village_of = {v.code[:9]: v for v in reversed(villages)}
        for t, township in enumerate(townships, start=1):
            if size.accounts:
                account(f"{prefix}xz{t}_ganbu", Role.TOWNSHIP_OFFICIAL, region=township)
                if township.code in village_of:
                    account(
                        f"{prefix}xz{t}_cungan",
                        Role.VILLAGE_CADRE,
                        region=village_of[township.code],
                    )
            centre = None
            for s in range(size.schools):
                kind, suffix, attached = SCHOOL_PATTERN[s % len(SCHOOL_PATTERN)]
                school_serial += 1
                school = School.objects.create(
                    code=f"1{county_code[1:]}{school_serial % 10000:04d}",
                    name=f"{township.name}{'' if s < len(SCHOOL_PATTERN) else s // len(SCHOOL_PATTERN) + 1}{suffix}",
                    kind=kind,
                    township=township,
                    parent=centre if attached else None,
                )
                if s == 0:
                    centre = school
                tag = f"{prefix}xz{t}_xx{s + 1}"
                teacher = None
                if size.accounts:
                    account(f"{tag}_xiaozhang", Role.PRINCIPAL, school=school)
                    account(f"{tag}_guanli", Role.SCHOOL_STAFF, school=school)
                    teacher = account(f"{tag}_banzhuren", Role.CLASS_TEACHER, school=school)
                for grade in GRADES[kind]:
                    for n in range(1, size.classes_per_grade + 1):
                        row = SchoolClass(
                            school=school, school_year=year, grade=grade, name=f"{n}班"
                        )
                        class_rows.append(row)
                        if teacher is not None and grade == GRADES[kind][0] and n == 1:
                            head_teachers.append((teacher, row))
    User.objects.bulk_create(users, batch_size=2000)
    for teacher, row in head_teachers:
        row.head_teacher = teacher
    SchoolClass.objects.bulk_create(class_rows, batch_size=5000)
    return {
        "counties": size.counties,
        "schools": school_serial,
        "classes": len(class_rows),
        "accounts": len(users),
    }
