from django.urls import path

from . import views

urlpatterns = [
    path("attendance/", views.overview, name="attendance"),
    path("attendance/rules/", views.RulesView.as_view(), name="attendance-rules"),
    path("attendance/<int:pk>/", views.roll_today, name="attendance-today"),
    path("attendance/<int:pk>/<str:day>/", views.roll, name="attendance-roll"),
]
