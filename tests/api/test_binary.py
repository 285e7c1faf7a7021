"""POST /v1/cross-entropy/binary and focal modulation on every endpoint, over HTTP (the library vectors
run in test_vectors.py).

Expected values are the libraries' published float64 numbers (reference/binary_vectors.py) and the
independent float64 reference (reference/binary_reference.py); never outputs of the service.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference.binary_vectors import D_X, D_Y
from reference.compare import (
    Evaluate,
    assert_combinable,
    assert_matches_reference,
    expected_precision,
)
from reference.inprocess import InProcessClient
from reference.numpy_reference import REDUCTIONS, from_request
from reference.tensor import tensor

BINARY = "/v1/cross-entropy/binary"


def test_multi_hot_statistics(evaluate: Evaluate) -> None:
    # §D: 2 examples of 3 labels; elementwise, 6 examples of 1 label.
    keras = evaluate("binary", {"logits": D_X, "labels": D_Y})
    assert (keras["shape"], keras["num_classes"], keras["count"], keras["weight_sum"]) == ([2], 3, 2, 2.0)
    torch = evaluate("binary", {"logits": D_X, "labels": D_Y, "axis": None})
    assert (torch["shape"], torch["num_classes"], torch["count"], torch["weight_sum"]) == ([2, 3], 1, 6, 6.0)


def test_rank_one_is_n_examples_of_one_label(evaluate: Evaluate) -> None:
    response = evaluate("binary", {"logits": [0.0, 0.0, 0.0], "labels": [1, 0, 1], "reduction": "sum"})
    assert (response["shape"], response["num_classes"], response["count"]) == ([3], 1, 3)
    assert response["loss"] == pytest.approx(3 * math.log(2.0), rel=1e-15)


def test_ignore_index_masks_labels_and_empty_examples(evaluate: Evaluate) -> None:
    body = {"logits": [[0.0, 9.0], [3.0, 3.0]], "labels": [[1, -1], [-1, -1]], "ignore_index": -1}
    response = evaluate("binary", body)
    assert response["losses"] == [pytest.approx(math.log(2.0), rel=1e-15), 0.0]
    assert (response["count"], response["weight_sum"], response["nonzero_weight_count"]) == (1, 1.0, 1)


def test_trailing_one_is_squeezed_with_a_warning(evaluate: Evaluate) -> None:
    response = evaluate("binary", {"logits": [[0.0], [0.0]], "labels": [1, 0]})
    assert [w["code"] for w in response["warnings"]] == ["labels_squeezed"]
    assert response["loss"] == pytest.approx(math.log(2.0), rel=1e-15)


@pytest.mark.parametrize("endpoint", ["binary", "categorical", "sparse"])
def test_gamma_zero_is_plain_cross_entropy_bit_for_bit(evaluate: Evaluate, endpoint: str) -> None:
    labels: Any = {"binary": D_Y, "categorical": [[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]], "sparse": [2, 0]}[
        endpoint
    ]
    body = {"logits": D_X, "labels": labels, "label_smoothing": 0.1, "class_weight": [1.0, 2.0, 0.5]}
    plain = evaluate(endpoint, body)
    assert evaluate(endpoint, {**body, "focal_gamma": 0.0, "focal_alpha": None}) == plain
    focal = evaluate(endpoint, {**body, "focal_gamma": 2.0})
    assert focal["weight_sum"] == plain["weight_sum"]  # γ and α shape the loss, never the weights
    assert focal["loss"] < plain["loss"]


# --- errors: one per new path ---------------------------------------------------------------------------


def _problem(client: InProcessClient, body: dict[str, Any], code: str, path: str = BINARY) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    return problem


def test_label_outside_unit_interval(api_client: InProcessClient) -> None:
    problem = _problem(api_client, {"logits": D_X, "labels": [[1, 0, 1], [0, 2, 0]]}, "invalid_labels")
    assert problem["errors"][0]["pointer"] == "/labels/1/1"
    assert problem["errors"][0]["received"] == 2.0


def test_negative_label_suggests_ignore_index(api_client: InProcessClient) -> None:
    problem = _problem(api_client, {"logits": D_X, "labels": [[1, -1, 1], [0, 1, -1]]}, "invalid_labels")
    assert problem["errors"][0]["pointer"] == "/labels/0/1"
    assert problem["error_count"] == 2
    assert "ignore_index" in problem["hint"]


def test_probability_outside_unit_interval(api_client: InProcessClient) -> None:
    body = {"probabilities": [[0.5, 1.5]], "labels": [[1, 0]]}
    problem = _problem(api_client, body, "invalid_probabilities")
    assert problem["errors"][0]["pointer"] == "/probabilities/0/1"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_prediction(api_client: InProcessClient, value: float) -> None:
    body = {"logits": tensor([[0.0, 1.0], [value, 0.0]], "float64"), "labels": [[1, 0], [1, 0]]}
    problem = _problem(api_client, body, "non_finite_value")
    assert problem["errors"][0]["pointer"] == "/logits"
    assert problem["errors"][0]["index"] == [1, 0]


def test_loss_overflowing_the_compute_precision(api_client: InProcessClient) -> None:
    # float32: pos_weight 2 × softplus(3.4e38) exceeds float32's range (torch returns inf).
    body = {"logits": tensor([-3.4e38], "float32"), "labels": [1], "pos_weight": [2.0]}
    assert _problem(api_client, body, "non_finite_value")["errors"][0]["index"] == [0]


def test_class_ids_are_sent_to_the_sparse_endpoint(api_client: InProcessClient) -> None:
    problem = _problem(api_client, {"logits": D_X, "labels": [0, 2]}, "shape_mismatch")
    assert "/v1/cross-entropy/sparse" in problem["hint"]


@pytest.mark.parametrize("field", ["pos_weight", "class_weight"])
def test_per_label_weight_of_the_wrong_length(api_client: InProcessClient, field: str) -> None:
    problem = _problem(api_client, {"logits": D_X, "labels": D_Y, field: [1.0, 2.0]}, "invalid_weight")
    assert problem["errors"][0]["pointer"] == f"/{field}"
    assert problem["errors"][0]["expected"] == [3]


def test_negative_pos_weight(api_client: InProcessClient) -> None:
    problem = _problem(api_client, {"logits": D_X, "labels": D_Y, "pos_weight": [1, -1, 1]}, "invalid_weight")
    assert problem["errors"][0]["pointer"] == "/pos_weight/1"


def test_axis_out_of_range_for_rank_one(api_client: InProcessClient) -> None:
    problem = _problem(api_client, {"logits": [0.0, 1.0], "labels": [1, 0], "axis": 1}, "invalid_field")
    assert problem["errors"][0]["pointer"] == "/axis"


@pytest.mark.parametrize("path", [BINARY, "/v1/cross-entropy/sparse", "/v1/cross-entropy/categorical"])
@pytest.mark.parametrize(("field", "value"), [("focal_gamma", -0.5), ("focal_alpha", 1.5)])
def test_focal_options_out_of_range(api_client: InProcessClient, path: str, field: str, value: float) -> None:
    labels: Any = [0, 1] if path.endswith("sparse") else [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    body = {"logits": D_X, "labels": labels, field: value}
    assert _problem(api_client, body, "invalid_field", path)["errors"][0]["pointer"] == f"/{field}"


def test_library_names_get_a_hint(api_client: InProcessClient) -> None:
    problem = _problem(api_client, {"logits": D_X, "labels": D_Y, "weight": [1, 1, 1]}, "invalid_field")
    assert "class_weight" in problem["hint"]


# --- properties against the reference -------------------------------------------------------------------

SIZES = st.integers(1, 4)
VALUES = st.floats(-30.0, 30.0)


@st.composite
def binary_bodies(draw: st.DrawFn) -> dict[str, Any]:
    shape = tuple(draw(st.lists(SIZES, min_size=1, max_size=3)))
    rank = len(shape)
    axis = draw(st.sampled_from([None, -1, *range(-rank, rank)]))
    from_logits = draw(st.booleans())
    elements = VALUES if from_logits else st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))
    predictions = draw(hnp.arrays(np.float64, shape, elements=elements))
    soft = draw(st.booleans())
    labels = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0) if soft else st.sampled_from([0.0, 1.0]))
    )
    body: dict[str, Any] = {"logits" if from_logits else "probabilities": predictions.tolist()}
    if draw(st.booleans()):
        labels = np.where(draw(hnp.arrays(bool, shape)), -1.0, labels)
        body["ignore_index"] = -1
    body["labels"] = labels.tolist()
    body["axis"] = axis
    elementwise = axis is None or rank == 1
    size = shape[-1] if elementwise else shape[axis]
    per_example = shape if elementwise else shape[: axis % rank] + shape[axis % rank + 1 :]
    for field in ("pos_weight", "class_weight"):
        if draw(st.booleans()):
            body[field] = draw(st.lists(st.floats(0.0, 3.0), min_size=size, max_size=size))
    if draw(st.booleans()) and per_example:
        body["sample_weight"] = draw(
            hnp.arrays(np.float64, per_example, elements=st.floats(0.0, 3.0))
        ).tolist()
    body["label_smoothing"] = draw(st.sampled_from([0.0, 0.1]))
    body["focal_gamma"] = draw(st.sampled_from([0.0, 0.5, 2.0]))
    body["focal_alpha"] = draw(st.one_of(st.none(), st.floats(0.0, 1.0)))
    body["precision"] = draw(st.sampled_from([None, "float64", "float32"]))
    body["reduction"] = draw(st.sampled_from(REDUCTIONS))
    return body


@settings(max_examples=60, deadline=None)
@given(body=binary_bodies())
def test_binary_response_equals_reference(evaluate: Evaluate, body: dict[str, Any]) -> None:
    note(repr(body))
    reference = from_request("binary", body)
    assert_matches_reference(evaluate("binary", body), reference, body["reduction"], expected_precision(body))


@settings(max_examples=30, deadline=None)
@given(
    predictions=hnp.arrays(np.float64, st.tuples(SIZES, SIZES), elements=VALUES),
    data=st.data(),
)
def test_axis_null_and_default_axis(evaluate: Evaluate, predictions: np.ndarray, data: st.DataObject) -> None:
    # Unweighted and unmasked: the same mean; `sum` counts C labels per example once each.
    labels = data.draw(hnp.arrays(np.float64, predictions.shape, elements=st.sampled_from([0.0, 1.0])))
    body = {"logits": predictions.tolist(), "labels": labels.tolist()}
    default = {r: evaluate("binary", {**body, "reduction": r}) for r in ("mean", "sum")}
    flat = {r: evaluate("binary", {**body, "axis": None, "reduction": r}) for r in ("mean", "sum")}
    classes = predictions.shape[1]
    assert flat["mean"]["loss"] == pytest.approx(default["mean"]["loss"], rel=1e-12)
    assert flat["sum"]["loss"] == pytest.approx(classes * default["sum"]["loss"], rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(body=binary_bodies(), data=st.data())
def test_gamma_zero_matches_no_focal_exactly(
    evaluate: Evaluate, body: dict[str, Any], data: st.DataObject
) -> None:
    body = {**body, "focal_gamma": 0.0, "focal_alpha": None}
    plain = {k: v for k, v in body.items() if not k.startswith("focal_")}
    assert evaluate("binary", body) == evaluate("binary", plain)


@settings(max_examples=30, deadline=None)
@given(body=binary_bodies(), data=st.data())
def test_split_requests_combine_exactly(
    evaluate: Evaluate, body: dict[str, Any], data: st.DataObject
) -> None:
    predictions = "logits" if "logits" in body else "probabilities"
    rows = len(body["labels"])
    weights = body.get("sample_weight")
    rank = np.ndim(body["labels"])
    # The first axis holds examples unless it is the label axis.
    splittable = body["axis"] is None or rank == 1 or body["axis"] % rank != 0
    if rows < 2 or not splittable or (weights is not None and len(weights) != rows):
        return
    at = data.draw(st.integers(1, rows - 1))
    parts = [
        evaluate(
            "binary",
            {
                **body,
                predictions: body[predictions][part],
                "labels": body["labels"][part],
                **({} if weights is None else {"sample_weight": weights[part]}),
                # Rank 1: the per-label weights run along the last axis, the examples' own.
                **{f: body[f][part] for f in ("pos_weight", "class_weight") if f in body and rank == 1},
            },
        )
        for part in (slice(0, at), slice(at, None))
    ]
    assert_combinable(parts, evaluate("binary", body))
