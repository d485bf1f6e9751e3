from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = "数据比对"

    def ready(self):
        # Registers the comparisons' permission actions.
        from . import permissions  # noqa: F401
