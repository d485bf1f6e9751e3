from django.urls import path

from . import views

urlpatterns = [
    path("login/code/", views.login_code, name="login-code"),
    path("login/enrol/", views.login_enrol, name="login-enrol"),
    path("account/security/", views.account_security, name="account-security"),
    path("account/two-factor/enrol/", views.two_factor_enrol, name="two-factor-enrol"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two-factor-remove"),
    path("account/tokens/revoke/", views.token_revoke, name="token-revoke"),
    path("org/regions/", views.RegionListView.as_view(), name="region-list"),
    path("org/regions/new/", views.RegionCreateView.as_view(), name="region-create"),
    path("org/regions/<int:pk>/edit/", views.RegionUpdateView.as_view(), name="region-update"),
    path("org/schools/", views.SchoolListView.as_view(), name="school-list"),
    path("org/schools/new/", views.SchoolCreateView.as_view(), name="school-create"),
    path("org/schools/<int:pk>/", views.SchoolDetailView.as_view(), name="school-detail"),
    path("org/schools/<int:pk>/edit/", views.SchoolUpdateView.as_view(), name="school-update"),
    path(
        "org/schools/<int:school_pk>/classes/new/",
        views.SchoolClassCreateView.as_view(),
        name="class-create",
    ),
    path("org/classes/<int:pk>/", views.SchoolClassDetailView.as_view(), name="class-detail"),
    path("org/classes/<int:pk>/edit/", views.SchoolClassUpdateView.as_view(), name="class-update"),
    path("accounts/", views.AccountListView.as_view(), name="account-list"),
    path("accounts/new/", views.AccountCreateView.as_view(), name="account-create"),
    path("accounts/<int:pk>/edit/", views.AccountUpdateView.as_view(), name="account-update"),
    path("accounts/<int:pk>/active/", views.account_set_active, name="account-set-active"),
    path(
        "accounts/<int:pk>/security/",
        views.account_security_admin,
        name="account-security-admin",
    ),
    path(
        "accounts/<int:pk>/tokens/revoke/",
        views.account_token_revoke,
        name="account-token-revoke",
    ),
    path(
        "accounts/<int:pk>/two-factor/reset/",
        views.account_two_factor_reset,
        name="account-two-factor-reset",
    ),
    path("audit/", views.audit_list, name="audit-list"),
    path("jobs/", views.job_create, name="job-create"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/download/", views.job_download, name="job-download"),
    path("notifications/", views.notification_list, name="notification-list"),
    # Not "read-all/": tests/accounts/test_urls.py samples URLs from the escaped regex.
    path("notifications/read/", views.notification_read_all, name="notification-read-all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
]
