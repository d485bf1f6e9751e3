from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "控辍保学台账"

    def ready(self):
        from . import permissions  # noqa: F401  (registers the ledger's permission actions)
