"""semantics.md §8b vectors over HTTP: the service matches the published numbers and reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from reference.binary_vectors import BINARY_VECTORS, FOCAL_VECTORS
from reference.compare import (
    Evaluate,
    assert_matches_reference,
    assert_published,
    expected_precision,
)
from reference.inprocess import InProcessClient
from reference.numpy_reference import from_request
from reference.tensor import tensor
from reference.vectors import (
    EXTREME,
    L3,
    PUBLISHED_REL,
    V20_BODY,
    V20_CORPUS_PERPLEXITY,
    V20_MEAN_PERPLEXITY,
    V20_SEQUENCE_PERPLEXITY,
    V20_SEQUENCE_WEIGHTS,
    VECTORS,
    Y3,
    L,
    Vector,
    Y,
)


@pytest.mark.parametrize("vector", VECTORS + BINARY_VECTORS + FOCAL_VECTORS, ids=lambda v: v.id)
def test_vector(evaluate: Evaluate, vector: Vector) -> None:
    reference = from_request(vector.endpoint, vector.body)
    precision = expected_precision(vector.body)
    for reduction in vector.reductions:
        response = evaluate(vector.endpoint, {**vector.body, "reduction": reduction})
        assert_matches_reference(response, reference, reduction, precision)
        published = vector.loss.get(reduction)
        if published is not None:  # a published null is already checked against the reference
            assert response["loss"] == pytest.approx(published, rel=vector.rel)
        if vector.losses is not None:
            assert_published(response["losses"], vector.losses, vector.rel)


def test_v20_perplexity(evaluate: Evaluate) -> None:
    per_sequence = [
        math.exp(evaluate("sparse", {**V20_BODY, "sample_weight": weights})["loss"])
        for weights in V20_SEQUENCE_WEIGHTS
    ]
    assert per_sequence == pytest.approx(list(V20_SEQUENCE_PERPLEXITY), rel=PUBLISHED_REL)
    assert sum(per_sequence) / 2 == pytest.approx(V20_MEAN_PERPLEXITY, rel=PUBLISHED_REL)
    corpus = math.exp(evaluate("sparse", V20_BODY)["loss"])
    assert corpus == pytest.approx(V20_CORPUS_PERPLEXITY, rel=PUBLISHED_REL)


def _problem(client: InProcessClient, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/cross-entropy/{endpoint}", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    return problem


def test_v13_probability_above_one_is_rejected(api_client: InProcessClient) -> None:
    # V13's row [2, 1, 1] is Keras-legal but the contract rejects probabilities > 1.
    body = {"probabilities": [[0.5, 0.5, 0.0], [2.0, 1.0, 1.0]], "labels": [2, 0]}
    problem = _problem(api_client, "sparse", body)
    assert problem["code"] == "invalid_probabilities"
    assert problem["errors"][0]["pointer"].startswith("/probabilities/1")


def test_v15_weights_that_do_not_broadcast_are_rejected(api_client: InProcessClient) -> None:
    # Shape [2] on per-example shape [2, 3] fails NumPy's trailing alignment, as in Keras and TF v1.
    problem = _problem(api_client, "sparse", {"logits": L3, "labels": Y3, "sample_weight": [1, 3]})
    assert problem["errors"][0]["pointer"].startswith("/sample_weight")


@pytest.mark.parametrize(
    ("row", "options", "code"),
    [
        ([np.inf, 0.0, 1.0], {}, "non_finite_value"),
        ([np.nan, 0.0, 1.0], {}, "non_finite_value"),
        ([-np.inf, -np.inf, -np.inf], {}, None),
        # torch's +inf: the smoothing term sums every log-probability, including the masked one.
        ([-np.inf, 0.0, 1.0], {"label_smoothing": 0.1}, None),
    ],
    ids=["+inf", "nan", "all--inf", "-inf-smoothed"],
)
def test_v16_rows_without_a_finite_loss_are_rejected(
    api_client: InProcessClient, row: list[float], options: dict[str, Any], code: str | None
) -> None:
    logits = tensor([EXTREME[0], row], "float32")
    problem = _problem(api_client, "sparse", {"logits": logits, "labels": [2, 1], **options})
    if code is not None:  # the contract names no code for a row whose loss is not finite
        assert problem["code"] == code


# numpy's "invalid value" RuntimeWarning would mean NaN was computed for the ignored row, even if masked.
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_v16_ignored_rows_may_be_entirely_masked(evaluate: Evaluate) -> None:
    # Only counted losses must be finite: an ignored row of −inf logits counts for nothing.
    logits = tensor([[-np.inf, -np.inf, -np.inf], *EXTREME], "float32")
    response = evaluate("sparse", {"logits": logits, "labels": [-100, 2, 1], "ignore_index": -100})
    assert response["losses"] == pytest.approx([0.0, 2000.0, 1.313262], rel=PUBLISHED_REL)
    assert response["count"] == 2


@pytest.mark.parametrize(("labels", "position"), [([3, 1, 2, 1], 0), ([0, 1, 2, -1], 3)])
def test_v21_out_of_range_label_quotes_tensorflow(
    api_client: InProcessClient, labels: list[int], position: int
) -> None:
    problem = _problem(api_client, "sparse", {"logits": L, "labels": labels})
    text = f"Received a label value of {labels[position]} which is outside the valid range of [0, 3)."
    assert problem["code"] == "label_out_of_range"
    assert text in problem["detail"] or text in problem["errors"][0]["message"]
    assert problem["errors"][0]["pointer"] == f"/labels/{position}"


def test_default_reduction_is_mean(evaluate: Evaluate) -> None:
    assert evaluate("sparse", {"logits": L, "labels": Y})["loss"] == pytest.approx(
        0.4336761, rel=PUBLISHED_REL
    )
