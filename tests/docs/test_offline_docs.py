"""/docs and /redoc work on an air-gapped machine: their scripts and styles come from the package.

The slow test renders both pages in headless Chromium inside a network namespace that has nothing
but loopback (the server runs in it too), and checks that the operations were rendered into the DOM.
FastAPI's own pages, which load Swagger UI and ReDoc from CDNs, render no operation there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from reference.inprocess import InProcessClient

from service.api import docs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OPERATIONS = ("sparse_cross_entropy", "categorical_cross_entropy")
EXTERNAL_URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_pages_reference_only_local_assets(api_client: InProcessClient) -> None:
    for page in ("/docs", "/redoc"):
        response = api_client.get(page)
        assert response.status_code == 200
        html = response.text
        assert not EXTERNAL_URL.search(html), html
        assert "fonts.googleapis.com" not in html
        assets = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
        assert assets, html
        for asset in assets:
            assert asset.startswith(docs.ASSETS_PATH + "/"), asset
            assert api_client.get(asset).status_code == 200, asset


def test_assets_are_the_pinned_files(api_client: InProcessClient) -> None:
    manifest = json.loads((docs.STATIC / "MANIFEST.json").read_text())
    assert set(manifest["packages"]) == {"swagger-ui-dist", "redoc"}
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for name, digest in manifest["files"].items():
        response = api_client.get(f"{docs.ASSETS_PATH}/{name}")
        assert response.status_code == 200, name
        assert hashlib.sha256(response.content).hexdigest() == digest, name
        expected_type = types.get(Path(name).suffix, "text/plain")
        assert response.headers["content-type"].startswith(expected_type), name


@pytest.mark.parametrize("name", ["MANIFEST.json", "../docs.py", "nope.js", "__init__.py"])
def test_only_vendored_files_are_served(api_client: InProcessClient, name: str) -> None:
    response = api_client.get(f"{docs.ASSETS_PATH}/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_no_cdn_pages_and_not_in_the_openapi_document(api_client: InProcessClient) -> None:
    paths = api_client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]
    assert api_client.get("/docs/oauth2-redirect").status_code == 404


def _ensure_chromium() -> None:
    """Chromium comes from Debian's packages; scripts/test.sh installs it, this covers a bare pytest run."""
    if shutil.which("chromium"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is missing and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        capture_output=True,
    )


@pytest.mark.slow
def test_pages_render_without_a_network(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a network namespace needs root and unshare")
    _ensure_chromium()
    done = subprocess.run(
        ["unshare", "-n", sys.executable, str(HERE / "offline_browser.py"), str(tmp_path), "/docs", "/redoc"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "interfaces.txt").read_text().split() == ["lo"]
    swagger = (tmp_path / "docs.html").read_text()
    redoc = (tmp_path / "redoc.html").read_text()
    for operation in OPERATIONS:
        # Swagger UI: one block per operation, id "operations-<tag>-<operationId>".
        assert f'id="operations-cross-entropy-{operation}"' in swagger, swagger[-2000:]
        # ReDoc: one section per operation, id "tag/<tag>/operation/<operationId>".
        assert f'id="tag/cross-entropy/operation/{operation}"' in redoc, redoc[-2000:]
    assert "POST" in swagger
    assert "/v1/cross-entropy/sparse" in redoc


@pytest.mark.slow
def test_a_non_editable_install_ships_the_assets(tmp_path: Path) -> None:
    """`pip install .` (the README's install, and the Dockerfile's) gets the files as package data."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("loss_service-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    manifest = json.loads((docs.STATIC / "MANIFEST.json").read_text())
    for name in [*manifest["files"], "MANIFEST.json"]:
        assert f"service/api/static/{name}" in shipped, name
