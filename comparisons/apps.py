from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = "数据比对"

    def ready(self):
        # Registers the comparisons' permission actions, home page item, upload and export jobs.
        from . import exports, home, merge, permissions, upload_jobs  # noqa: F401
