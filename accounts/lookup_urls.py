"""Included by kongchuo/urls.py: ``path("", include("accounts.lookup_urls"))``."""

from django.urls import path

from . import lookup_views

urlpatterns = [
    path("lookup/regions/", lookup_views.regions, name="lookup-regions"),
    path("lookup/schools/", lookup_views.schools, name="lookup-schools"),
]
