"""Deny by default: every routed URL refuses an anonymous request, except login and static."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# The page and the API ways to log in; the load balancer's health check (it says nothing but
# whether the database, the broker and a worker answer); the offline layer's service worker
# and manifest, which hold no data (a browser fetches them before any login).
PUBLIC = {"/login/", "/api/v1/auth/token/", "/health/", "/sw.js", "/manifest.webmanifest"}
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _sample(match):
    return "json" if match.group("name") == "format" else "1"


def _walk(patterns, prefix=""):
    for entry in patterns:
        regex = entry.pattern.regex.pattern
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + regex)
        elif isinstance(entry, URLPattern):
            yield prefix + regex, entry


def routed_urls():
    """Every URL pattern the project routes, made concrete with sample arguments."""
    for regex, entry in _walk(get_resolver().url_patterns):
        path = _GROUP.sub(_sample, regex)
        path = (
            path.replace("^", "")
            .replace("$", "")
            .replace("\\Z", "")
            .replace("\\.", ".")
            .replace("\\-", "-")
            .replace("/?", "/")
        )
        yield "/" + path.lstrip("/"), entry


def test_every_routed_url_refuses_anonymous_requests(client):
    checked = 0
    for url, _ in routed_urls():
        if url in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (301, 302, 401, 403, 405), (
                method,
                url,
                response.status_code,
            )
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), url
        checked += 1
    assert checked >= 20


def test_login_page_is_public(client):
    assert client.get("/login/").status_code == 200


def test_url_names_are_unique_so_reverse_finds_the_page_not_the_api():
    from collections import Counter

    names = Counter(entry.name for _, entry in routed_urls() if entry.name)
    assert [name for name, count in names.items() if count > 1] == []
