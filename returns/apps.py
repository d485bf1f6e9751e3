from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "劝返复学"

    def ready(self):
        # Registers the case's permission actions, home page items, panels and the export's job
        # runner, and listens for the attendance side's unexcused absences (the follow-up watch).
        from ledger import hooks

        from . import exports, home, jobs, merge, panels, permissions, services  # noqa: F401

        hooks.on_unexcused_absence(services.absence_during_follow_up)
