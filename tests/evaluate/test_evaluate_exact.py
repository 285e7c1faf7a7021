"""The combined answer equals one request over the whole dataset (1e-12 relative) and the float64
reference, for every reduction, in the Tensor and the nested-array forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest
from reference import numpy_reference
from reference.compare import TOLERANCE
from reference.tensor import tensor

from service.evaluate import Dataset, RequestOptions, evaluate

REDUCTIONS = ("mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights", "none")
EXACT = {"rel": 1e-12, "abs": 1e-300}


@dataclass(frozen=True)
class Case:
    """A dataset, the body options both sides send, and how to chunk it."""

    name: str
    endpoint: str
    predictions: np.ndarray
    labels: np.ndarray
    chunk_size: int
    probabilities: bool = False
    sample_weight: np.ndarray | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _cases() -> list[Case]:
    rng = np.random.default_rng(2026)
    tokens = rng.integers(0, 6, size=(23, 9))
    tokens[rng.random((23, 9)) < 0.35] = -100
    tokens[4:8] = -100  # one chunk of 4 is padding only: a zero denominator inside one chunk
    soft = rng.dirichlet(np.ones(4), size=(17,))
    probabilities = rng.dirichlet(np.ones(5), size=(31,))
    return [
        Case(
            "sparse-rank2-class-weights-smoothing",
            "sparse",
            (rng.normal(size=(37, 5)) * 3).astype(np.float32),
            rng.integers(0, 5, size=37).astype(np.int32),
            chunk_size=5,
            sample_weight=np.where(rng.random(37) < 0.2, 0.0, rng.random(37) * 2),
            options={"class_weight": [0.2, 1.0, 3.0, 0.5, 1.5], "label_smoothing": 0.1},
        ),
        Case(
            "sparse-rank3-padding-per-sequence-weights",
            "sparse",
            rng.normal(size=(23, 9, 6)),
            tokens,
            chunk_size=4,
            sample_weight=rng.random((23, 1)) + 0.5,
            options={"ignore_index": -100},
        ),
        Case(
            "sparse-pytorch-layout-axis1",
            "sparse",
            rng.normal(size=(11, 4, 3)),  # (N, C, T)
            rng.integers(0, 4, size=(11, 3)),
            chunk_size=3,
            options={"axis": 1},
        ),
        Case(
            "categorical-soft-targets-broadcast-weights",
            "categorical",
            rng.normal(size=(17, 4)).astype(np.float32),
            soft,
            chunk_size=6,
            sample_weight=np.asarray(0.25),
            options={"label_smoothing": 0.05},
        ),
        Case(
            "sparse-probabilities-clip",
            "sparse",
            np.where(probabilities < 0.02, 0.0, probabilities),
            rng.integers(0, 5, size=31),
            chunk_size=8,
            probabilities=True,
            options={"epsilon": 1e-6},
        ),
    ]


CASES = {case.name: case for case in _cases()}


def _reference(case: Case, precision_dtype: str) -> numpy_reference.Reference:
    """Float64 reference on the values the wire actually carries."""
    predictions = case.predictions.astype(precision_dtype).astype(np.float64)
    options: dict[str, Any] = {
        "axis": case.options.get("axis", -1),
        "from_logits": not case.probabilities,
        "sample_weight": case.sample_weight,
        "class_weight": case.options.get("class_weight"),
        "label_smoothing": case.options.get("label_smoothing", 0.0),
        "epsilon": case.options.get("epsilon", 1e-7),
    }
    if case.endpoint == "sparse":
        return numpy_reference.sparse(
            predictions, case.labels, ignore_index=case.options.get("ignore_index"), **options
        )
    return numpy_reference.categorical(predictions, case.labels, **options)


def _whole_request(url: str, case: Case, reduction: str, tensors: bool) -> dict[str, Any]:
    """One request over everything, encoded by the reference's own Tensor encoder."""

    def encode(array: np.ndarray, dtype: str) -> Any:
        return tensor(array, dtype) if tensors else array.tolist()

    field_name = "probabilities" if case.probabilities else "logits"
    label_dtype = "int64" if case.endpoint == "sparse" else "float64"
    body: dict[str, Any] = {
        field_name: encode(case.predictions, case.predictions.dtype.name),
        "labels": encode(case.labels, label_dtype),
        "reduction": reduction,
        **case.options,
    }
    if case.sample_weight is not None:
        body["sample_weight"] = encode(case.sample_weight, "float64")
    response = httpx.post(f"{url}/v1/cross-entropy/{case.endpoint}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    return payload


def _evaluate(url: str, case: Case, reduction: str, tensors: bool, protocol: str | None = None) -> Any:
    options = RequestOptions(
        reduction=reduction,
        axis=case.options.get("axis"),
        class_weight=tuple(case.options["class_weight"]) if "class_weight" in case.options else None,
        label_smoothing=case.options.get("label_smoothing"),
        ignore_index=case.options.get("ignore_index"),
        epsilon=case.options.get("epsilon"),
    )
    dataset = Dataset(case.predictions, case.labels, case.probabilities, case.sample_weight)
    return evaluate(
        dataset,
        [url],
        options=options,
        chunk_size=case.chunk_size,
        tensors=tensors,
        protocol=protocol,
        concurrency=3,
    )


@pytest.mark.parametrize(
    ("tensors", "protocol"), [(True, "v1"), (True, "v2"), (False, "v1")], ids=["tensor", "v2", "json"]
)
@pytest.mark.parametrize("name", CASES)
def test_combined_equals_one_request_and_the_reference(
    live_url: str, name: str, tensors: bool, protocol: str
) -> None:
    case = CASES[name]
    wire_dtype = case.predictions.dtype.name if tensors else "float64"
    reference = _reference(case, wire_dtype)
    tolerance = TOLERANCE["float32" if wire_dtype == "float32" else "float64"]
    for reduction in REDUCTIONS:
        whole = _whole_request(live_url, case, reduction, tensors)
        result = _evaluate(live_url, case, reduction, tensors, protocol)
        assert result.chunks > 1
        assert result.endpoint == case.endpoint
        assert result.precision == whole["precision"]
        assert result.totals.count == whole["count"] == reference.count
        assert result.totals.nonzero_weight_count == whole["nonzero_weight_count"]
        assert result.totals.weight_sum == pytest.approx(whole["weight_sum"], **EXACT)
        assert result.totals.loss_sum == pytest.approx(whole["loss_sum"], **EXACT)
        assert result.shape == whole["shape"] == reference.shape
        if whole["loss"] is None:
            assert result.loss is None
        else:
            assert result.loss == pytest.approx(whole["loss"], **EXACT)
            assert result.loss == pytest.approx(reference.loss(reduction), **tolerance)
        if reduction == "none":
            assert result.losses is not None
            # V2 returns per-example losses in the compute precision (the statistics are FP64).
            exact = 1e-12 if protocol == "v1" or whole["precision"] == "float64" else 2.0**-24
            np.testing.assert_allclose(result.losses, whole["losses"], rtol=exact, atol=0)
            np.testing.assert_allclose(result.losses, reference.losses, **_allclose(tolerance))
        for other, value in result.reductions.items():
            expected = reference.loss(other)
            assert (value is None) == (expected is None)
            if expected is not None:
                assert value == pytest.approx(expected, **tolerance)


def _allclose(tolerance: dict[str, float]) -> dict[str, float]:
    return {"rtol": tolerance["rel"], "atol": tolerance["abs"]}


def test_a_chunk_that_is_all_padding_warns_nothing_of_its_own(live_url: str) -> None:
    case = CASES["sparse-rank3-padding-per-sequence-weights"]
    result = _evaluate(live_url, case, "mean", tensors=True)
    # Rows 4–7 are one chunk of padding only; the whole dataset still has a denominator.
    assert result.loss is not None
    assert result.warnings == []


def test_an_all_ignored_dataset_gives_null_with_a_warning(live_url: str) -> None:
    logits = np.zeros((6, 3))
    labels = np.full(6, -100)
    result = evaluate(
        Dataset(logits, labels),
        [live_url],
        options=RequestOptions(reduction="mean", ignore_index=-100),
        chunk_size=2,
    )
    assert result.loss is None
    assert result.reductions["sum"] == 0.0
    assert result.totals.count == 0
    codes = [w["code"] for w in result.warnings]
    assert codes.count("zero_denominator") == 1
    assert "empty_batch" in codes


def test_v14_and_v20_published_numbers_one_sequence_per_request(live_url: str) -> None:
    from reference.vectors import L3, V20_CORPUS_PERPLEXITY, Y3_IGNORED

    result = evaluate(
        Dataset(np.asarray(L3), np.asarray(Y3_IGNORED)),
        [live_url],
        options=RequestOptions(ignore_index=-100),
        chunk_size=1,
    )
    assert result.chunks == 2
    assert result.loss == pytest.approx(1.779560, rel=2e-6)  # semantics.md V14, y3[1,2] ignored
    assert np.exp(result.loss) == pytest.approx(V20_CORPUS_PERPLEXITY, rel=2e-6)
