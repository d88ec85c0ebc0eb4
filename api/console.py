"""The analyst console, served by ``cdp serve`` at ``/``: pages that hold no data themselves (their scripts
ask the GraphQL API for it, with the API key the analyst signed in with), and the scripts, styles and
vendored libraries they load (``api/static/console/``; versions, licences and checksums in
``vendor/README.md``). Nothing is loaded from the internet; a Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["CONSOLE_DIR", "PAGES", "PAGE_PREFIXES", "STATIC_PATH", "mount_console"]

CONSOLE_DIR = Path(__file__).parent / "static" / "console"
STATIC_PATH = "/static/console"
#: path -> page file; these paths are open (no key): a page holds no customer data
PAGES = {"/": "overview.html", "/signin": "signin.html", "/profiles/{profile_id}": "profile.html",
         "/graph/{profile_id}": "graph.html", "/review": "review.html", "/quality": "quality.html"}  # fmt: skip
#: the open page paths as prefixes (a page with a parameter)
PAGE_PREFIXES = ("/profiles/", "/graph/")
HEADERS = {
    # scripts, styles and data only from this server; Chart.js sizes its canvases through style attributes
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _page(name: str):  # type: ignore[no-untyped-def]
    async def serve() -> FileResponse:  # a profile id in the path is read by the page's script, not here
        return FileResponse(CONSOLE_DIR / name, media_type="text/html", headers=HEADERS)

    return serve


def mount_console(app: FastAPI) -> None:
    """The console's pages at :data:`PAGES` and its files at :data:`STATIC_PATH`."""
    router = APIRouter()
    for path, name in PAGES.items():
        router.add_api_route(path, _page(name), methods=["GET"], include_in_schema=False)
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=CONSOLE_DIR), name="console")
