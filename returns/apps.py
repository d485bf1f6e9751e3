from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "劝返复学"
