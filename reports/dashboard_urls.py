from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="reports-dashboard"),
    path("download/", dashboard_views.download, name="reports-dashboard-download"),
]
