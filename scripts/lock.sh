#!/usr/bin/env bash
# Pin the runtime dependencies of pyproject.toml, with hashes, into requirements.lock: the exact set
# the Docker image installs. Re-run after changing [project].dependencies; tests/deploy/test_deploy_lock.py
# fails while the lock no longer satisfies them. Extra arguments go to `uv pip compile`
# (e.g. --upgrade, or --upgrade-package numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  # uv into the project's virtualenv (the one scripts/test.sh makes), not into a system Python.
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
  PATH=$PWD/.venv/bin:$PATH
fi
# The image is CPython 3.12 on Linux (Dockerfile: FROM python:3.12-slim).
uv pip compile pyproject.toml --quiet --generate-hashes \
  --python-version 3.12 --python-platform linux \
  --output-file requirements.lock "$@"
