#!/usr/bin/env bash
# Pin the runtime dependencies of pyproject.toml, with hashes, into requirements.lock: the exact set
# the Docker image installs. Re-run after changing [project].dependencies; tests/deploy/test_lock.py
# fails while the lock no longer satisfies them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
# The image is CPython 3.12 on Linux (Dockerfile: FROM python:3.12-slim).
uv pip compile pyproject.toml --quiet --generate-hashes \
  --python-version 3.12 --python-platform linux \
  --output-file requirements.lock "$@"
