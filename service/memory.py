"""Memory habits for a server of large requests: keep freed large buffers in the process, and keep the
garbage collector off the objects that live as long as the process.

By default glibc returns big allocations (mmap'd above its threshold) to the kernel when they are freed,
so every large request faults its body, its arrays and its temporaries in again, page by page. Raising the
thresholds keeps those pages for the next request; the cost is that a process holds on to the memory of
its largest request (bounded by the body and element limits).
"""

from __future__ import annotations

import ctypes
import gc
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# glibc's largest allowed mmap threshold on 64-bit systems; anything bigger is refused.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 512 * 1024 * 1024


def retain_freed_memory() -> bool:
    """Tune glibc's malloc; ``False`` where there is no glibc (macOS, musl) and nothing changed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )


def freeze_startup_objects() -> int:
    """Move every object alive after start-up (the app, its routes, schemas, modules) out of the
    collector's reach; returns how many. A full collection otherwise walks them all — ~60 000 objects,
    ~40 ms with the GIL held on this machine — and stalls the event loop that long whenever requests'
    allocations trigger one."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
