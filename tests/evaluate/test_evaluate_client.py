"""Retries, URL spreading and the 4xx stop, on httpx.MockTransport (no network, no sleeping)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx
import orjson
import pytest

from service.evaluate.client import ChunkError, RetryPolicy, Sender
from service.evaluate.requests import Chunk

PROBLEM = {
    "type": "/problems/label-out-of-range",
    "title": "Label out of range",
    "status": 422,
    "detail": "Received a label value of 3 which is outside the valid range of [0, 3).",
    "code": "label_out_of_range",
    "error_count": 1,
    "errors": [{"code": "label_out_of_range", "pointer": "/labels/1", "message": "3 ∉ [0, 3)"}],
}


def _statistics(rows: int) -> dict[str, object]:
    return {
        "loss_sum": float(rows),
        "weight_sum": float(rows),
        "count": rows,
        "nonzero_weight_count": rows,
        "shape": [rows],
        "num_classes": 3,
        "precision": "float64",
    }


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=_statistics(orjson.loads(request.content)["rows"]))


def _chunks(n: int) -> list[Chunk]:
    return [Chunk(i, 10 * i, 10 * i + 10, orjson.dumps({"rows": 10})) for i in range(n)]


def _sender(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    urls: tuple[str, ...] = ("http://a",),
    retry: RetryPolicy | None = None,
    concurrency: int = 4,
) -> tuple[Sender, list[float]]:
    """A Sender whose backoff sleeps are recorded instead of slept."""
    delays: list[float] = []

    async def no_sleep(seconds: float) -> None:
        delays.append(seconds)

    sender = Sender(
        urls=urls,
        path="/v1/cross-entropy/sparse",
        concurrency=concurrency,
        retry=retry or RetryPolicy(),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
        rng=random.Random(0),
    )
    return sender, delays


def test_503_and_connection_errors_are_retried_with_growing_jittered_backoff() -> None:
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(calls) < 4:
            return httpx.Response(503, json={"status": 503, "title": "Not ready"})
        return _ok(request)

    policy = RetryPolicy(attempts=5, base_delay=0.1, max_delay=1.0)
    sender, delays = _sender(flaky, retry=policy)
    (answer,) = asyncio.run(sender.send_all(_chunks(1)))
    assert answer.attempts == 4
    assert answer.payload == _statistics(10)
    assert len(delays) == 3
    # Full jitter: attempt k waits within [0, min(cap, base·2^k)].
    for attempt, delay in enumerate(delays):
        assert 0.0 <= delay <= min(1.0, 0.1 * 2**attempt)


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    responses = iter([httpx.Response(503, headers={"retry-after": "3"})])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(responses, None) or _ok(request)

    sender, delays = _sender(handler, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=2.0))
    asyncio.run(sender.send_all(_chunks(1)))
    assert delays == [2.0]


def test_a_4xx_is_never_retried_and_carries_the_problem() -> None:
    calls = 0

    def reject(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(422, json=PROBLEM, headers={"content-type": "application/problem+json"})

    sender, delays = _sender(reject, retry=RetryPolicy(attempts=5))
    with pytest.raises(ChunkError) as caught:
        asyncio.run(sender.send_all(_chunks(1)))
    assert calls == 1
    assert delays == []
    assert caught.value.status == 422
    assert caught.value.problem == PROBLEM
    assert "chunk 0 (rows 0–9)" in str(caught.value)


def test_bounded_attempts_then_give_up() -> None:
    sender, delays = _sender(lambda r: httpx.Response(503), retry=RetryPolicy(attempts=3))
    with pytest.raises(ChunkError, match="gave up after 3 attempts") as caught:
        asyncio.run(sender.send_all(_chunks(1)))
    assert caught.value.status is None
    assert len(delays) == 2


def test_chunks_are_spread_over_the_urls_and_retries_move_on() -> None:
    hosts: list[tuple[int, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append((int(request.headers["x-request-id"].split("-")[-2]), request.url.host))
        if request.url.host == "b":
            raise httpx.ConnectError("down", request=request)
        return _ok(request)

    sender, _ = _sender(handler, urls=("http://a", "http://b", "http://c"), concurrency=2)
    answers = asyncio.run(sender.send_all(_chunks(6)))
    assert [a.chunk.index for a in answers] == list(range(6))
    assert {a.url for a in answers} == {"http://a", "http://c"}
    # Chunks 1 and 4 start at b (i mod 3 == 1) and are retried at c.
    assert sorted(hosts) == sorted(
        [(0, "a"), (1, "b"), (1, "c"), (2, "c"), (3, "a"), (4, "b"), (4, "c"), (5, "c")]
    )


def test_in_flight_requests_are_bounded() -> None:
    in_flight = peak = 0

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)
            in_flight -= 1
            return _ok(request)

    sender = Sender(urls=["http://a"], path="/p", concurrency=3, transport=Slow())
    answers = asyncio.run(sender.send_all(_chunks(10)))
    assert len(answers) == 10
    assert peak == 3


def test_the_earliest_failing_chunk_is_reported_and_the_rest_stop() -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        index = int(request.headers["x-request-id"].split("-")[-2])
        seen.append(index)
        return httpx.Response(422, json=PROBLEM) if index >= 2 else _ok(request)

    sender, _ = _sender(handler, concurrency=1)
    with pytest.raises(ChunkError) as caught:
        asyncio.run(sender.send_all(_chunks(8)))
    assert caught.value.chunk.index == 2
    assert seen == [0, 1, 2]  # nothing is sent after the failure


def test_a_200_that_is_not_a_loss_result_stops_the_evaluation() -> None:
    sender, delays = _sender(lambda r: httpx.Response(200, json={"loss": 1.0}))
    with pytest.raises(ChunkError, match="HTTP 200 without count, loss_sum") as caught:
        asyncio.run(sender.send_all(_chunks(1)))
    assert caught.value.status == 200
    assert delays == []


def test_answers_keep_the_rows_not_the_sent_bodies() -> None:
    # Bodies are dropped once answered, so a long evaluation holds only the chunks in flight.
    sender, _ = _sender(_ok)
    answers = asyncio.run(sender.send_all(iter(_chunks(3))))
    assert [(a.chunk.index, a.chunk.start, a.chunk.stop, a.chunk.body) for a in answers] == [
        (0, 0, 10, b""),
        (1, 10, 20, b""),
        (2, 20, 30, b""),
    ]
