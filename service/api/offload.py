"""Evaluations moved off the event loop run on at most as many threads at once as the process may use
CPUs: more would only take turns at the GIL, and the event loop (``/healthz`` among it) would wait
behind every one of them for its turn."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

T = TypeVar("T")

CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

# One limiter per event loop, as anyio keeps its own default one.
_LIMITER: RunVar[CapacityLimiter] = RunVar("loss_service_evaluations")


def _limiter() -> CapacityLimiter:
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(CPUS)
        _LIMITER.set(limiter)
        return limiter


async def evaluate_off_loop(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a worker thread, once one of the CPUs' turns is free."""
    return await to_thread.run_sync(function, *args, limiter=_limiter())
