from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = "学生与学籍"

    def ready(self):
        # Registers the roster import's background-job runner with accounts.jobs.
        from . import imports  # noqa: F401
