"""``Content-Encoding`` on request bodies: gzip, and deflate in the zlib format (RFC 9110), inflated
step by step as the compressed chunks arrive, so a size cap bites before a bomb has been inflated.

Inflation is ISA-L's (``isal``, zlib's API): 5-7x zlib's speed here, which is what a bomb up to the
cap costs (64 MiB of it: 0.22 s with zlib, 0.03 s with ISA-L)."""

from __future__ import annotations

import re
from typing import cast

from isal import isal_zlib
from starlette.datastructures import Headers

from .problems import ProblemError, clip, item

SUPPORTED = ("gzip", "deflate", "identity")
# x-gzip: RFC 9110 §8.4.1.3 asks recipients to take it as gzip.
_WBITS = {
    "gzip": 16 + isal_zlib.MAX_WBITS,
    "x-gzip": 16 + isal_zlib.MAX_WBITS,
    "deflate": isal_zlib.MAX_WBITS,
}
# The most one call may produce on the event loop (well under a millisecond) before the rest of a
# chunk moves to a worker thread.
STEP_BYTES = 256 * 1024
# The most one call may produce in the worker thread: few calls (each takes the GIL back) in a few
# milliseconds each.
DRAIN_STEP_BYTES = 8 * 1024 * 1024
# isal's stub types its exception class as an instance of Exception.
_ISAL_ERROR = cast(type[Exception], isal_zlib.error)
# "Error -4 Invalid gzip/zlib wrapper found": the reason without ISA-L's code.
_ERROR_CODE = re.compile(r"^Error -?\d+:?\s*")


def content_coding(headers: Headers) -> str | None:
    """The body's coding, ``None`` for identity; 415 before any byte is read for anything else."""
    # Several codings (a list, or the header repeated) mean layered compression: not supported.
    coding = ",".join(headers.getlist("content-encoding")).strip().lower()
    if coding in ("", "identity"):
        return None
    if coding in _WBITS:
        return coding
    supported = ", ".join(SUPPORTED)
    received = clip(coding, 60)
    raise ProblemError(
        "unsupported_media_type",
        f"Content-Encoding {received!r} is not supported; use one of {supported}",
        errors=[
            item(
                "unsupported_media_type",
                "",
                "unsupported content encoding",
                expected=list(SUPPORTED),
                received=received,
            )
        ],
        hint="compress the body with gzip (Content-Encoding: gzip), or send it uncompressed",
        # RFC 9110 §15.5.16: a 415 about the coding says which codings would do.
        headers={"Accept-Encoding": supported},
    )


def _invalid(coding: str, reason: str) -> ProblemError:
    return ProblemError(
        "invalid_encoding",
        f"The request body is not valid {coding} data: {reason}",
        errors=[item("invalid_encoding", "", reason, expected=coding)],
        hint="send the complete compressed body, in the format Content-Encoding names "
        "(deflate: the zlib format, RFC 1950)",
    )


class Inflater:
    """Inflates one body: ``feed`` each compressed chunk, then ``step`` until it returns False (or
    ``drain``), then ``finish``.

    Each step produces at most ``min(most, room + 1)`` bytes, ``room`` being what is left under
    ``cap``: the caller sees the cap crossed by at most one byte, never by a bomb's worth."""

    def __init__(self, coding: str, cap: int) -> None:
        self.coding = coding
        self.cap = cap
        self.size = 0  # bytes inflated so far
        self._parts: list[
            bytes
        ] = []  # joined once at the end: growing one buffer would copy it again and again
        self._stream = isal_zlib.decompressobj(_WBITS[coding])
        self._pending = b""
        self._more = False  # the last step filled its allowance: the stream may hold more output

    def feed(self, data: bytes) -> None:
        self._pending += data
        self._more = bool(self._pending)

    def step(self, most: int = STEP_BYTES) -> bool:
        """Inflate one bounded step; True while input (or output the stream holds back) remains."""
        if not self._more:
            return False
        allowance = max(1, min(most, self.cap - self.size + 1))
        try:
            produced = self._stream.decompress(self._pending, allowance)
        except _ISAL_ERROR as exc:
            reason = _ERROR_CODE.sub("", str(exc))
            raise _invalid(self.coding, reason[:1].lower() + reason[1:]) from None
        self._parts.append(produced)
        self.size += len(produced)
        self._pending = self._stream.unconsumed_tail
        if self._stream.eof and self._stream.unused_data:
            self._next_member(self._stream.unused_data)
        self._more = bool(self._pending) or len(produced) == allowance
        return self._more

    def drain(self) -> None:
        """Step until the input is used up or the output is past the cap. ISA-L lets go of the GIL while
        it inflates, so in a worker thread this leaves the event loop free."""
        while self.step(DRAIN_STEP_BYTES) and self.size <= self.cap:
            pass

    def _next_member(self, rest: bytes) -> None:
        if self.coding == "deflate":  # one zlib stream per body
            raise _invalid(self.coding, f"{len(rest)} bytes follow the end of the stream")
        # A gzip file may be several members, one after another (RFC 1952 §2.2).
        self._stream = isal_zlib.decompressobj(_WBITS[self.coding])
        self._pending = rest

    def finish(self) -> bytes:
        """The inflated body, once the input has ended; 400 if the stream stopped short."""
        if not self._stream.eof:
            raise _invalid(self.coding, "the compressed stream is truncated")
        output = b"".join(self._parts)
        self._parts.clear()
        return output
