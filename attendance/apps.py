from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = "考勤"

    def ready(self):
        # Registers attendance's permission actions, its home page items and its panels on
        # the student and ledger entry pages, and answers the comparisons' 在籍不在校.
        from ledger import hooks

        from . import home, imports, merge, panels, permissions, presence  # noqa: F401

        hooks.provide_not_attending(presence.not_attending)
