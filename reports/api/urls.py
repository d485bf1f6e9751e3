from django.urls import include, path

urlpatterns = [
    path("reports/monthly/", include("reports.api.monthly_urls")),
    path("indicators/", include("reports.api.indicator_urls")),
    path("reports/sign-offs/", include("reports.api.cadence_urls")),
]
