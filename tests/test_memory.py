"""glibc malloc tuning (applied where glibc exists, harmless elsewhere) and the frozen start-up objects."""

from __future__ import annotations

import gc
import sys

import pytest

from service.memory import freeze_startup_objects, retain_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_thresholds_are_accepted_by_glibc() -> None:
    # mallopt returns 0 for a value glibc refuses (e.g. an mmap threshold above its 32 MiB maximum).
    assert retain_freed_memory() is True


def test_startup_objects_are_frozen_out_of_full_collections() -> None:
    try:
        assert freeze_startup_objects() > 10_000  # the service's modules alone hold tens of thousands
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
