from rest_framework.routers import SimpleRouter

from . import sync, views

router = SimpleRouter()
router.register("attendance", views.RollCallViewSet, basename="api-attendance")
router.register("watch-list", views.WatchListViewSet, basename="api-watch-list")

urlpatterns = router.urls + sync.urlpatterns
