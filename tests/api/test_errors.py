"""One test per problem code: status, envelope, JSON Pointer, the values involved and the hint."""

from __future__ import annotations

import base64
import struct
from typing import Any

import httpx
import pytest
from reference.inprocess import InProcessClient

SPARSE = "/v1/cross-entropy/sparse"
CATEGORICAL = "/v1/cross-entropy/categorical"
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
ENVELOPE = {"type", "title", "status", "detail", "code", "instance", "request_id", "error_count", "errors"}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= ENVELOPE
    assert body["code"] == code
    assert body["type"] == "/problems/" + code.replace("_", "-")
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    assert 1 <= len(body["errors"]) <= body["error_count"]
    return body


def tensor(fmt: str, values: list[float], shape: list[int], dtype: str) -> dict[str, Any]:
    data = base64.b64encode(struct.pack("<" + fmt * len(values), *values)).decode()
    return {"dtype": dtype, "shape": shape, "data": data}


def test_invalid_json(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, content=b'{"logits": [1, 2,', headers={"content-type": "application/json"}),
        400,
        "invalid_json",
    )
    assert "line 1" in body["detail"]


@pytest.mark.parametrize(
    ("payload", "pointer", "hint"),
    [
        ({"logits": LOGITS, "labels": [0, 1, 2, 1], "from_logits": True}, "/from_logits", "logits"),
        ({"logits": LOGITS, "labels": [0, 1, 2, 1], "weight": [1, 1, 1]}, "/weight", "class_weight"),
        ({"logits": LOGITS, "labels": [0, 1, 2, 1], "reduction": "avg"}, "/reduction", "sum_over_batch_size"),
        ({"logits": LOGITS, "labels": [0, 1, 2, 1], "axis": True}, "/axis", None),
        ({"logits": LOGITS, "labels": [0, 1, 2, 1], "per_example": "yes"}, "/per_example", None),
        ({"logits": LOGITS, "labels": [0, 1, 2, 1], "label_smoothing": 1.5}, "/label_smoothing", None),
        ({"labels": [0, 1, 2, 1]}, "/logits", None),
        ({"logits": LOGITS, "probabilities": LOGITS, "labels": [0, 1, 2, 1]}, "/probabilities", None),
        ({"logits": LOGITS}, "/labels", None),
    ],
)
def test_invalid_field(
    api_client: InProcessClient, payload: dict[str, Any], pointer: str, hint: str | None
) -> None:
    body = problem(api_client.post(SPARSE, json=payload), 422, "invalid_field")
    assert body["errors"][0]["pointer"] == pointer
    if hint:
        assert hint in body["hint"]


def test_ignore_index_on_categorical_is_named(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(
            CATEGORICAL, json={"logits": [[1.0, 2.0]], "labels": [[0.0, 1.0]], "ignore_index": -100}
        ),
        422,
        "invalid_field",
    )
    assert body["errors"][0]["pointer"] == "/ignore_index"
    assert "sample_weight" in body["hint"]


@pytest.mark.parametrize("payload", [[1, 2, 3], "text", 3])
def test_body_that_is_not_an_object(api_client: InProcessClient, payload: Any) -> None:
    body = problem(api_client.post(SPARSE, json=payload), 422, "invalid_field")
    assert body["errors"][0]["pointer"] == ""


def test_booleans_are_not_numbers(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": [[1.0, True]], "labels": [0]}), 422, "invalid_field"
    )
    assert body["errors"][0]["pointer"] == "/logits/0/1"
    assert "true" in body["errors"][0]["message"]


def test_ragged_array(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": [[1.0, 2.0, 3.0], [1.0, 2.0]], "labels": [0, 1]}),
        422,
        "ragged_array",
    )
    assert body["errors"][0]["pointer"] == "/logits/1"
    assert body["errors"][0]["expected"] == 3
    assert body["errors"][0]["received"] == 2


