from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("return-cases", views.ReturnCaseViewSet, basename="api-return-case")

urlpatterns = router.urls
