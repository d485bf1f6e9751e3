from rest_framework.routers import SimpleRouter

from . import sync, views

router = SimpleRouter()
router.register("ledger-entries", views.LedgerEntryViewSet, basename="api-ledger-entry")

urlpatterns = router.urls + sync.urlpatterns
