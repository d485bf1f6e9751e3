from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("ledger-entries", views.LedgerEntryViewSet, basename="api-ledger-entry")

urlpatterns = router.urls
