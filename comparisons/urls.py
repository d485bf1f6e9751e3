from django.urls import path

from . import source_views, views

urlpatterns: list = [
    # Results (views): runs, mismatches and their follow-ups, export, 三统一.
    path("comparisons/", views.RunListView.as_view(), name="comparisons-runs"),
    path("comparisons/runs/<int:pk>/", views.RunDetailView.as_view(), name="comparisons-run"),
    path(
        "comparisons/runs/<int:pk>/progress/",
        views.run_progress,
        name="comparisons-run-progress",
    ),
    path("comparisons/runs/<int:pk>/cancel/", views.run_cancel, name="comparisons-run-cancel"),
    path(
        "comparisons/mismatches/", views.MismatchListView.as_view(), name="comparisons-mismatches"
    ),
    path("comparisons/mismatches/export/", views.export, name="comparisons-mismatch-export"),
    *(
        path(
            f"comparisons/mismatches/<int:pk>/{follow_up.value}/",
            view.as_view(),
            name=f"comparisons-mismatch-{follow_up.value}",
        )
        for follow_up, view in views.FOLLOW_UP_VIEWS.items()
    ),
    path("comparisons/three-way/", views.three_way, name="comparisons-three-way"),
    # Lists (source_views): the uploaded lists, one list and its error list, the upload.
    path("comparisons/sources/", source_views.SourceListView.as_view(), name="comparisons-sources"),
    path("comparisons/sources/upload/", source_views.source_upload, name="comparisons-upload"),
    path(
        "comparisons/sources/<int:pk>/",
        source_views.SourceDetailView.as_view(),
        name="comparisons-source",
    ),
    path(
        "comparisons/sources/<int:pk>/errors.xlsx",
        source_views.source_errors,
        name="comparisons-source-errors",
    ),
]
