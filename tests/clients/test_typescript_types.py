"""openapi-typescript types, freshly generated, must compile against clients/typescript/usage.ts.

usage.ts holds `@ts-expect-error` lines (a wrong reduction, a foreign option), so the check also
fails if the types stop rejecting bad bodies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "typescript"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not on PATH"),
]


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


def test_generated_types_compile_against_usage(tmp_path: Path) -> None:
    _run(["npm", "ci", "--no-audit", "--no-fund"], PACKAGE)
    types = tmp_path / "openapi.d.ts"
    script = ROOT / "scripts" / "generate_clients.py"
    _run([sys.executable, str(script), "--only", "typescript", "--typescript-out", str(types)], ROOT)
    config = {
        "extends": str(PACKAGE / "tsconfig.json"),
        "compilerOptions": {"paths": {"loss-service-api": [str(types)]}},
        "files": [str(PACKAGE / "usage.ts")],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    _run(["npx", "--no-install", "tsc", "--noEmit", "-p", str(tmp_path / "tsconfig.json")], PACKAGE)
