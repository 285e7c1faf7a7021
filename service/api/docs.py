"""Interactive API docs that need no network: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc).

FastAPI's own pages load their JavaScript, CSS, favicon and (ReDoc) Google fonts from CDNs, so they
stay blank on an air-gapped machine. These pages load the same projects' files from the package
itself (``service/api/static/``, vendored at pinned versions by ``scripts/fetch_docs_assets.py``,
licences beside them). ``create_app`` turns FastAPI's pages off (``docs_url=None, redoc_url=None``)
and includes :data:`router`.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse

from .problems import ProblemError

STATIC = Path(__file__).with_name("static")
ASSETS_PATH = "/docs-assets"
# Only the vendored files are served, never anything else under the package directory.
ASSETS = frozenset(json.loads((STATIC / "MANIFEST.json").read_text())["files"])
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# The file names carry no version, so caches revalidate (ETag / Last-Modified) after a day.
_CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter(include_in_schema=False)


def _prefix(request: Request) -> str:
    """Where the app is mounted (a proxy's root_path), so the pages' URLs work behind one too."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _title(request: Request) -> str:
    return str(request.app.title)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    prefix = _prefix(request)
    return get_swagger_ui_html(
        openapi_url=f"{prefix}{request.app.openapi_url}",
        title=f"{_title(request)} - Swagger UI",
        swagger_js_url=f"{prefix}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{prefix}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{prefix}{ASSETS_PATH}/favicon-32x32.png",
        # No badge from validator.swagger.io: nothing on these pages leaves the machine.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    prefix = _prefix(request)
    return get_redoc_html(
        openapi_url=f"{prefix}{request.app.openapi_url}",
        title=f"{_title(request)} - ReDoc",
        redoc_js_url=f"{prefix}{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{prefix}{ASSETS_PATH}/favicon-32x32.png",
        with_google_fonts=False,
    )


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise ProblemError("not_found", "No such docs asset", hint="the docs pages are /docs and /redoc")
    media_type = _MEDIA_TYPES.get(Path(name).suffix, "text/plain; charset=utf-8")
    return FileResponse(STATIC / name, media_type=media_type, headers=_CACHE)
