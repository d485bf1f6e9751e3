from django.urls import path

from . import document_views, list_views, views

urlpatterns: list = [
    path("returns/", list_views.CaseListView.as_view(), name="returns-list"),
    path("returns/export/", list_views.export, name="returns-export"),
    path("ledger/<int:pk>/return-case/", views.OpenView.as_view(), name="returns-open"),
    path("returns/<int:pk>/", views.CaseDetailView.as_view(), name="returns-detail"),
    *(
        path(
            f"returns/<int:pk>/{action.value}/",
            views.CaseActionView.as_view(action=action),
            name=f"returns-{action.value}",
        )
        for action in views.PAGE_ACTIONS
    ),
    path("returns/attachments/<int:pk>/", views.attachment, name="returns-attachment"),
    path(
        "returns/<int:pk>/documents/<str:kind>/",
        document_views.document_generate,
        name="returns-document-generate",
    ),
    path("returns/documents/<int:pk>/", document_views.document_download, name="returns-document"),
    path("returns/documents/batch/", document_views.document_batch, name="returns-document-batch"),
]
