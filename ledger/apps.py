from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "控辍保学台账"

    def ready(self):
        # Registers the ledger's permission actions, the 立即核查 and export background-job runners,
        # the home page's items and its panel on the student page.
        from . import consistency, exports, home, merge, panels, permissions  # noqa: F401