def test_ragged_depth(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": [[1.0, 2.0], 3.0], "labels": [0, 1]}), 422, "ragged_array"
    )
    assert body["errors"][0]["pointer"] == "/logits/1"


def test_shape_mismatch_says_which_reshape_fits(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": [[2.0, 1.0, 0.1, 0.3, 0.0]], "labels": [0, 3, 2, 1, 1]}),
        422,
        "shape_mismatch",
    )
    assert body["errors"][0] | {"pointer": "/labels", "expected": [1], "received": [5]} == body["errors"][0]
    assert "(5,)" in body["detail"]
    assert "(1, 5)" in body["detail"]
    assert "(5, C)" in body["hint"]


def test_one_hot_labels_on_sparse_point_to_categorical(api_client: InProcessClient) -> None:
    one_hot = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
    body = problem(api_client.post(SPARSE, json={"logits": LOGITS, "labels": one_hot}), 422, "shape_mismatch")
    assert "/v1/cross-entropy/categorical" in body["hint"]


def test_torch_layout_hint_names_axis(api_client: InProcessClient) -> None:
    logits = [[[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]]  # (N=1, C=3, T=4)
    body = problem(
        api_client.post(SPARSE, json={"logits": logits, "labels": [[0, 1, 2, 0]]}), 422, "shape_mismatch"
    )
    assert '"axis": 1' in body["hint"]


def test_label_out_of_range_names_value_position_and_range(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": LOGITS, "labels": [0, 3, 2, 1]}), 422, "label_out_of_range"
    )
    assert body["detail"] == "Received a label value of 3 which is outside the valid range of [0, 3)."
    assert body["errors"][0]["pointer"] == "/labels/1"
    assert body["errors"][0]["received"] == 3


def test_negative_labels_suggest_ignore_index(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": LOGITS, "labels": [0, -100, 2, 1]}), 422, "label_out_of_range"
    )
    assert "ignore_index" in body["hint"]


def test_errors_are_capped_with_the_true_count(api_client: InProcessClient) -> None:
    logits = [[0.0, 1.0]] * 50
    body = problem(
        api_client.post(SPARSE, json={"logits": logits, "labels": [7] * 50}), 422, "label_out_of_range"
    )
    assert body["error_count"] == 50
    assert len(body["errors"]) == 20
    assert [e["pointer"] for e in body["errors"][:2]] == ["/labels/0", "/labels/1"]


@pytest.mark.parametrize("labels", [[0, 1.5, 2, 1], [0, 1.0, 2, 1]])
def test_label_not_integer(api_client: InProcessClient, labels: list[float]) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": LOGITS, "labels": labels}), 422, "label_not_integer"
    )
    assert body["errors"][0]["pointer"] == "/labels/1"


def test_float_tensor_labels_are_a_bad_tensor(api_client: InProcessClient) -> None:
    labels = tensor("f", [0, 1, 2, 1], [4], "float32")
    body = problem(api_client.post(SPARSE, json={"logits": LOGITS, "labels": labels}), 422, "bad_tensor")
    assert body["errors"][0]["pointer"] == "/labels/dtype"


@pytest.mark.parametrize(
    ("logits", "labels", "pointer"),
    [
        ("[[1, NaN, 0], [0, 0, 0]]", "[0, 1]", "/logits/0/1"),
        ("[[1, 0, 0], [0, Infinity, 0]]", "[0, 1]", "/logits/1/1"),
        ("[[1, 0, 0], [-Infinity, -Infinity, -Infinity]]", "[0, 1]", "/logits/1/0"),
        ("[[1, 0, 0], [0, -Infinity, 0]]", "[0, 1]", "/logits/1/1"),
    ],
)
def test_non_finite_value(api_client: InProcessClient, logits: str, labels: str, pointer: str) -> None:
    raw = f'{{"logits": {logits}, "labels": {labels}}}'.encode()
    body = problem(
        api_client.post(SPARSE, content=raw, headers={"content-type": "application/json"}),
        422,
        "non_finite_value",
    )
    assert body["errors"][0]["pointer"] == pointer
    assert "logits[" in body["detail"]


