from django.urls import path

from . import views
from .transitions import TRANSITIONS

urlpatterns: list = [
    path("ledger/", views.EntryListView.as_view(), name="ledger-list"),
    path("ledger/new/", views.EntryCreateView.as_view(), name="ledger-create"),
    path("ledger/export/", views.export, name="ledger-export"),
    path("ledger/consistency/", views.consistency_list, name="ledger-consistency"),
    path("ledger/<int:pk>/", views.EntryDetailView.as_view(), name="ledger-detail"),
    path("ledger/<int:pk>/contacts/", views.entry_contacts, name="ledger-contacts"),
    path("ledger/evidence/<int:pk>/", views.evidence, name="ledger-evidence"),
    *(
        path(
            f"ledger/<int:pk>/{action.value}/",
            views.EntryActionView.as_view(action=action),
            name=f"ledger-{action.value}",
        )
        for action in TRANSITIONS
    ),
]
