"""Prometheus metrics of the HTTP layer, and the `/metrics` endpoint that exposes them.

The metrics live in prometheus_client's default registry: one set per process, which is what a
Prometheus scrape of one replica should see (run one server process per container).
"""

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.responses import Response

_HTTP_LABELS = ("method", "route", "status")

REQUESTS = Counter(
    "loss_service_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    _HTTP_LABELS,
)
LATENCY = Histogram(
    "loss_service_http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its response.",
    _HTTP_LABELS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REQUEST_SIZE = Histogram(
    "loss_service_http_request_size_bytes",
    "Request body bytes read, by route template.",
    ("route",),
    # Powers of four from 256 B up to the default 64 MiB body limit.
    buckets=tuple(256 * 4**k for k in range(10)),
)
ELEMENTS = Counter(
    "loss_service_elements_processed",
    "Prediction elements (examples × classes) in successfully computed requests.",
    ("route",),
)
ERRORS = Counter(
    "loss_service_errors",
    "Problem responses, by their `code` and route template.",
    ("code", "route"),
)
IN_FLIGHT = Gauge(
    "loss_service_http_requests_in_flight",
    "HTTP requests being received or answered right now.",
)


async def metrics_endpoint() -> Response:
    """`GET /metrics`: this process's metrics in the Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
