"""Large JSON arrays of numbers, found in a body's text and cut into runs of whole top-level elements.

A JSON parser holds the GIL for the whole document: about 40 ms for a 40 MB body, during which the event
loop answers nothing, not even ``/healthz``. Parsed a run of about a megabyte at a time, the worker thread
comes back to the interpreter every millisecond or so, where a waiting thread can take the GIL over.

Only ``bytes.find`` goes over the bulk of the text (memchr speed). A rank-``r`` array's top-level elements
end where a run of ``r − 1`` closing brackets meets a comma, and an array of numbers holds no quote and no
brace, so a jump that would cross either stops short of them. Nothing found here is trusted: a run that is
not an array of numbers fails to parse, and the caller then takes the whole-document path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .body import Body

WHITESPACE = b" \t\r\n"
# What may stand right before a key's opening quote in JSON text.
KEY_PRECEDERS = b"{," + WHITESPACE
_CLOSING = b"]" + WHITESPACE
_SEPARATORS = b"," + WHITESPACE
_LONGEST_KEY = 32


@dataclass(frozen=True)
class ArraySpan:
    """An array from its ``[`` at ``start`` to its ``]`` at ``end``; ``runs`` are ``(from, to)`` offsets
    of consecutive whole elements (commas between runs excluded) that together make up the array."""

    start: int
    end: int
    runs: list[tuple[int, int]]


def skip_whitespace(body: Body, at: int) -> int:
    while body[at : at + 1] and body[at] in WHITESPACE:
        at += 1
    return at


def find_value(body: Body, quoted_key: bytes, search: int) -> tuple[int, int] | None:
    """``(value offset, offset after the key)`` for the first ``"key":`` at or after ``search`` that stands
    where a key can (after ``{``, ``,`` or whitespace, before a colon), or ``None``."""
    while (at := body.find(quoted_key, search)) >= 0:
        search = at + len(quoted_key)
        if at and body[at - 1] not in KEY_PRECEDERS:
            continue
        colon = skip_whitespace(body, search)
        if body[colon : colon + 1] == b":":
            return skip_whitespace(body, colon + 1), search
    return None


def large_arrays(
    body: Body, names: Iterable[str], *, min_bytes: int, run_bytes: int
) -> dict[str, ArraySpan] | None:
    """The arrays under the keys ``names`` whose text is at least ``min_bytes`` long, cut into runs of
    about ``run_bytes``; ``None`` when the text is not plainly that (escaped strings, a repeated key).

    Walks the body from string to string, which in a body of numbers are only its few keys and values,
    skipping each array under ``names`` whole."""
    wanted = {name.encode() for name in names}
    found: dict[str, ArraySpan] = {}
    at = 0
    while (quote := body.find(b'"', at)) >= 0:
        close = body.find(b'"', quote + 1)
        if close < 0 or body.find(b"\\", quote + 1, close) >= 0:
            return None  # unterminated, or escapes: the parsers decide what the text means
        at = close + 1
        key = bytes(body[quote + 1 : close]) if close - quote <= _LONGEST_KEY else b""
        colon = skip_whitespace(body, at)
        if key not in wanted or body[colon : colon + 1] != b":":
            continue
        value = skip_whitespace(body, colon + 1)
        if body[value : value + 1] != b"[":
            continue
        span, name = _array_span(body, value, run_bytes), key.decode()
        if span is None or name in found:
            return None
        if span.end - span.start >= min_bytes:
            found[name] = span
        at = span.end + 1
    return found


def _array_span(body: Body, start: int, run_bytes: int) -> ArraySpan | None:
    rank, at = 0, start
    while body[at : at + 1] == b"[":
        rank, at = rank + 1, skip_whitespace(body, at + 1)
    if rank == 1:
        return _flat_span(body, start, run_bytes)
    runs: list[tuple[int, int]] = []
    first = scan = start + 1
    while True:
        target = min(first + run_bytes, len(body))
        # An array of numbers holds no quote or brace, so the first one ahead lies beyond its end; the
        # separators right after the target are looked past, lest the array end just before it.
        ahead = target
        while body[ahead : ahead + 1] and body[ahead] in _SEPARATORS:
            ahead += 1
        stops = (body.find(b'"', scan, ahead + 1), body.find(b"}", scan, ahead + 1))
        beyond = [at for at in stops if at >= 0]
        if beyond or ahead >= len(body):
            # The array ends before that: at the last bracket, which must close all its levels.
            end = body.rfind(b"]", scan, min(beyond, default=len(body)))
            if end < 0 or _brackets_closing_at(body, end) != rank:
                return None
            runs.append((first, end))
            return ArraySpan(start, end, runs)
        count, last, scan = 0, target, target
        while count < rank - 1:  # on to the end of the top-level element the jump landed in
            closing = _closing_run(body, scan)
            if closing is None:
                return None
            count, last, scan = closing
        if count == rank:  # the jump landed in the last element
            runs.append((first, last))
            return ArraySpan(start, last, runs)
        if count != rank - 1 or body[scan : scan + 1] != b",":
            return None
        runs.append((first, last + 1))
        first = scan = scan + 1


def _flat_span(body: Body, start: int, run_bytes: int) -> ArraySpan | None:
    """A rank-1 array: it ends at the first ``]``, and any comma separates two elements."""
    end = body.find(b"]", start)
    if end < 0 or body.find(b"[", start + 1, end) >= 0:
        return None
    runs: list[tuple[int, int]] = []
    first = start + 1
    while end - first > run_bytes and (comma := body.find(b",", first + run_bytes, end)) >= 0:
        runs.append((first, comma))
        first = comma + 1
    runs.append((first, end))
    return ArraySpan(start, end, runs)


def _brackets_closing_at(body: Body, end: int) -> int:
    """How many closing brackets the run ending with the one at ``end`` holds."""
    count = 0
    while end >= 0 and body[end] in _CLOSING:
        count += body[end] == 0x5D
        end -= 1
    return count


def _closing_run(body: Body, at: int) -> tuple[int, int, int] | None:
    """The next run of closing brackets from ``at`` (one it may have landed inside counted whole):
    ``(brackets, offset of the last, offset of the first non-space after it)``."""
    bracket = body.find(b"]", at)
    if bracket < 0:
        return None
    while bracket and body[bracket - 1] in _CLOSING:
        bracket -= 1
    count, last = 0, bracket
    while bracket < len(body) and body[bracket] in _CLOSING:
        if body[bracket] == 0x5D:
            count, last = count + 1, bracket
        bracket += 1
    return count, last, bracket
