from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = "学生与学籍"

    def ready(self):
        # Registers the roster import's and export's background-job runners and the
        # calendar's permission action.
        from . import exports, imports, permissions  # noqa: F401
