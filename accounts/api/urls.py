from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="api-region")
router.register("schools", views.SchoolViewSet, basename="api-school")
router.register("classes", views.SchoolClassViewSet, basename="api-class")
router.register("jobs", views.JobViewSet, basename="api-job")
router.register("notifications", views.NotificationViewSet, basename="api-notification")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/logout/", views.TokenRevokeView.as_view(), name="api-logout"),
    path("auth/tokens/", views.TokenListView.as_view(), name="api-token-list"),
    path("auth/tokens/revoke/", views.TokenRevokeOneView.as_view(), name="api-token-revoke"),
    *router.urls,
]
