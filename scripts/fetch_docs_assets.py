"""Vendor the Swagger UI and ReDoc files that /docs and /redoc serve, so the docs work without a network.

The files come from the projects' own npm packages at the pinned versions below (``npm pack``, the
tarball checked against the pinned npm integrity hash), and are committed under
``service/api/static/`` with their licences and a ``MANIFEST.json`` of their SHA-256 hashes (a test
checks the committed files against it). To move to another version: change ``PACKAGES`` (version and
the integrity that ``npm view PACKAGE@VERSION dist.integrity`` prints), run this script, commit.

    python scripts/fetch_docs_assets.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "service" / "api" / "static"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    license: str
    integrity: str  # npm's sha512 of the tarball
    files: dict[str, str]  # path inside the tarball -> file name under static/


PACKAGES = (
    Package(
        name="swagger-ui-dist",
        version="5.35.0",
        license="Apache-2.0",
        integrity="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        files={
            "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "package/swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
            "package/swagger-ui.css": "swagger-ui.css",
            "package/favicon-32x32.png": "favicon-32x32.png",
            "package/LICENSE": "LICENSE.swagger-ui",
        },
    ),
    # ReDoc 2: the major version FastAPI's get_redoc_html is written for (<redoc spec-url=...>).
    Package(
        name="redoc",
        version="2.5.4",
        license="MIT",
        integrity="sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        files={
            "package/bundles/redoc.standalone.js": "redoc.standalone.js",
            "package/bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
            "package/LICENSE": "LICENSE.redoc",
        },
    ),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(package: Package, workdir: Path) -> dict[str, bytes]:
    spec = f"{package.name}@{package.version}"
    done = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=True,
    )
    tarball = workdir / done.stdout.strip().splitlines()[-1]
    data = tarball.read_bytes()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if integrity != package.integrity:
        raise SystemExit(f"{spec}: integrity {integrity} differs from the pinned {package.integrity}")
    out: dict[str, bytes] = {}
    with tarfile.open(tarball) as archive:
        for member, name in package.files.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{spec}: {member} is not a file")
            out[name] = extracted.read()
    return out


def main() -> int:
    STATIC.mkdir(parents=True, exist_ok=True)
    packages: dict[str, dict[str, str]] = {}
    hashes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            packages[package.name] = {
                "version": package.version,
                "license": package.license,
                "integrity": package.integrity,
            }
            for name, data in fetch(package, Path(tmp)).items():
                (STATIC / name).write_bytes(data)
                hashes[name] = sha256(data)
                print(f"{package.name}@{package.version}: {name} ({len(data)} bytes)")
    manifest = {"generated_by": "scripts/fetch_docs_assets.py", "packages": packages, "files": hashes}
    (STATIC / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
