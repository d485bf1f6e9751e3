from rest_framework.routers import SimpleRouter

from . import monthly_views

router = SimpleRouter()
router.register("", monthly_views.MonthlyReportViewSet, basename="api-monthly-report")

urlpatterns = router.urls
