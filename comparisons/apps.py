from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = "数据比对"

    def ready(self):
        # Registers the comparisons' permission actions and home page item.
        from . import home, merge, permissions  # noqa: F401
