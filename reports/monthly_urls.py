from django.urls import path

from . import monthly_views as views

urlpatterns = [
    path("", views.index, name="reports-monthly"),
    path("open/", views.open_report, name="reports-monthly-open"),
    path("county/", views.county, name="reports-monthly-county"),
    path("county/workbook/", views.county_workbook, name="reports-monthly-workbook"),
    path("<int:pk>/", views.detail, name="reports-monthly-detail"),
    path("<int:pk>/edit/", views.edit, name="reports-monthly-edit"),
    path("<int:pk>/refresh/", views.refresh, name="reports-monthly-refresh"),
    path("<int:pk>/sign/", views.sign, name="reports-monthly-sign"),
    path("<int:pk>/correct/", views.correct, name="reports-monthly-correct"),
    path("versions/<int:pk>/xlsx/", views.version_xlsx, name="reports-monthly-xlsx"),
]
