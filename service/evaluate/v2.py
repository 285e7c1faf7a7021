"""The evaluator's V2 transport: a chunk as one binary V2 request (Triton's binary tensor extension, no
base64), and a V2 answer back in /v1's payload form, so the exact combination is the same code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import orjson

from service.api.v2.datatypes import DATATYPE_OF
from service.api.v2.framing import BINARY_MEDIA_TYPE, HEADER_LENGTH
from service.api.v2.outputs import METRIC_PREFIX
from service.evaluate.encoding import EncodingError
from service.families import Family

PROBE_PATH = "/v2"
BINARY_DTYPES = {"FP64": "<f8", "FP32": "<f4", "FP16": "<f2", "INT64": "<i8", "INT32": "<i4"}
# The JSON header is padded with spaces to a multiple of this, and the inputs go widest first: every
# tensor then starts aligned for its dtype, and the service reads it in place.
ALIGNMENT = 8
# Response parameters that are JSON text.
JSON_PARAMETERS = ("warnings", "shape")


def path(family: Family) -> str:
    return f"/v2/models/{family.name}/infer"


def encode(
    family: Family, fields: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any] | float]
) -> tuple[bytes, dict[str, str]]:
    """Every array (and array-valued field, e.g. class_weight) as a binary input; every other field as a
    parameter (lists comma-separated); all outputs binary."""
    inputs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    given = {**{k: v for k, v in fields.items() if k in family.arrays}, **arrays}
    # Widest elements first: each tensor then starts at a multiple of its own itemsize.
    ordered = sorted(
        ((name, np.asarray(value)) for name, value in given.items()), key=lambda e: -e[1].itemsize
    )
    for name, array in ordered:
        datatype = DATATYPE_OF.get(array.dtype.name)
        if datatype is None:
            raise EncodingError(f"{name} has dtype {array.dtype.name}, which V2 requests cannot carry")
        little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        chunks.append(little.tobytes())
        inputs.append(
            {
                "name": name,
                "datatype": datatype,
                "shape": list(array.shape),
                "parameters": {"binary_data_size": little.nbytes},
            }
        )
    parameters: dict[str, Any] = {
        name: ",".join(map(str, value)) if isinstance(value, list | tuple) else value
        for name, value in fields.items()
        if name not in family.arrays
    }
    parameters["binary_data_output"] = True
    header = orjson.dumps({"inputs": inputs, "parameters": parameters})
    header += b" " * (-len(header) % ALIGNMENT)  # so the service can view the tensors without copying
    headers = {HEADER_LENGTH: str(len(header)), "content-type": BINARY_MEDIA_TYPE}
    return b"".join([header, *chunks]), headers


def decode(response: httpx.Response) -> dict[str, Any] | None:
    """A 200 answer as /v1 would have given it (``None`` when it is not a V2 answer)."""
    content = response.content
    try:
        length = int(response.headers.get(HEADER_LENGTH, len(content)))
        header = orjson.loads(content[:length])
        offset = length
        values: dict[str, Any] = {}
        for output in header["outputs"]:
            if "data" in output:
                array = np.asarray(output["data"], dtype=BINARY_DTYPES[output["datatype"]])
            else:
                size = output["parameters"]["binary_data_size"]
                array = np.frombuffer(
                    content[offset : offset + size], dtype=BINARY_DTYPES[output["datatype"]]
                )
                offset += size
            values[output["name"]] = array.reshape(output["shape"])
        parameters = dict(header.get("parameters", {}))
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    for name in JSON_PARAMETERS:
        if name in parameters:
            parameters[name] = orjson.loads(parameters[name])
    return _payload(values, parameters)


def _payload(values: dict[str, np.ndarray], parameters: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = dict(parameters)
    metrics: dict[str, dict[str, Any]] = {}
    for name, array in values.items():
        value: Any = array if name == "losses" or array.shape != (1,) else array.item()
        if name.startswith(METRIC_PREFIX):
            metric, _, statistic = name.removeprefix(METRIC_PREFIX).partition(".")
            metrics.setdefault(metric, {"value": None})[statistic or "value"] = value
        else:
            payload[name] = value
    payload.setdefault("loss", None)
    if metrics:
        payload["metrics"] = metrics
    return payload
