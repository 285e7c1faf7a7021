"""glibc malloc tuning: applied where glibc exists, harmless elsewhere."""

from __future__ import annotations

import sys

import pytest

from service.memory import retain_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_thresholds_are_accepted_by_glibc() -> None:
    # mallopt returns 0 for a value glibc refuses (e.g. an mmap threshold above its 32 MiB maximum).
    assert retain_freed_memory() is True
