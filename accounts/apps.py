from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "组织与账号"

    def ready(self):
        from . import signals  # noqa: F401  (login audit receivers)
