from django.urls import path

from . import import_views, imports, views

urlpatterns = [
    path("attendance/", views.overview, name="attendance"),
    path("attendance/rules/", views.RulesView.as_view(), name="attendance-rules"),
    path("attendance/watch/", views.watch_list, name="attendance-watch"),
    path("attendance/watch/recompute/", views.watch_recompute, name="attendance-watch-recompute"),
    path(
        "attendance/watch/<int:pk>/", views.WatchChildView.as_view(), name="attendance-watch-child"
    ),
    path(
        "attendance/import/", import_views.AttendanceImportView.as_view(), name="attendance-import"
    ),
    # The two templates, one per layout (not records: no id in the path).
    *(
        path(
            f"attendance/import/template/{layout}/",
            import_views.attendance_template,
            {"layout": layout},
            name=f"attendance-import-template-{layout}",
        )
        for layout in (imports.LONG, imports.WIDE)
    ),
    path("attendance/<int:pk>/", views.roll_today, name="attendance-today"),
    path("attendance/<int:pk>/<str:day>/", views.roll, name="attendance-roll"),
]
