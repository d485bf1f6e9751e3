from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报表"

    def ready(self):
        # Permission actions, home-page items and the job runners (the dashboard export, the
        # 月报表 workbooks) register themselves on import.
        from . import cadence_home, exports, monthly_home, monthly_jobs, permissions  # noqa: F401
