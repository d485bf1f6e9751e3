from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = "考勤"

    def ready(self):
        from . import permissions  # noqa: F401  (registers attendance's permission actions)
