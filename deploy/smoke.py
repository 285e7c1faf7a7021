"""Smoke test of a running deployment over HTTP (standard library only, so it runs anywhere).

    python3 deploy/smoke.py http://127.0.0.1:8080 [--body-limit BYTES] [--min-instances N]

Checks published numbers (semantics.md §8b V01/V02), problem+json envelopes (404, 422, 413 both
for a declared Content-Length and for a streamed body), request-id echo, /metrics and /v1/info,
and that the server is still healthy afterwards. With --min-instances, that /v1/info was answered
by at least that many replicas. With --steady SECONDS it only sends V01 requests, one after the
other, for that long, and requires every one to succeed (e.g. while a replica is being stopped).
Exits 1 on the first failed check.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import sys
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

# V01: float32-rounded logits, as the libraries saw them; published per-example losses.
V01_LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
V01_LABELS = [0, 1, 2, 1]
V01_LOSSES = [0.4170300, 0.1531782, 0.06588390, 1.098612]
V02_MEAN = 0.4336761
# Published to 7 significant digits.
REL = 2e-6
SPARSE = "/v1/cross-entropy/sparse"
CATEGORICAL = "/v1/cross-entropy/categorical"


class Failed(Exception):
    pass


# 1000 characters no log line may carry more than 120 of.
LOGGED_RUN = "Z" * 1000


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)
    print(f"ok  {what}")


def close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=REL)


class Client:
    """Every request carries `X-Request-ID: <request_id>-<n>`, so its log lines can be found."""

    def __init__(self, base_url: str, request_id: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.request_id = request_id
        self.sent = 0

    def next_id(self) -> str:
        self.sent += 1
        return f"{self.request_id}-{self.sent}"

    def connection(self, method: str, path: str) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        conn.putrequest(method, path)
        conn.putheader("X-Request-ID", self.next_id())
        return conn

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.connection(method, path)
        try:
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            return read(conn)
        finally:
            conn.close()

    def post(self, path: str, payload: Any) -> tuple[int, dict[str, str], Any]:
        body = json.dumps(payload).encode()
        status, headers, raw = self.request("POST", path, body, {"Content-Type": "application/json"})
        return status, headers, json.loads(raw)

    def declared_too_large(self, path: str, length: int) -> tuple[int, dict[str, str], bytes]:
        """Headers announcing `length` bytes, and not one byte of body."""
        conn = self.connection("POST", path)
        try:
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(length))
            conn.endheaders()
            return read(conn)
        finally:
            conn.close()

    def streamed(self, path: str, chunks: Iterable[bytes]) -> tuple[int, dict[str, str], bytes]:
        """A chunked body (no Content-Length); the server may answer before it has all of it."""
        conn = self.connection("POST", path)
        try:
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            try:
                for chunk in chunks:
                    conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered and closed early: the answer is still there to read
            return read(conn)
        finally:
            conn.close()


def read(conn: http.client.HTTPConnection) -> tuple[int, dict[str, str], bytes]:
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def check_problem(status: int, headers: dict[str, str], body: bytes, code: str, what: str) -> None:
    problem = json.loads(body)
    check(
        headers.get("content-type", "").startswith("application/problem+json")
        and problem.get("status") == status
        and problem.get("code") == code
        and problem.get("type") == "/problems/" + code.replace("_", "-"),
        f"{what}: {status} problem+json, code {code}",
    )


def wait_ready(client: Client, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if client.request("GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise Failed(f"/readyz did not answer 200 within {seconds} s")
        time.sleep(0.5)


def check_answers(client: Client) -> None:
    body = {"logits": V01_LOGITS, "labels": V01_LABELS, "reduction": "none"}
    status, headers, result = client.post(SPARSE, body)
    check(status == 200 and all(map(close, result["losses"], V01_LOSSES)), "V01 sparse losses")
    check(headers.get("x-request-id") == f"{client.request_id}-{client.sent}", "X-Request-ID echoed")

    one_hot = [[float(c == y) for c in range(3)] for y in V01_LABELS]
    status, _, result = client.post(CATEGORICAL, {**body, "labels": one_hot})
    check(status == 200 and all(map(close, result["losses"], V01_LOSSES)), "V01 categorical losses")

    # Two shards combine into the answer for all four rows (deploy/README.md, "Scaling out").
    shards = [
        client.post(SPARSE, {"logits": V01_LOGITS[i : i + 2], "labels": V01_LABELS[i : i + 2]})[2]
        for i in (0, 2)
    ]
    mean = math.fsum(s["loss_sum"] for s in shards) / math.fsum(s["weight_sum"] for s in shards)
    check(close(mean, V02_MEAN), "two shards combine to the V02 mean")


def check_errors(client: Client, body_limit: int) -> None:
    status, headers, raw = client.request(
        "POST",
        SPARSE,
        json.dumps({"logits": V01_LOGITS, "labels": [0, 1, 3, 1]}).encode(),
        {"Content-Type": "application/json"},
    )
    check_problem(status, headers, raw, "label_out_of_range", "label 3 of 3 classes")
    problem = json.loads(raw)
    check(
        problem["detail"] == "Received a label value of 3 which is outside the valid range of [0, 3).",
        "out-of-range text like TF's",
    )
    check_problem(*client.request("GET", "/no/such/path"), "not_found", "unknown path")
    # Long client text (scripts/docker-test.sh then finds no run of it in any log): a 404 like any other.
    long_path = "/v1/" + LOGGED_RUN * 4 + "?q=" + LOGGED_RUN * 2
    headers = {"User-Agent": LOGGED_RUN, "Referer": LOGGED_RUN}
    check_problem(*client.request("GET", long_path, None, headers), "not_found", "long path and headers")
    check_problem(*client.declared_too_large(SPARSE, body_limit + 1), "too_large", "declared Content-Length")
    chunk = b" " * (1 << 20)
    chunks = (chunk for _ in range(body_limit // len(chunk) + 2))
    check_problem(*client.streamed(SPARSE, chunks), "too_large", "streamed body over the limit")


def check_docs(client: Client) -> None:
    """/docs and /redoc load their scripts from the package, not a CDN (they must work offline)."""
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        status, _, html = client.request("GET", page)
        local = f'src="/docs-assets/{asset}"'.encode() in html
        check(status == 200 and local, f"{page} names a local {asset}")
        status, _, script = client.request("GET", f"/docs-assets/{asset}")
        check(status == 200 and len(script) > 100_000, f"{asset} served from the installed package")


def check_steady(client: Client, seconds: float, most: int = 100_000) -> None:
    body = {"logits": V01_LOGITS, "labels": V01_LABELS, "per_example": False}
    deadline, sent = time.monotonic() + seconds, 0
    failed: list[int | str] = []
    while time.monotonic() < deadline and sent < most:
        sent += 1
        try:
            status, _, result = client.post(SPARSE, body)
            if status != 200 or not close(result["loss"], V02_MEAN):
                failed.append(status)
        except OSError as error:
            failed.append(type(error).__name__)
    check(not failed, f"{sent} requests in {seconds} s, failed: {failed[:5]}")


def check_instances(client: Client, minimum: int, attempts: int) -> None:
    seen = {json.loads(client.request("GET", "/v1/info")[2])["instance"] for _ in range(attempts)}
    check(len(seen) >= minimum, f"/v1/info answered by {len(seen)} instances (≥ {minimum})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--body-limit", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--min-instances", type=int, default=1)
    parser.add_argument("--request-id", default="smoke", help="prefix of the X-Request-IDs sent")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for /readyz")
    parser.add_argument("--steady", type=float, metavar="SECONDS", help="only a steady stream of V01")
    args = parser.parse_args(argv)
    client = Client(args.base_url, args.request_id)
    try:
        wait_ready(client, args.wait)
        if args.steady is not None:
            check_steady(client, args.steady)
            return 0
        check_answers(client)
        check_errors(client, args.body_limit)
        status, _, metrics = client.request("GET", "/metrics")
        check(status == 200 and b"loss_service_http_requests_total" in metrics, "/metrics")
        check_docs(client)
        check(client.request("GET", "/healthz")[0] == 200, "still healthy after the errors")
        check_answers(client)
        check_instances(client, args.min_instances, attempts=10 * args.min_instances)
    except (Failed, OSError, ValueError, KeyError) as error:
        print(f"FAILED  {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
