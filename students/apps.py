from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = "学生与学籍"

    def ready(self):
        # Registers the roster import's and export's background-job runners, the
        # calendar's permission action and the home page's transfers item.
        from . import exports, home, imports, permissions  # noqa: F401
