"""V2 requests built by hand against a live server: the binary extension's framing (offsets, lying
sizes, header lengths), the limits, and the problems (status, ``error``, pointers into the inputs)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest
from reference.tensor import tensor
from v2_support import LOGITS, binary_request

pytestmark = pytest.mark.slow

SPARSE = "/v2/models/sparse_cross_entropy/infer"
LOGITS32 = LOGITS.astype(np.float32)
LABELS = np.array([0, 3, 1, 2, 2, 1], dtype=np.int64)


def v1_loss(http: httpx.Client, **options: Any) -> dict[str, Any]:
    body = {"logits": LOGITS32.tolist(), "labels": LABELS.tolist(), "precision": "float32", **options}
    answer: dict[str, Any] = http.post("/v1/cross-entropy/sparse", json=body).json()
    return answer


def outputs(response: httpx.Response) -> dict[str, Any]:
    """Output name → its values, reading the binary section when there is one."""
    length = int(response.headers.get("inference-header-content-length", len(response.content)))
    header = json.loads(response.content[:length])
    values, offset = {}, length
    for output in header["outputs"]:
        if "data" in output:
            values[output["name"]] = output["data"]
            continue
        size = output["parameters"]["binary_data_size"]
        dtype = {"FP64": "<f8", "FP32": "<f4", "INT64": "<i8"}[output["datatype"]]
        values[output["name"]] = np.frombuffer(response.content[offset : offset + size], dtype).tolist()
        offset += size
    assert offset == len(response.content)
    return values


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["error"] == body["detail"]  # what V2 clients read
    return body


@pytest.mark.parametrize("pad", [0, 1, 3, 6])
def test_tensors_at_any_offset_give_the_same_answer(http: httpx.Client, pad: int) -> None:
    # Labels first: with a pad of 1 or 3 neither the int64 labels nor the float32 logits are aligned.
    body, headers = binary_request(
        [("labels", "INT64", LABELS), ("logits", "FP32", LOGITS32)],
        parameters={"binary_data_output": True},
        pad=pad,
    )
    response = http.post(SPARSE, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    got = outputs(response)
    expected = v1_loss(http)
    assert got["loss"] == [expected["loss"]]
    assert got["losses"] == np.asarray(expected["losses"], np.float32).tolist()


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "application/json"])
def test_the_media_types_v2_clients_send_are_accepted(http: httpx.Client, content_type: str | None) -> None:
    body, headers = binary_request([("logits", "FP32", LOGITS32), ("labels", "INT64", LABELS)])
    if content_type:
        headers["content-type"] = content_type
    response = http.post(SPARSE, content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"  # no binary output asked for


def test_another_media_type_is_415(http: httpx.Client) -> None:
    body, headers = binary_request([("logits", "FP32", LOGITS32), ("labels", "INT64", LABELS)])
    response = http.post(SPARSE, content=body, headers={**headers, "content-type": "text/plain"})
    problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("size", [LOGITS32.nbytes - 4, LOGITS32.nbytes + 4])
def test_a_binary_data_size_that_lies_is_a_bad_tensor(http: httpx.Client, size: int) -> None:
    body, headers = binary_request(
        [("logits", "FP32", LOGITS32), ("labels", "INT64", LABELS)], sizes={"logits": size}
    )
    found = problem(http.post(SPARSE, content=body, headers=headers), 400, "bad_tensor")
    assert found["errors"][0]["pointer"] == "/inputs/0"
    assert found["errors"][0]["expected"] == LOGITS32.nbytes
    assert found["errors"][0]["received"] == size


def test_sizes_past_the_body_or_short_of_it_are_bad_tensors(http: httpx.Client) -> None:
    body, headers = binary_request([("logits", "FP32", LOGITS32), ("labels", "INT64", LABELS)])
    short = problem(http.post(SPARSE, content=body[:-8], headers=headers), 400, "bad_tensor")
    assert "holds only" in short["detail"]
    extra = problem(http.post(SPARSE, content=body + b"\0" * 8, headers=headers), 400, "bad_tensor")
    assert "add up to" in extra["detail"]


@pytest.mark.parametrize("length", ["100000", "-3", "twelve"])
def test_a_header_length_past_the_body_or_malformed_is_400(http: httpx.Client, length: str) -> None:
    body, _ = binary_request([("logits", "FP32", LOGITS32), ("labels", "INT64", LABELS)])
    response = http.post(SPARSE, content=body, headers={"Inference-Header-Content-Length": length})
    assert "Inference-Header-Content-Length" in problem(response, 400, "invalid_header")["detail"]


def test_a_shape_over_the_element_limit_is_413_before_its_bytes_are_read(http: httpx.Client) -> None:
    header = {
        "inputs": [
            {
                "name": "logits",
                "datatype": "FP32",
                "shape": [1 << 20, 1 << 10],
                "parameters": {"binary_data_size": 8},
            },
            {"name": "labels", "datatype": "INT64", "shape": [1], "parameters": {"binary_data_size": 8}},
        ]
    }
    text = json.dumps(header).encode()
    response = http.post(
        SPARSE, content=text + bytes(16), headers={"Inference-Header-Content-Length": str(len(text))}
    )
    assert problem(response, 413, "too_large")["errors"][0]["pointer"] == "/inputs/0"


def test_a_bad_element_is_pointed_at_in_its_input(http: httpx.Client) -> None:
    labels = LABELS.copy()
    labels[4] = 9
    body, headers = binary_request([("logits", "FP32", LOGITS32), ("labels", "INT64", labels)])
    binary = problem(http.post(SPARSE, content=body, headers=headers), 400, "label_out_of_range")
    assert (binary["errors"][0]["pointer"], binary["errors"][0]["index"]) == ("/inputs/1", [4])
    request: dict[str, Any] = {
        "inputs": [
            {"name": "logits", "datatype": "FP64", "shape": [6, 4], "data": LOGITS.tolist()},
            {"name": "labels", "datatype": "INT32", "shape": [6], "data": labels.tolist()},
        ]
    }
    found = problem(http.post(SPARSE, json=request), 400, "label_out_of_range")
    assert found["errors"][0]["pointer"] == "/inputs/1/data/4"
    v1 = http.post("/v1/cross-entropy/sparse", json={"logits": LOGITS.tolist(), "labels": labels.tolist()})
    assert found["detail"] == v1.json()["detail"]


@pytest.mark.parametrize(("nesting", "pointer"), [(True, "/inputs/0/data/2/1"), (False, "/inputs/0/data/9")])
def test_pointers_into_json_data_follow_its_nesting(http: httpx.Client, nesting: bool, pointer: str) -> None:
    probabilities = np.full((6, 4), 0.25)
    probabilities[2, 1] = -0.5
    data = probabilities.tolist() if nesting else probabilities.ravel().tolist()
    request = json_request()
    request["inputs"][0] = {"name": "probabilities", "datatype": "FP64", "shape": [6, 4], "data": data}
    found = problem(http.post(SPARSE, json=request), 400, "invalid_probabilities")
    assert found["errors"][0]["pointer"] == pointer


def json_request(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "inputs": [
            {"name": "logits", "datatype": "FP32", "shape": [6, 4], "data": LOGITS32.ravel().tolist()},
            {"name": "labels", "datatype": "INT64", "shape": [6], "data": LABELS.tolist()},
        ]
    }
    request.update(changes)
    return request


@pytest.mark.parametrize(
    ("path", "status", "code", "pointer"),
    [
        ("/v2/models/no_such_model/infer", 404, "not_found", ""),
        ("/v2/models/sparse_cross_entropy/versions/2/infer", 404, "not_found", ""),
        ("/v2/models/sparse_cross_entropy/versions/1/infer", 200, None, None),
    ],
)
def test_models_and_versions(
    http: httpx.Client, path: str, status: int, code: str | None, pointer: str
) -> None:
    response = http.post(path, json=json_request())
    if code is None:
        assert response.status_code == status
        return
    assert problem(response, status, code)["errors"][0]["pointer"] == pointer
    metadata = http.get(path.removesuffix("/infer"))
    problem(metadata, 404, "not_found")
    problem(http.get(path.replace("/infer", "/ready")), 404, "not_found")


@pytest.mark.parametrize(
    ("changes", "code", "pointer", "text"),
    [
        ({"parameters": {"reduction": "sum", "bogus": 1}}, "invalid_field", "/parameters/bogus", "unknown"),
        ({"parameters": {"label_smoothing": 1.5}}, "invalid_field", "/parameters/label_smoothing", "1"),
        ({"parameters": {"labels": 3}}, "invalid_field", "/parameters/labels", "input"),
        ({"inputs": [json_request()["inputs"][0]]}, "invalid_field", "/inputs", "labels is required"),
        ({"outputs": [{"name": "lossez"}]}, "invalid_field", "/outputs/0/name", "no output"),
    ],
)
def test_invalid_requests_are_400_with_a_pointer(
    http: httpx.Client, changes: dict[str, Any], code: str, pointer: str, text: str
) -> None:
    found = problem(http.post(SPARSE, json=json_request(**changes)), 400, code)
    assert found["errors"][0]["pointer"] == pointer
    assert text in found["errors"][0]["message"] + found["detail"]


def test_an_input_datatype_the_field_does_not_take_is_a_bad_tensor(http: httpx.Client) -> None:
    request = json_request()
    request["inputs"][1] = {"name": "labels", "datatype": "FP32", "shape": [6], "data": [0.0] * 6}
    found = problem(http.post(SPARSE, json=request), 400, "bad_tensor")
    assert found["errors"][0]["pointer"] == "/inputs/1/datatype"
    assert found["errors"][0]["expected"] == ["INT32", "INT64"]


def test_an_unknown_input_and_the_protocol_s_own_parameters(http: httpx.Client) -> None:
    request = json_request()
    request["inputs"].append({"name": "weights", "datatype": "FP32", "shape": [6], "data": [1.0] * 6})
    found = problem(http.post(SPARSE, json=request), 400, "invalid_field")
    assert found["errors"][0]["pointer"] == "/inputs/2/name"
    protocol = json_request(parameters={"binary_data_output": False, "reduction": "sum"})
    answer = http.post(SPARSE, json=protocol)
    assert answer.status_code == 200
    assert outputs(answer)["loss"] == [v1_loss(http, reduction="sum")["loss"]]


def test_v2_health_follows_readiness(http: httpx.Client) -> None:
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").json() == {"ready": True}
    assert http.get("/v2/models/sparse_cross_entropy/ready").json() == {
        "name": "sparse_cross_entropy",
        "ready": True,
    }


def test_bf16_json_data_is_rounded_as_a_bf16_tensor_is(http: httpx.Client) -> None:
    request = json_request()
    request["inputs"][0] = {"name": "logits", "datatype": "BF16", "shape": [6, 4], "data": LOGITS32.tolist()}
    answer = http.post(SPARSE, json=request)
    assert answer.status_code == 200, answer.text
    v1 = http.post(
        "/v1/cross-entropy/sparse",
        json={"logits": tensor(LOGITS32, "bfloat16"), "labels": LABELS.tolist()},
    ).json()
    assert outputs(answer)["loss"] == [v1["loss"]]
