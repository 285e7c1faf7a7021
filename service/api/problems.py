"""RFC 9457 problem responses: one envelope for every non-2xx answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Nothing the client sent is echoed back at more than about this many characters.
ECHO_LIMIT = 120

TITLES: dict[str, tuple[int, str]] = {
    "invalid_json": (400, "Invalid JSON"),
    # A compressed body that does not inflate (corrupt, truncated): the JSON was never reached.
    "invalid_encoding": (400, "Invalid content encoding"),
    "unauthorized": (401, "Unauthorized"),
    "invalid_field": (422, "Invalid field"),
    "ragged_array": (422, "Ragged array"),
    "shape_mismatch": (422, "Shape mismatch"),
    "label_out_of_range": (422, "Label out of range"),
    "label_not_integer": (422, "Label not an integer"),
    "non_finite_value": (422, "Non-finite value"),
    "invalid_probabilities": (422, "Invalid probabilities"),
    "invalid_labels": (422, "Invalid labels"),
    "invalid_weight": (422, "Invalid weight"),
    "bad_tensor": (422, "Bad tensor"),
    "invalid_header": (400, "Invalid header"),
    "too_large": (413, "Request too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "not_ready": (503, "Not ready"),
    "internal_error": (500, "Internal error"),
}


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """Cut client-supplied text to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_type(code: str) -> str:
    return "/problems/" + code.replace("_", "-")


@dataclass
class ProblemError(Exception):
    """Raised anywhere in request handling; rendered as ``application/problem+json``."""

    code: str
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int | None = None
    hint: str | None = None
    headers: dict[str, str] | None = None

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        return TITLES[self.code][0]


def item(code: str, pointer: str, message: str, **extra: Any) -> dict[str, Any]:
    """One entry of a problem's ``errors`` list; ``None`` extras are left out."""
    entry: dict[str, Any] = {"code": code, "pointer": pointer, "message": message}
    entry.update({k: _json_safe(v) for k, v in extra.items() if v is not None})
    return entry


def _json_safe(value: Any) -> Any:
    # A claimed Tensor shape can multiply past 64 bits, which JSON encoders (and readers) do not take.
    return str(value) if isinstance(value, int) and not -(2**63) <= value < 2**63 else value


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def problem_body(problem: ProblemError, request: Request, max_items: int) -> dict[str, Any]:
    """The problem+json members; records the code in the scope for the metrics."""
    status, title = TITLES[problem.code]
    errors = problem.errors[:max_items] or [item(problem.code, "", problem.detail)]
    body: dict[str, Any] = {
        "type": problem_type(problem.code),
        "title": title,
        "status": status,
        "detail": problem.detail,
        "code": problem.code,
        "instance": clip(request.url.path),
        "request_id": request_id_of(request),
        "error_count": problem.error_count or max(len(problem.errors), 1),
        "errors": errors,
    }
    if problem.hint:
        body["hint"] = problem.hint
    # Metrics read the code from the scope instead of parsing the body again.
    request.scope.setdefault("state", {})["problem_code"] = problem.code
    return body


def problem_json_response(body: dict[str, Any], headers: dict[str, str] | None) -> Response:
    return Response(
        orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def render(problem: ProblemError, request: Request, max_items: int) -> Response:
    return problem_json_response(problem_body(problem, request, max_items), problem.headers)
