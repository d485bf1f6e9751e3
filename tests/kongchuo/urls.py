"""The site's URLs and error handlers, plus two views that fail: the test-only way to a 500."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from kongchuo.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class Boom(Exception):
    pass


@login_not_required
def boom(request):
    raise Boom("something nobody caught")


urlpatterns = [
    path("api/v1/test-boom/", boom),
    path("test-boom/", boom),
    *urlpatterns,
]
