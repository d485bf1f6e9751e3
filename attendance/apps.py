from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = "考勤"

    def ready(self):
        # Registers attendance's permission actions, its home page items and its panels on
        # the student and ledger entry pages.
        from . import home, panels, permissions  # noqa: F401
