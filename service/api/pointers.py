"""JSON Pointers (RFC 6901) into the request body."""

from __future__ import annotations

from collections.abc import Iterable

from .problems import clip


def pointer(*parts: str | int) -> str:
    """``pointer("labels", 3)`` → ``/labels/3``; keys are escaped and client-supplied text is clipped."""
    return clip("".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts))


def element_pointer(field: str, index: Iterable[int] | None, *, nested: bool) -> str:
    """The pointer to one element: into nested arrays it descends, a Tensor stops at the field."""
    if index is None or not nested:
        return pointer(field)
    return pointer(field, *index)
