from django.urls import path

from . import calendar_views, duplicate_views, import_views, views

urlpatterns: list = [
    path("students/", views.StudentListView.as_view(), name="student-list"),
    path("students/new/", views.StudentCreateView.as_view(), name="student-create"),
    path("students/export/", views.roster_export, name="roster-export"),
    path("students/<int:pk>/", views.StudentDetailView.as_view(), name="student-detail"),
    path("students/<int:pk>/edit/", views.StudentUpdateView.as_view(), name="student-update"),
    path("students/<int:pk>/events/new/", views.EventCreateView.as_view(), name="event-create"),
    path("students/<int:pk>/reveal/", views.reveal, name="student-reveal"),
    path("students/<int:pk>/contacts/", views.contacts_reveal, name="student-contacts"),
    path("students/duplicates/", duplicate_views.duplicate_list, name="students-duplicates"),
    path(
        "students/duplicates/<int:first>/<int:second>/merge/",
        duplicate_views.merge_confirm,
        name="students-merge",
    ),
    path(
        "students/duplicates/<int:first>/<int:second>/dismiss/",
        duplicate_views.pair_dismiss,
        name="students-duplicate-dismiss",
    ),
    path("students/transfers/", views.transfer_list, name="transfer-list"),
    path("students/transfers/<int:pk>/decide/", views.transfer_decide, name="transfer-decide"),
    path("students/import/", import_views.RosterImportView.as_view(), name="roster-import"),
    path("students/import/template/", import_views.roster_template, name="roster-template"),
]

# The school calendar (students.calendar).
urlpatterns += [
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/terms/new/", calendar_views.term_create, name="calendar-term-create"),
    path("calendar/days/new/", calendar_views.day_create, name="calendar-day-create"),
    path(
        "calendar/terms/<int:pk>/delete/", calendar_views.term_delete, name="calendar-term-delete"
    ),
    path("calendar/days/<int:pk>/delete/", calendar_views.day_delete, name="calendar-day-delete"),
]
