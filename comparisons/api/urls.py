from rest_framework.routers import SimpleRouter

from . import sources, views

router = SimpleRouter()
router.register("comparisons/runs", views.RunViewSet, basename="api-comparison-run")
router.register("comparisons/mismatches", views.MismatchViewSet, basename="api-comparison-mismatch")
router.register("comparisons/sources", sources.SourceViewSet, basename="api-comparison-source")

urlpatterns = router.urls
