"""The bytes of a V2 exchange: a JSON header, then (Triton's binary tensor extension) raw tensor bytes.

A request with an ``Inference-Header-Content-Length`` header carries that many bytes of JSON, then each
input marked ``parameters.binary_data_size`` in input order. A response does the same for the outputs
asked for as binary; with none it is plain JSON.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import orjson
from pydantic import ValidationError
from starlette.requests import Request

from .. import fast_json
from ..body import Body
from ..problems import ProblemError, clip, item
from ..request_errors import error_detail, error_item
from .schemas import InferenceRequest

HEADER_LENGTH = "inference-header-content-length"
JSON_MEDIA_TYPE = "application/json"
BINARY_MEDIA_TYPE = "application/octet-stream"


def check_media_type(request: Request) -> None:
    """V2 clients send no Content-Type, or application/octet-stream; JSON is accepted too."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media in (JSON_MEDIA_TYPE, BINARY_MEDIA_TYPE) or media.endswith("+json"):
        return
    raise ProblemError(
        "unsupported_media_type",
        f"Content-Type must be application/json or application/octet-stream, got {media[:60]!r}",
        errors=[
            item(
                "unsupported_media_type",
                "",
                "unsupported media type",
                expected=[JSON_MEDIA_TYPE, BINARY_MEDIA_TYPE],
                received=media[:60],
            )
        ],
    )


class Framed(NamedTuple):
    """The validated JSON header, the bytes after it (empty without the binary extension), and the JSON
    ``data`` of inputs already read into NumPy, by input position (their ``data`` in ``header`` is ``[]``)."""

    header: InferenceRequest
    binary: memoryview
    json_data: dict[int, np.ndarray]


def unframe(body: Body, header_length: str | None, *, max_elements: int) -> Framed:
    view = memoryview(body).toreadonly()  # tensors are views of the body; the core must not write them
    split = len(view) if header_length is None else _header_length(header_length, len(view))
    fast = fast_json.parse_v2_header(view[:split], InferenceRequest, max_elements=max_elements)
    header, json_data = fast if fast is not None else (_header(view[:split]), {})
    return Framed(header, view[split:], json_data)


def _header_length(text: str, body_bytes: int) -> int:
    length = int(text) if text.strip().isdigit() else -1
    if 0 < length <= body_bytes:
        return length
    problem = (
        f"Inference-Header-Content-Length ({length}) is past the end of the body ({body_bytes} bytes)"
        if length > body_bytes
        else f"Inference-Header-Content-Length must be a positive byte count, got {clip(text, 40)!r}"
    )
    raise ProblemError(
        "invalid_header",
        problem,
        errors=[item("invalid_header", "", problem, expected=[1, body_bytes], received=clip(text, 40))],
        hint="the header gives the length of the JSON part; the binary inputs follow it",
    )


def _header(text: memoryview) -> InferenceRequest:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(
            "invalid_json",
            f"The inference request header is not valid JSON: {clip(str(exc), 100)}",
            errors=[item("invalid_json", "", clip(str(exc), 100))],
            hint="with binary inputs, Inference-Header-Content-Length must be the JSON part's length",
        ) from None
    try:
        return InferenceRequest.model_validate(value)
    except ValidationError as exc:
        items = [error_item(e) for e in exc.errors(include_url=False)]
        raise ProblemError("invalid_field", error_detail(items), errors=items) from None


class Output(NamedTuple):
    """One output tensor; ``binary`` sends its bytes after the header instead of JSON ``data``."""

    name: str
    datatype: str
    array: np.ndarray
    binary: bool


class Framing(NamedTuple):
    body: bytes
    media_type: str
    headers: dict[str, str] | None


def frame(header: dict[str, Any], outputs: list[Output]) -> Framing:
    """The response: JSON alone, or JSON then the binary outputs' bytes in output order."""
    described: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for output in outputs:
        entry: dict[str, Any] = {
            "name": output.name,
            "datatype": output.datatype,
            "shape": output.array.shape,
        }
        little = np.ascontiguousarray(output.array, dtype=output.array.dtype.newbyteorder("<"))
        if output.binary:
            chunks.append(little.tobytes())
            entry["parameters"] = {"binary_data_size": little.nbytes}
        else:
            entry["data"] = little.ravel()
        described.append(entry)
    text = orjson.dumps({**header, "outputs": described}, option=orjson.OPT_SERIALIZE_NUMPY)
    if not chunks:
        return Framing(text, JSON_MEDIA_TYPE, None)
    return Framing(b"".join([text, *chunks]), BINARY_MEDIA_TYPE, {HEADER_LENGTH: str(len(text))})
