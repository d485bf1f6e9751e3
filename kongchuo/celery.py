import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kongchuo.settings.local")

app = Celery("kongchuo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
