"""Regenerate the Python client and the TypeScript types from openapi/openapi.json.

    python scripts/generate_clients.py                      # both, into the git-ignored defaults
    python scripts/generate_clients.py --python-out /tmp/c  # package in /tmp/c/loss_service_client
    python scripts/generate_clients.py --only typescript --typescript-out /tmp/t/openapi.d.ts

Python: openapi-python-client (package ``loss_service_client``), with --fail-on-warning so that a
schema construct the generator cannot handle fails loudly instead of silently dropping an
operation. TypeScript: openapi-typescript from clients/typescript's pinned devDependencies (run
``npm ci`` there first). Generated code is never committed; fix the schema, not the output.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "openapi" / "openapi.json"
TYPESCRIPT_DIR = ROOT / "clients" / "typescript"
PYTHON_OUT = ROOT / "tests" / "clients" / "generated"
TYPESCRIPT_OUT = TYPESCRIPT_DIR / "generated" / "openapi.d.ts"
PACKAGE = "loss_service_client"

# No post hooks: the generator would otherwise run whatever `ruff` is first on PATH.
PYTHON_CONFIG = {
    "project_name_override": "loss-service-client",
    "package_name_override": PACKAGE,
    "post_hooks": [],
}


def _generator() -> list[str]:
    """The openapi-python-client of this interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).with_name("openapi-python-client")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("openapi-python-client")
    if found is None:
        raise SystemExit("openapi-python-client not found: pip install -e '.[dev]'")
    return [found]


def generate_python(schema: Path, out: Path) -> Path:
    """Writes the package to ``out/loss_service_client`` (replacing it) and returns that path, so
    that ``out`` is what goes on ``sys.path``."""
    package = out / PACKAGE
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.json"
        config.write_text(json.dumps(PYTHON_CONFIG))
        command = [
            *_generator(),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(package),
            "--meta",
            "none",
            "--config",
            str(config),
            "--overwrite",
            "--fail-on-warning",
        ]
        subprocess.run(command, check=True)
    return package


def generate_typescript(schema: Path, out: Path) -> Path:
    """Writes one ``.d.ts`` file with ``paths``, ``components`` and ``operations``."""
    if not (TYPESCRIPT_DIR / "node_modules" / ".bin" / "openapi-typescript").exists():
        raise SystemExit(f"run `npm ci` in {TYPESCRIPT_DIR} first")
    out.parent.mkdir(parents=True, exist_ok=True)
    # openapi-typescript 7 otherwise marks every property with a default as required, which
    # would make callers send every optional request field.
    command = ["npx", "--no-install", "openapi-typescript", str(schema), "--default-non-nullable", "false"]
    command += ["-o", str(out)]
    subprocess.run(command, check=True, cwd=TYPESCRIPT_DIR)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    parser.add_argument("--only", choices=["python", "typescript"])
    parser.add_argument("--python-out", type=Path, default=PYTHON_OUT)
    parser.add_argument("--typescript-out", type=Path, default=TYPESCRIPT_OUT)
    args = parser.parse_args(argv)
    schema = args.schema.resolve()
    if args.only in (None, "python"):
        print(f"python client: {generate_python(schema, args.python_out.resolve())}")
    if args.only in (None, "typescript"):
        print(f"typescript types: {generate_typescript(schema, args.typescript_out.resolve())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