def test_non_finite_in_tensor_gives_the_index(api_client: InProcessClient) -> None:
    logits = tensor("f", [1.0, float("nan"), 0.0, 0.0], [2, 2], "float32")
    body = problem(
        api_client.post(SPARSE, json={"logits": logits, "labels": [0, 1]}), 422, "non_finite_value"
    )
    assert body["errors"][0]["pointer"] == "/logits"
    assert body["errors"][0]["index"] == [0, 1]


@pytest.mark.parametrize(
    ("probabilities", "pointer"),
    [
        ([[0.5, -0.1, 0.6]], "/probabilities/0/1"),
        ([[1.5, 0.0, 0.0]], "/probabilities/0/0"),
        ([[0.0, 0.0, 0.0]], "/probabilities/0/0"),
    ],
)
def test_invalid_probabilities(
    api_client: InProcessClient, probabilities: list[list[float]], pointer: str
) -> None:
    body = problem(
        api_client.post(SPARSE, json={"probabilities": probabilities, "labels": [0]}),
        422,
        "invalid_probabilities",
    )
    assert body["errors"][0]["pointer"] == pointer


@pytest.mark.parametrize(
    ("labels", "pointer"),
    [([[0.5, -0.5, 1.0]], "/labels/0/1"), ([[0.5, 0.2, 0.1]], "/labels/0/0")],
)
def test_invalid_labels(api_client: InProcessClient, labels: list[list[float]], pointer: str) -> None:
    body = problem(
        api_client.post(CATEGORICAL, json={"logits": [[1.0, 2.0, 3.0]], "labels": labels}),
        422,
        "invalid_labels",
    )
    assert body["errors"][0]["pointer"] == pointer


@pytest.mark.parametrize(
    ("extra", "pointer", "hint"),
    [
        ({"sample_weight": [1.0, -1.0, 1.0, 1.0]}, "/sample_weight/1", None),
        ({"sample_weight": [1.0, 1.0]}, "/sample_weight", None),
        ({"class_weight": [1.0, 2.0]}, "/class_weight", None),
        ({"class_weight": [1.0, 2.0, -3.0]}, "/class_weight/2", None),
    ],
)
def test_invalid_weight(
    api_client: InProcessClient, extra: dict[str, Any], pointer: str, hint: str | None
) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": LOGITS, "labels": [0, 1, 2, 1], **extra}),
        422,
        "invalid_weight",
    )
    assert body["errors"][0]["pointer"] == pointer


