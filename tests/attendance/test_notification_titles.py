"""Every notification attendance sends names the child by school, class and name (issue 11
§5: "南涧镇中心学校 一年级1班 何晓：连续旷课3天"), through the one helper
(accounts.notifications.subject); the term-start list names the school, and each child's
class in its body."""

import datetime

from accounts.choices import NotificationKind
from accounts.models import Notification
from attendance import services
from attendance.choices import Mark
from tests.attendance.conftest import AUTUMN, MON, PRINCIPAL, TUE, WED, absent, take


def _who(student) -> str:
    return f"{student.school.name} {student.klass} {student.name}"


def test_suspected_dropout_title_names_school_class_and_the_run(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED], child)
    titles = set(
        Notification.objects.filter(kind=NotificationKind.SUSPECTED_DROPOUT).values_list(
            "title", flat=True
        )
    )
    assert titles == {f"{_who(child)}：连续旷课3天"}, "the principal's and the township's"
    assert "年级" in str(klass) and klass.school.name in _who(child)


def test_correction_title_names_school_and_class(world, klass, pupils):
    child = pupils[0]
    absent(world, klass, [MON, TUE, WED], child)
    take(world, klass, TUE, {child: Mark.SICK})
    note = Notification.objects.get(recipient=world.user(PRINCIPAL), title__contains="考勤更正")
    assert note.title == f"{_who(child)}：考勤更正，疑似辍学记录待核实"


def test_term_start_list_names_the_school_and_each_childs_class(world, klass, pupils):
    take(world, klass, AUTUMN[0], {pupils[0]: Mark.UNEXCUSED})
    assert services.send_no_shows(datetime.date(2026, 9, 7)) == 1
    note = Notification.objects.get(kind=NotificationKind.NO_SHOW)
    assert note.title == f"{klass.school.name}：开学一周未报到学生1人"
    assert f"{klass} {pupils[0].name}" in note.body
