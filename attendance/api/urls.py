from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("attendance", views.RollCallViewSet, basename="api-attendance")

urlpatterns = router.urls