def test_per_sequence_weight_of_wrong_rank_says_n_1(api_client: InProcessClient) -> None:
    logits = [[[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]]  # (2, 3, 2)
    body = problem(
        api_client.post(
            SPARSE, json={"logits": logits, "labels": [[0, 1, 0], [1, 1, 0]], "sample_weight": [1.0, 3.0]}
        ),
        422,
        "invalid_weight",
    )
    assert "(2, 1)" in body["hint"]


@pytest.mark.parametrize(
    ("logits", "pointer"),
    [
        ({"dtype": "float32", "shape": [1, 3], "data": "not base64!"}, "/logits/data"),
        (
            {"dtype": "float32", "shape": [2, 3], "data": base64.b64encode(b"\0" * 12).decode()},
            "/logits/data",
        ),
        ({"dtype": "int32", "shape": [1, 3], "data": base64.b64encode(b"\0" * 12).decode()}, "/logits/dtype"),
        ({"dtype": "complex64", "shape": [1, 3], "data": ""}, "/logits/dtype"),
    ],
)
def test_bad_tensor(api_client: InProcessClient, logits: dict[str, Any], pointer: str) -> None:
    response = api_client.post(SPARSE, json={"logits": logits, "labels": [0]})
    code = "invalid_field" if logits["dtype"] == "complex64" else "bad_tensor"
    body = problem(response, 422, code)
    assert body["errors"][0]["pointer"] == pointer


def test_byte_length_mismatch_states_both_lengths(api_client: InProcessClient) -> None:
    logits = {"dtype": "float32", "shape": [2, 3], "data": base64.b64encode(b"\0" * 12).decode()}
    body = problem(api_client.post(SPARSE, json={"logits": logits, "labels": [0, 1]}), 422, "bad_tensor")
    assert body["errors"][0]["expected"] == 24
    assert body["errors"][0]["received"] == 12


def test_too_large_by_content_length(small_limits_client: InProcessClient) -> None:
    body = problem(
        small_limits_client.post(
            SPARSE, content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"}
        ),
        413,
        "too_large",
    )
    assert body["errors"][0]["expected"] == 4096


def test_too_large_by_element_count(small_limits_client: InProcessClient) -> None:
    body = problem(
        small_limits_client.post(SPARSE, json={"logits": [[0.0] * 200], "labels": [0]}), 413, "too_large"
    )
    assert body["errors"][0]["pointer"] == "/logits"


def test_unsupported_media_type(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(
            SPARSE, content=b"logits=1", headers={"content-type": "application/x-www-form-urlencoded"}
        ),
        415,
        "unsupported_media_type",
    )
    assert "Content-Type" in body["hint"]


def test_not_found(api_client: InProcessClient) -> None:
    body = problem(api_client.get("/v1/cross-entropy/hinge"), 404, "not_found")
    assert body["instance"] == "/v1/cross-entropy/hinge"


def test_method_not_allowed(api_client: InProcessClient) -> None:
    problem(api_client.get(SPARSE), 405, "method_not_allowed")


def test_internal_error_has_only_the_request_id(crashing_client: InProcessClient) -> None:
    body = problem(
        crashing_client.post(SPARSE, json={"logits": LOGITS, "labels": [0, 1, 2, 1]}), 500, "internal_error"
    )
    assert "boom" not in str(body)


def test_client_text_is_never_echoed_at_length(api_client: InProcessClient) -> None:
    key = "k" * 500
    body = problem(
        api_client.post(SPARSE, json={"logits": LOGITS, "labels": [0, 1, 2, 1], key: 1}), 422, "invalid_field"
    )
    for text in (body["detail"], body["instance"], *(str(v) for e in body["errors"] for v in e.values())):
        assert len(text) <= 125


def test_request_id_is_accepted_and_echoed(api_client: InProcessClient) -> None:
    response = api_client.post(
        SPARSE, json={"logits": LOGITS, "labels": [0, 3, 2, 1]}, headers={"x-request-id": "eval-42"}
    )
    assert response.headers["x-request-id"] == "eval-42"
    assert response.json()["request_id"] == "eval-42"


def test_a_tensor_shape_multiplying_past_64_bits_is_too_large(api_client: InProcessClient) -> None:
    # Found by schemathesis: the element count overflowed int64, and orjson cannot write such an int.
    labels = {"dtype": "int32", "shape": [50, 138, 169, 296, 419, 63774667], "data": ""}
    body = problem(api_client.post(SPARSE, json={"logits": LOGITS, "labels": labels}), 413, "too_large")
    assert body["errors"][0]["received"] == str(50 * 138 * 169 * 296 * 419 * 63774667)


def test_a_label_beyond_64_bits_is_named_with_its_position(api_client: InProcessClient) -> None:
    body = problem(
        api_client.post(SPARSE, json={"logits": LOGITS, "labels": [0, 1, 2**70, 1]}),
        422,
        "label_out_of_range",
    )
    assert body["errors"][0]["pointer"] == "/labels/2"
    assert body["errors"][0]["received"] == str(2**70)
