from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.health import health
from accounts.views import HomeView, LoginView
from kongchuo import offline

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("students.api.urls")),
    path("", include("ledger.api.urls")),
    path("", include("attendance.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("comparisons.api.urls")),
    path("", include("reports.api.urls")),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("health/", health, name="health"),
    # The offline layer (issue 17): the worker at the root so that it controls every page.
    path("sw.js", offline.service_worker, name="service-worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("", include("students.urls")),
    path("", include("ledger.urls")),
    path("", include("attendance.urls")),
    path("", include("returns.urls")),
    path("", include("comparisons.urls")),
    path("", include("reports.urls")),
    path("", include("accounts.lookup_urls")),
    path("api/v1/", include(api_v1)),
]

handler400 = "kongchuo.views.bad_request"
handler403 = "kongchuo.views.forbidden"
handler404 = "kongchuo.views.not_found"
handler500 = "kongchuo.views.server_error"
