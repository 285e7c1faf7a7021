"""The request body, read once, within the size limit, as JSON bytes."""

from __future__ import annotations

import mmap
from collections.abc import AsyncIterator, Iterator

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..memory import MMAP_THRESHOLD_BYTES
from .inflate import Inflater, content_coding
from .problems import ProblemError, item

# What a body is read into: bytes-like, with ``find`` and slicing. A mapping for the largest bodies.
Body = bytes | bytearray | mmap.mmap


# Scans go a slice at a time, so no scan holds the GIL for long and none copies the body.
_SCAN_SLICE = 1 << 20


def _slices(body: Body | memoryview, start: int, end: int | None) -> Iterator[np.ndarray]:
    view = memoryview(body)
    stop = len(body) if end is None else end
    for at in range(start, stop, _SCAN_SLICE):
        yield np.frombuffer(view[at : min(at + _SCAN_SLICE, stop)], dtype=np.uint8)


def count_byte(body: Body | memoryview, byte: bytes, start: int = 0, end: int | None = None) -> int:
    """How many times ``byte`` occurs in ``body[start:end]`` (NumPy: ~10x ``bytes.count`` for one byte)."""
    code = byte[0]
    return sum(int(np.count_nonzero(part == code)) for part in _slices(body, start, end))


def count_empty_arrays(body: Body, start: int = 0, end: int | None = None) -> int:
    """How many ``[]`` (whitespace allowed inside) stand in ``body[start:end]``."""
    count, previous = 0, 0  # the last byte before this slice that is not whitespace
    for part in _slices(body, start, end):
        opens = part[:-1] == 0x5B
        if (opens & _is_space(part[1:])).any() or (previous == 0x5B and _is_space(part[:1]).any()):
            part = part[~_is_space(part)]  # rare: only "[ ]" needs the whitespace taken out
            opens = part[:-1] == 0x5B
        if part.size:
            count += int(previous == 0x5B and part[0] == 0x5D)
            count += int(np.count_nonzero(opens & (part[1:] == 0x5D)))
            solid = part[~_is_space(part[-64:])] if _is_space(part[-1:]).any() else part[-1:]
            previous = int(solid[-1]) if solid.size else previous
    return count


def _is_space(part: np.ndarray) -> np.ndarray:
    space: np.ndarray = (part == 0x20) | (part == 0x0A) | (part == 0x0D) | (part == 0x09)
    return space


def _too_large(size: int | str, limit: int, what: str = "request body") -> ProblemError:
    return ProblemError(
        "too_large",
        f"The {what} ({size} bytes) exceeds the limit of {limit} bytes",
        errors=[item("too_large", "", f"{what} too large", expected=limit, received=size)],
        hint="send Tensors (base64) instead of nested JSON arrays, or split the batch and combine "
        "loss_sum, weight_sum and count",
        headers={"Connection": "close"},
    )


def check_media_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return  # a bare body is taken as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ProblemError(
            "unsupported_media_type",
            f"Content-Type must be application/json, got {media[:60]!r}",
            errors=[
                item(
                    "unsupported_media_type",
                    "",
                    "unsupported media type",
                    expected="application/json",
                    received=media[:60],
                )
            ],
            hint="curl: add -H 'Content-Type: application/json' (plain -d sends form data)",
        )


async def read_body(request: Request, limit: int, inflated_limit: int | None = None) -> Body:
    """The whole body, inflated if it is compressed; 413 as soon as the declared or the streamed size
    passes ``limit``, or the inflated size passes ``inflated_limit`` (default: ``limit``).

    With a declared length the chunks are copied into one buffer as they arrive, so the body is held once
    rather than once as chunks and again joined. A body too large for malloc to keep gets an anonymous
    mapping of its own: malloc would map fresh pages too, and zero them all at once on the event loop
    (20-40 ms for 40 MB here); a mapping's pages fault in chunk by chunk as the copies land instead."""
    coding = content_coding(request.headers)  # 415 before reading anything
    declared = request.headers.get("content-length")
    length = int(declared) if declared is not None and declared.isdigit() else None
    if length is not None and length > limit:
        raise _too_large(length, limit)
    if coding is not None:
        return await _inflate(
            _capped(request, limit), coding, limit if inflated_limit is None else inflated_limit
        )
    if length is None:  # chunked transfer encoding: no size known up front
        return b"".join([chunk async for chunk in _capped(request, limit)])
    body = mmap.mmap(-1, length) if length >= MMAP_THRESHOLD_BYTES else bytearray(length)
    size = 0
    async for chunk in request.stream():
        end = size + len(chunk)
        if end > length:  # the server enforces the declared framing; never write past the buffer
            raise _too_large(f"more than the declared {length}", limit)
        body[size:end] = chunk
        size = end
    return body if size == length else body[:size]


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; 413 as soon as their total passes ``limit``."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit}", limit)
        yield chunk


async def _inflate(chunks: AsyncIterator[bytes], coding: str, limit: int) -> bytes:
    """Inflate chunk by chunk in bounded steps: a bomb is refused once ``limit`` is crossed, having
    inflated no more than that. A chunk's first step runs here; one that inflates to more (a large or
    a bomb's chunk) goes on in a worker thread, so the event loop keeps answering meanwhile."""
    inflater = Inflater(coding, limit)
    async for chunk in chunks:
        inflater.feed(chunk)
        if inflater.step() and inflater.size <= limit:
            await run_in_threadpool(inflater.drain)
        if inflater.size > limit:
            raise _too_large(f"more than {limit}", limit, "inflated request body")
    return inflater.finish()
