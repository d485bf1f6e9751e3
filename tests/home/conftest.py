"""The home page's tests use the attendance fixtures: the test terms, a class with pupils."""

from tests.attendance.conftest import klass, pupils, terms  # noqa: F401
