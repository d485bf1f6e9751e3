from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = "数据比对"

    def ready(self):
        # Registers the comparisons' permission actions, home page item and upload job.
        from . import home, merge, permissions, upload_jobs  # noqa: F401
