from django.urls import include, path

# Each part of the reports app keeps its own pages: the monthly report (月报表), the
# dashboards and indicators, and the sign-offs of the levels above the school (四个一).
urlpatterns = [
    path("reports/monthly/", include("reports.monthly_urls")),
    path("reports/dashboard/", include("reports.dashboard_urls")),
    path("reports/sign-offs/", include("reports.cadence_urls")),
]
