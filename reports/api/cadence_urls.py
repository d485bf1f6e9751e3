from rest_framework.routers import SimpleRouter

from . import cadence_views

router = SimpleRouter()
router.register("", cadence_views.SignOffViewSet, basename="api-report-sign-off")

urlpatterns = router.urls
