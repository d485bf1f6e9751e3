from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo county of ``make run`` and the benchmarks: it builds on every other app, so it
    sits above them all and nothing imports it."""

    name = "demo"
    verbose_name = "演示数据"
