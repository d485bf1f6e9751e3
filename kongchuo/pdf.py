"""Printable PDF documents: a Django template rendered to PDF by WeasyPrint.

Everything a document loads comes from this machine: the templates refer to ``/static/...``,
which resolves through the staticfiles finders to the files in the repository, and every other
address (another host, ``file:``, ``data:``…) is refused, so a value typed by a user can never
make the server fetch anything. The fonts are the vendored Noto Serif SC / Noto Sans SC
(``static/vendor/fonts/README.md``), embedded in every PDF.

Loading the fonts (two woff2 files of 2–3 MB, decoded and registered with fontconfig) is the
dearest step, so it happens once per process: one ``FontConfiguration`` and the parsed font
stylesheets are kept and reused by every document. Rendering is serialised by a lock because
that shared font configuration (fontconfig and Pango under it) is not safe to use from two
threads at once.
"""

import logging
import threading
from functools import cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

# A reserved name (RFC 2606) that no DNS resolves: relative and root-relative addresses of a
# document are joined to it, and only addresses on it are ever served, from local files.
BASE_URL = "https://documents.invalid/"

# The @font-face rules of the vendored fonts, relative to a static directory.
FONT_STYLESHEETS = ("vendor/fonts/fonts.css",)

_render_lock = threading.Lock()


class DocumentResourceRefused(ValueError):
    """A document asked for something that is not one of our static files."""


def _static_prefix() -> str:
    return "/" + settings.STATIC_URL.strip("/") + "/"


def static_path(url: str):
    """The local file behind ``url`` if it is one of our static files; raise otherwise."""
    parts = urlsplit(url)
    prefix = _static_prefix()
    if parts.scheme != "https" or parts.netloc != urlsplit(BASE_URL).netloc:
        raise DocumentResourceRefused(f"文书只能引用本系统的静态文件：{url}")
    if not parts.path.startswith(prefix):
        raise DocumentResourceRefused(f"文书只能引用本系统的静态文件：{url}")
    relative = unquote(parts.path[len(prefix) :])
    # The finders refuse a path that climbs out of a static directory (SuspiciousFileOperation).
    try:
        found = finders.find(relative) if relative and ".." not in relative.split("/") else None
    except Exception as exc:
        raise DocumentResourceRefused(f"文书引用的文件不存在：{url}") from exc
    if not found:
        raise DocumentResourceRefused(f"文书引用的文件不存在：{url}")
    return found


@cache
def _weasyprint():
    # Imported on first use: WeasyPrint loads Pango through cffi, which pages that never print
    # a document should not pay for.
    # Their INFO lines (each layout step of every document, each font decoded; the import
    # already parses the default stylesheets) would be most of the application's log.
    for name in ("weasyprint.progress", "fontTools.ttLib.woff2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalStaticFetcher(URLFetcher):
        """Serves our static files and refuses every other address, never touching a network."""

        def fetch(self, url, headers=None):
            path = static_path(url)
            with open(path, "rb") as file:
                body = file.read()
            return URLFetcherResponse(url, body, {})

    return weasyprint, FontConfiguration, LocalStaticFetcher


def url_fetcher():
    """The fetcher every document uses (public for the tests)."""
    _, _, fetcher_class = _weasyprint()
    return fetcher_class()


@cache
def _shared_resources():
    """The font configuration and the parsed font stylesheets, built once per process."""
    weasyprint, font_configuration, _ = _weasyprint()
    font_config = font_configuration()
    fetcher = url_fetcher()
    prefix = _static_prefix().lstrip("/")
    stylesheets = [
        weasyprint.CSS(
            url=BASE_URL + prefix + name,
            url_fetcher=fetcher,
            font_config=font_config,
        )
        for name in FONT_STYLESHEETS
    ]
    return font_config, stylesheets, fetcher


def warm_up() -> None:
    """Load the fonts now (a worker may call this at start so the first document is fast)."""
    _shared_resources()


def render_html(template_name: str, context: dict) -> str:
    return render_to_string(template_name, context)


def html_to_pdf(html: str) -> bytes:
    """The PDF of an HTML document, with the shared fonts and the local-only fetcher. Page size
    and margins come from its ``@page`` rule (A4 for our documents)."""
    weasyprint, _, _ = _weasyprint()
    with _render_lock:
        font_config, stylesheets, fetcher = _shared_resources()
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=stylesheets, font_config=font_config)


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render ``template_name`` with ``context`` and return the PDF bytes."""
    return html_to_pdf(render_html(template_name, context))
