"""Attendance's items on the home page (accounts.home): the day's rolls.

- a class teacher: each of their classes with today's roll, one tap into it;
- a school (a 中心校 with its attached 村小 and 教学点): the classes without today's roll, the
  day's absences and, in a term's first week, the students who have not reported;
- the county, and per county above it: the schools with classes missing today's roll;
- a class teacher and a school: children newly on the watch list, and watched children with
  no measure recorded for 30 days (重点监测, DOMAIN.md §4b).
"""

import datetime

from django.urls import reverse

from accounts import home
from accounts.models import School, SchoolClass
from students.models import Student

from . import selectors
from .choices import ABSENT
from .models import AttendanceMark


def _teacher(where: home.Desk) -> list[home.Item]:
    mine = SchoolClass.objects.for_user(where.user).filter(head_teacher=where.user)
    classes, school_day = selectors.classes_day(mine.order_by("grade", "name"), where.day)
    if not classes:
        return []
    lines = [
        home.Line(
            label=f"{klass.school.name} {klass}",
            url=reverse("attendance-today", args=[klass.pk]),
            status="已提交" if roll else ("未提交" if school_day else "非上课日"),
            done=roll is not None or not school_day,
            key=f"roll-link-{klass.pk}",
        )
        for klass, roll in classes
    ]
    return [
        home.Item(
            key="attendance-my-rolls",
            label="今日未交考勤的班级",
            count=sum(not line.done for line in lines),
            hint="点班级进入点名" if school_day else "今天不是上课日",
            lines=lines,
        )
    ]


def _school(where: home.Desk) -> list[home.Item]:
    school_ids = list(School.objects.for_user(where.user).values_list("pk", flat=True))
    url = reverse("attendance")
    items = [
        home.Item(
            key="attendance-missing",
            label="今日未交考勤的班级",
            count=selectors.unsubmitted(school_ids, where.day).count(),
            hint="含所属村小、教学点" if len(school_ids) > 1 else "请提醒班主任点名",
            url=url,
        ),
        home.Item(
            key="attendance-absent",
            label="今日缺勤学生",
            count=AttendanceMark.objects.filter(
                roll__school_id__in=school_ids, date=where.day, status__in=ABSENT
            ).count(),
            hint="病假、事假和旷课",
            url=url,
            alarming=False,
        ),
    ]
    no_shows = selectors.no_shows(school_ids, where.day)
    if no_shows:
        items.append(
            home.Item(
                key="attendance-no-shows",
                label="开学未报到学生",
                count=sum(len(students) for students in no_shows.values()),
                hint="开学第一周仍未到校，请逐一核实",
                url=url,
            )
        )
    return items


def _area(where: home.Desk) -> list[home.Item]:
    return [
        home.counted(
            where,
            selectors.schools_missing_roll(School.objects.for_user(where.user), where.day),
            "township__parent_id",
            key="attendance-missing-schools",
            label="今日有班级未交考勤的学校",
            hint="请督促学校完成点名",
            url=reverse("attendance"),
            county_param="county",
            county_by_pk=True,
        )
    ]


def _watch(where: home.Desk) -> list[home.Item]:
    """Two COUNTs over the children of the user's area."""
    students = Student.objects.for_user(where.user)
    since = where.day - datetime.timedelta(days=selectors.NEW_DAYS - 1)
    url = reverse("attendance-watch")
    return [
        home.Item(
            key="attendance-watch-new",
            label="新列入重点监测的学生",
            count=selectors.watch_new(students, since).count(),
            hint=f"近{selectors.NEW_DAYS}天列入，请了解原因并落实帮扶",
            url=url,
        ),
        home.Item(
            key="attendance-watch-idle",
            label=f"{selectors.MEASURE_DUE_DAYS}天未登记措施的重点监测学生",
            count=selectors.watch_idle(students, where.day).count(),
            hint="请家访、谈心或结对帮扶，并登记措施",
            url=url,
        ),
    ]


@home.register(10)
def attendance_items(where: home.Desk) -> list[home.Item]:
    if where.teacher:
        return _teacher(where) + _watch(where)
    if where.at_school:
        return _school(where) + _watch(where)
    if where.county or where.above_county:
        return _area(where)
    return []
