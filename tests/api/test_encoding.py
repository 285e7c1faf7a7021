"""Compressed request bodies: gzip and deflate (zlib) inflate, a bomb stops at the cap, anything else is
a problem naming what would do."""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import orjson
import pytest
from reference.inprocess import InProcessClient
from test_errors import problem

from service.api.inflate import STEP_BYTES, Inflater

SPARSE = "/v1/cross-entropy/sparse"
PAYLOAD = {"logits": [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0]], "labels": [0, 1, 2]}
BODY = orjson.dumps(PAYLOAD)
# semantics.md V01: the per-example losses of PAYLOAD.
LOSSES = [0.41703001627783354, 0.15317820712228827, 0.06588390375742911]
# Padding JSON ignores: 3 MB of spaces compress to about 3 KB.
BOMB = gzip.compress(BODY[:-1] + b" " * 3_000_000 + b"}")
CAP = 8192

AppWith = Callable[..., AbstractContextManager[InProcessClient]]


@pytest.fixture
def client(app_with: AppWith) -> Iterator[InProcessClient]:
    """4 KiB of compressed body, 8 KiB once inflated."""
    with app_with(max_body_bytes=4096, max_decompressed_bytes=CAP) as client:
        yield client


def post(client: InProcessClient, content: bytes | AsyncIterator[bytes], encoding: str) -> httpx.Response:
    headers = {"content-type": "application/json", "content-encoding": encoding}
    return client.post(SPARSE, content=content, headers=headers)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # RFC 9110: deflate is the zlib format
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("identity", bytes),
    ],
)
def test_a_compressed_body_is_inflated(
    client: InProcessClient, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    response = post(client, compress(BODY), encoding)
    assert response.status_code == 200, response.text
    assert response.json()["losses"] == pytest.approx(LOSSES, rel=1e-12)


def test_a_gzip_body_streamed_in_pieces_over_several_members(client: InProcessClient) -> None:
    # Two gzip members back to back are one gzip body (RFC 1952); sent 50 bytes at a time, unsized.
    half = len(BODY) // 2
    body = gzip.compress(BODY[:half]) + gzip.compress(BODY[half:])

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 50):
            yield body[start : start + 50]

    response = post(client, pieces(), "gzip")
    assert response.status_code == 200, response.text
    assert response.json()["losses"] == pytest.approx(LOSSES, rel=1e-12)


def test_two_gzip_members_inflate_whatever_the_chunk_boundaries() -> None:
    body = gzip.compress(b"hello ") + gzip.compress(b"world")
    for split in range(len(body) + 1):
        inflater = Inflater("gzip", CAP)
        for piece in (body[:split], body[split:]):
            inflater.feed(piece)
            inflater.drain()
        assert inflater.finish() == b"hello world", split


def test_a_gzip_bomb_is_refused_at_the_cap(client: InProcessClient) -> None:
    assert len(BOMB) < 4096  # within the body limit: only the inflated size is too large
    body = problem(
        post(client, BOMB, "gzip"),
        413,
        "too_large",
    )
    assert (
        body["detail"]
        == f"The inflated request body (more than {CAP} bytes) exceeds the limit of {CAP} bytes"
    )
    assert body["errors"][0]["expected"] == CAP


@pytest.mark.parametrize("cap", [CAP, 3 * STEP_BYTES + 5])
def test_the_inflater_stops_one_byte_past_the_cap(cap: int) -> None:
    inflater = Inflater("gzip", cap)
    inflater.feed(BOMB)
    inflater.drain()
    # Each step asks zlib for at most room + 1 bytes: the 3 MB were never inflated.
    assert inflater.size == cap + 1


def test_a_large_body_inflates_in_bounded_steps() -> None:
    # 3.5 steps' worth of zeros, fed at once: each step stops at STEP_BYTES.
    size = 3 * STEP_BYTES + STEP_BYTES // 2
    inflater = Inflater("deflate", 4 * STEP_BYTES)
    inflater.feed(zlib.compress(bytes(size)))
    sizes = []
    while True:
        before = inflater.size
        more = inflater.step()
        sizes.append(inflater.size - before)
        if not more:
            break
    assert sizes[:3] == [STEP_BYTES] * 3
    assert sum(sizes) == size
    assert inflater.finish() == bytes(size)


def test_the_inflated_limit_defaults_to_the_body_limit(app_with: AppWith) -> None:
    padded = gzip.compress(BODY[:-1] + b" " * 5000 + b"}")
    with app_with(max_body_bytes=4096) as client:
        body = problem(
            post(client, padded, "gzip"),
            413,
            "too_large",
        )
    assert body["errors"][0]["expected"] == 4096


def test_a_compressed_body_over_the_body_limit_is_refused_before_inflating(client: InProcessClient) -> None:
    noise = random.Random(0).randbytes(5000)  # incompressible: over 5 KB compressed
    body = problem(
        post(client, gzip.compress(noise), "gzip"),
        413,
        "too_large",
    )
    assert body["errors"][0]["expected"] == 4096
    assert body["detail"].startswith("The request body (")


def test_a_streamed_compressed_body_is_refused_once_past_the_body_limit(client: InProcessClient) -> None:
    noise = gzip.compress(random.Random(1).randbytes(20_000))
    sent: list[int] = []

    async def pieces() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(noise), 1000):
            sent.append(start)
            yield noise[start : start + 1000]

    body = problem(post(client, pieces(), "gzip"), 413, "too_large")
    assert body["detail"] == "The request body (more than 4096 bytes) exceeds the limit of 4096 bytes"
    assert len(sent) == 5  # the fifth thousand crossed the limit: nothing more was read


@pytest.mark.parametrize(
    ("encoding", "content", "reason"),
    [
        ("gzip", gzip.compress(BODY)[:-10], "the compressed stream is truncated"),
        ("gzip", b"", "the compressed stream is truncated"),
        ("gzip", b"not gzip at all", "invalid gzip/zlib wrapper found"),
        # Raw deflate without the zlib header, as some clients wrongly send it.
        ("deflate", zlib.compress(BODY)[2:-4], "gzip/zlib wrapper specifies unsupported compress method"),
        ("deflate", zlib.compress(BODY) + b"junk", "4 bytes follow the end of the stream"),
    ],
    ids=["truncated", "empty", "not-gzip", "raw-deflate", "trailing-junk"],
)
def test_a_broken_stream_is_a_400(
    client: InProcessClient, encoding: str, content: bytes, reason: str
) -> None:
    body = problem(
        post(client, content, encoding),
        400,
        "invalid_encoding",
    )
    assert body["detail"].endswith(reason)
    assert body["errors"][0]["expected"] == encoding


@pytest.mark.parametrize("encoding", ["br", "compress", "zstd", "gzip, deflate", "gzip, gzip"])
def test_an_unsupported_encoding_is_a_415_naming_the_supported_ones(
    client: InProcessClient, encoding: str
) -> None:
    response = post(client, BODY, encoding)
    body = problem(response, 415, "unsupported_media_type")
    assert body["errors"][0]["expected"] == ["gzip", "deflate", "identity"]
    assert body["errors"][0]["received"] == encoding
    assert response.headers["accept-encoding"] == "gzip, deflate, identity"
