from django.urls import path

from . import cadence_views as views

urlpatterns = [
    path("", views.SignOffListView.as_view(), name="report-sign-offs"),
    path("sign/", views.SignOffSignView.as_view(), name="report-sign-off-sign"),
    path("cadence/", views.CadenceView.as_view(), name="report-cadence"),
    path("<int:pk>/", views.SignOffDetailView.as_view(), name="report-sign-off"),
]
