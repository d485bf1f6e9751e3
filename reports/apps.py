from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报表"

    def ready(self):
        # Permission actions, home-page items and the dashboard export's job runner register
        # themselves on import.
        from . import cadence_home, exports, monthly_home, permissions  # noqa: F401
