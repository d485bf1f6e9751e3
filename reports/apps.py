from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报表"

    def ready(self):
        # Permission actions and home-page items register themselves on import.
        from . import cadence_home, monthly_home, permissions  # noqa: F401
