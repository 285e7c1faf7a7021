"""Sending chunks concurrently over several service URLs, with bounded retries and backoff."""

from __future__ import annotations

import asyncio
import gzip
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import orjson

from service.evaluate.requests import Chunk

# 503 is what a starting, draining or overloaded replica answers; anything else non-2xx is final.
RETRY_STATUSES = frozenset({503})
REQUIRED_FIELDS = frozenset(
    {"loss_sum", "weight_sum", "count", "nonzero_weight_count", "shape", "num_classes", "precision"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt k waits uniform(0, min(cap, base·2^k))."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_delay))
        return backoff


@dataclass(frozen=True)
class Answer:
    """A chunk's 200 response and how it was obtained."""

    chunk: Chunk
    payload: dict[str, Any]
    url: str
    attempts: int


class ChunkError(Exception):
    """A chunk could not be evaluated; carries what the user needs to find the bad rows."""

    def __init__(
        self,
        chunk: Chunk,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"chunk {chunk.index} ({chunk.rows}) at {url}: {reason}")
        self.chunk = chunk
        self.url = url
        self.reason = reason
        self.status = status
        self.problem = problem


def json_payload(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


@dataclass
class Sender:
    """POSTs chunks to ``<url><path>``; chunk i starts at URL i mod n and moves on when retrying."""

    urls: Sequence[str]
    path: str
    concurrency: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 60.0
    transport: httpx.AsyncBaseTransport | None = None
    request_prefix: str = "evaluate"
    # A 200 answer as a /v1 payload (None: not one); V2 answers are decoded by service.evaluate.v2.
    decode: Callable[[httpx.Response], dict[str, Any] | None] = json_payload
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    api_key: str | None = field(default=None, repr=False)  # sent as a Bearer token; never printed
    compress: bool = False  # gzip each body (Content-Encoding: gzip)

    def headers(self) -> dict[str, str]:
        """The headers every request carries (a chunk adds its framing, and each attempt its id)."""
        headers: dict[str, str] = {}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        if self.compress:
            headers["content-encoding"] = "gzip"
        return headers

    async def send_all(
        self, chunks: Iterable[Chunk], on_answer: Callable[[Answer], None] | None = None
    ) -> list[Answer]:
        """Answers in chunk order; the first failing chunk cancels the rest and is raised."""
        if not self.urls:
            raise ValueError("at least one service URL is needed")
        answers: list[Answer] = []
        pending = iter(chunks)  # shared by the workers, so at most `concurrency` are in flight

        async def worker(client: httpx.AsyncClient) -> None:
            for chunk in pending:
                answer = await self.send(client, chunk)
                answers.append(answer)
                if on_answer is not None:
                    on_answer(answer)

        workers = max(1, self.concurrency)
        # One connection per worker, kept alive between its chunks.
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout, limits=limits) as client:
            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(workers):
                        group.create_task(worker(client))
            except* ChunkError as failures:
                # Several workers may fail at once; report the earliest chunk.
                errors = [e for e in failures.exceptions if isinstance(e, ChunkError)]
                raise min(errors, key=lambda e: e.chunk.index) from None
        return sorted(answers, key=lambda a: a.chunk.index)

    async def send(self, client: httpx.AsyncClient, chunk: Chunk) -> Answer:
        last_reason = "no attempt made"
        url = self.urls[chunk.index % len(self.urls)]
        # Level 1: most of what gzip saves on JSON numbers and base64, at a fraction of the time.
        body = gzip.compress(chunk.body, compresslevel=1) if self.compress else chunk.body
        headers = {**self.headers(), **chunk.headers}
        for attempt in range(self.retry.attempts):
            url = self.urls[(chunk.index + attempt) % len(self.urls)]
            retry_after: float | None = None
            try:
                response = await client.post(
                    url + self.path,
                    content=body,
                    headers={**headers, "x-request-id": f"{self.request_prefix}-{chunk.index}-{attempt}"},
                )
            except httpx.TransportError as exc:
                last_reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.status_code == 200:
                    # The answer keeps the chunk's rows, not its body: memory stays bounded by
                    # the chunks in flight, not the whole dataset's bodies.
                    sent = replace(chunk, body=b"")
                    return Answer(sent, _result(chunk, url, self.decode(response)), url, attempt + 1)
                problem = json_payload(response)
                if response.status_code not in RETRY_STATUSES:
                    raise ChunkError(
                        chunk,
                        url,
                        f"HTTP {response.status_code}",
                        status=response.status_code,
                        problem=problem,
                    )
                last_reason = f"HTTP {response.status_code}"
                retry_after = _retry_after(response)
            if attempt + 1 < self.retry.attempts:
                await self.sleep(self.retry.delay(attempt, retry_after, self.rng))
        reason = f"gave up after {self.retry.attempts} attempts ({last_reason})"
        raise ChunkError(chunk, url, reason)


def _result(chunk: Chunk, url: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """A 200 body with the statistics the combination needs (else this is not the service)."""
    if not isinstance(body, dict) or not body.keys() >= REQUIRED_FIELDS:
        present = body.keys() if isinstance(body, dict) else set()
        missing = ", ".join(sorted(REQUIRED_FIELDS - present))
        raise ChunkError(chunk, url, f"HTTP 200 without {missing}", status=200)
    return body


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: fall back to the backoff
