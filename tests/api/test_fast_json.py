"""The simdjson fast path and the general (Pydantic) path give the same answer to every body."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.inprocess import InProcessClient

from service.api import evaluation, fast_json
from service.api.problems import ProblemError
from service.config import Settings
from service.families import CATEGORICAL, SPARSE

SETTINGS = Settings()
sparse = functools.partial(evaluation.evaluate, SPARSE)
categorical = functools.partial(evaluation.evaluate, CATEGORICAL)
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]]


def answer(
    evaluate: Callable[[bytes, Settings], evaluation.Answer],
    body: bytes,
    *,
    fast: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> object:
    """The JSON answer, or the problem's code/detail/errors, with the fast path forced on or off."""
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0 if fast else 1 << 62)
    try:
        return json.loads(evaluate(body, SETTINGS).body)
    except ProblemError as problem:
        return (problem.code, problem.detail, problem.errors)


BODIES = [
    {"logits": LOGITS, "labels": [0, 1, 2, 1]},
    {
        "logits": LOGITS,
        "labels": [0, 1, 2, 1],
        "sample_weight": [1, 0, 2, 0.5],
        "class_weight": [0.2, 1, 3],
        "label_smoothing": 0.1,
        "reduction": "sum_by_nonzero_weights",
    },
    {"logits": [[[0.3, -1.2], [1.5, 0.0]], [[0.0, 3.0], [2.2, -0.3]]], "labels": [[1, 0], [1, 1]], "axis": 1},
    {
        "logits": [[[0.3, -1.2], [1.5, 0.0]]],
        "labels": [[1, -100]],
        "ignore_index": -100,
        "sample_weight": [[2.0]],
    },
    {"logits": [2.0, 1.0, 0.1], "labels": 2, "reduction": "none"},
    {"probabilities": [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], "labels": [2, 1], "precision": "float32"},
    {"logits": LOGITS, "labels": [[0], [1], [2], [1]], "per_example": False},
    {"logits": {"dtype": "float64", "shape": [1, 2], "data": "AAAAAAAA8D8AAAAAAAAAQA=="}, "labels": [1]},
    # Bodies the fast path must hand over: the general path's problem is the answer.
    {"logits": [[1.0, 2.0, 3.0], [4.0], [5.0, 6.0]], "labels": [0, 0, 0]},  # ragged, same element count
    {"logits": [[1.0, True], [0.0, 1.0]], "labels": [0, 1]},
    {"logits": [[1.0, 2.0], 3.0], "labels": [0, 1]},
    {"logits": [[1.0, 2.0], "ab"], "labels": [0, 1]},
    {"logits": [[1.0, 2.0], {"a": 1, "b": 2}], "labels": [0, 1]},
    {"logits": LOGITS, "labels": [0, 1.0, 2, 1]},
    {"logits": LOGITS, "labels": [0, 2**70, 2, 1]},
    {"logits": LOGITS, "labels": [0, 3, 2, 1]},
    {"logits": [[[[[1.0, 2.0]]]]], "labels": [[[[0]]]]},
    {"logits": LOGITS, "labels": [0, 1, 2, 1], "from_logits": True},
    {"logits": LOGITS, "labels": [0, 1, 2, 1], "reduction": "avg"},
    {"logits": [[1.0, 2.0]], "labels": [[1, 0]]},
    # A number replaced by an array of the same count, which simdjson's buffer would flatten.
    {"logits": LOGITS, "labels": [0, [1], 2, 1]},
    {"logits": [[2.0, [1.0], 0.1], *LOGITS[1:]], "labels": [0, 1, 2, 1]},
    {"logits": [[2.0, [], [1.0, 0.1]], *LOGITS[1:]], "labels": [0, 1, 2, 1]},
    {"logits": [[[2.0], 1.0, 0.1], *LOGITS[1:]], "labels": [0, 1, 2, 1]},
    # Brackets inside strings and keys are text, not arrays: the fast path still takes these.
    {"logits": LOGITS, "labels": [0, 1, 2, 1], "reduction": "[sum]"},
    {"logits": LOGITS, "labels": [0, 1, 2, 1], "metrics": ["accuracy", "[x]"], "x[": {"[": [1, [2]]}},
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_sparse_paths_agree(body: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    raw = json.dumps(body).encode()
    assert answer(sparse, raw, fast=True, monkeypatch=monkeypatch) == answer(
        sparse, raw, fast=False, monkeypatch=monkeypatch
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"logits": [[1, NaN], [0, 1]], "labels": [0, 1]}',
        b'{"logits": [[-Infinity, 0], [0, 1]], "labels": [1, 1]}',
        b'{"logits": [[1, 0], [0, 1]], "labels": [0, 1], "labels": [1, 1]}',
        b"[1, 2]",
        b'{"logits": [[1, 0]], "labels": [0]',
    ],
)
def test_bodies_simdjson_refuses_take_the_general_path(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0)
    assert fast_json.parse(raw, SPARSE.request, SPARSE.arrays) is None
    assert answer(sparse, raw, fast=True, monkeypatch=monkeypatch) == answer(
        sparse, raw, fast=False, monkeypatch=monkeypatch
    )


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    data=st.data(),
)
def test_categorical_paths_agree_on_random_shapes(shape: list[int], data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    logits = rng.standard_normal(shape).round(3)
    targets = (
        rng.dirichlet(np.ones(shape[-1]), shape[:-1]) if len(shape) > 1 else rng.dirichlet(np.ones(shape[0]))
    )
    raw = json.dumps({"logits": logits.tolist(), "labels": targets.tolist(), "reduction": "none"}).encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = answer(categorical, raw, fast=True, monkeypatch=monkeypatch)
        general = answer(categorical, raw, fast=False, monkeypatch=monkeypatch)
    assert fast == general
    assert fast_json.parse(raw, CATEGORICAL.request, CATEGORICAL.arrays) is not None or len(raw) < (
        fast_json.FAST_PATH_MIN_BYTES
    )


def test_a_large_body_takes_the_fast_path_over_http(api_client: InProcessClient) -> None:
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((300, 20))
    labels = rng.integers(0, 20, 300)
    body = {"logits": logits.tolist(), "labels": labels.tolist()}
    raw = json.dumps(body).encode()
    assert len(raw) > fast_json.FAST_PATH_MIN_BYTES
    assert fast_json.parse(raw, SPARSE.request, SPARSE.arrays) is not None
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(300), labels])
    response = api_client.post("/v1/cross-entropy/sparse", json=body)
    assert response.json()["loss"] == pytest.approx(expected, rel=1e-12)


def test_a_large_body_without_fields_gets_the_general_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b"{" + b" " * (fast_json.FAST_PATH_MIN_BYTES + 10) + b"}"
    assert fast_json.parse(raw, SPARSE.request, SPARSE.arrays) is None
    code, _, errors = answer(sparse, raw, fast=True, monkeypatch=monkeypatch)  # type: ignore[misc]
    assert code == "invalid_field"
    assert {e["pointer"] for e in errors} == {"/labels"}


def b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode()


LOGITS32 = np.array(LOGITS, dtype=np.float32)
TENSOR_BODIES = [
    {"logits": {"dtype": "float32", "shape": [4, 3], "data": b64(LOGITS32)}, "labels": [0, 1, 2, 1]},
    {
        "logits": {"shape": [4, 3], "data": b64(LOGITS32), "dtype": "float32"},
        "labels": {"dtype": "int64", "shape": [4], "data": b64(np.array([0, 1, 2, 1]))},
        "sample_weight": {"dtype": "float64", "shape": [4], "data": b64(np.array([1.0, 0.0, 2.0, 0.5]))},
    },
    {"logits": {"dtype": "float32", "shape": [4, 3], "data": b64(LOGITS32)[:-4]}, "labels": [0, 1, 2, 1]},
    {
        "logits": {"dtype": "float32", "shape": [4, 3], "data": "!" + b64(LOGITS32)[1:]},
        "labels": [0, 1, 2, 1],
    },
    {"logits": {"dtype": "int32", "shape": [4, 3], "data": b64(LOGITS32)}, "labels": [0, 1, 2, 1]},
    {
        "logits": {"dtype": "float32", "shape": [4, 3], "data": b64(LOGITS32)},
        "labels": [0, 1, 2, 1],
        "extra": {"data": b64(LOGITS32)},
    },
    {"logits": LOGITS, "labels": [0, 1, 2, 1], "note": "data"},
]


@pytest.mark.parametrize("body", TENSOR_BODIES, ids=range(len(TENSOR_BODIES)))
def test_spliced_tensors_agree_with_the_general_path(
    body: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_json, "SPLICE_MIN_BYTES", 8)
    raw = json.dumps(body).encode()
    assert answer(sparse, raw, fast=True, monkeypatch=monkeypatch) == answer(
        sparse, raw, fast=False, monkeypatch=monkeypatch
    )


def test_only_tensor_data_is_spliced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_json, "SPLICE_MIN_BYTES", 8)
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(fast_json, "_mostly_text", lambda body: True)
    good = json.dumps(TENSOR_BODIES[1]).encode()
    parsed = fast_json.parse(good, SPARSE.request, SPARSE.arrays)
    assert parsed is not None
    assert sorted(parsed[1]) == ["labels", "logits", "sample_weight"]
    stray = json.dumps(TENSOR_BODIES[5]).encode()  # a "data" key outside any Tensor
    assert fast_json.parse(stray, SPARSE.request, SPARSE.arrays) is None
    escaped = json.dumps(TENSOR_BODIES[0]).replace("/", "\\/").encode()  # a legal JSON escape
    assert b"\\/" in escaped
    assert fast_json._splice_tensor_data(escaped) is None


def test_tensor_bodies_are_told_from_numeric_ones_by_a_sample() -> None:
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((256, 400)).astype(np.float32)
    tensor_body = json.dumps(
        {"logits": {"dtype": "float32", "shape": [256, 400], "data": b64(logits)}, "labels": list(range(256))}
    ).encode()
    numeric_body = json.dumps({"logits": logits.tolist(), "labels": list(range(256))}).encode()
    assert fast_json._mostly_text(tensor_body)
    assert not fast_json._mostly_text(numeric_body)


@pytest.mark.parametrize(
    "body",
    [
        {"logits": LOGITS, "labels": [0, 1, 2, 1], "class_weight": [0.2, 1, 3], "metrics": ["accuracy"]},
        # Metric names are checked after parsing: a bracket in one is text the count must include.
        {"logits": LOGITS, "labels": [0, 1, 2, 1], "metrics": ["accuracy", "[x]", "[["]},
        {"logits": [[[0.3, -1.2], [1.5, 0.0]]], "labels": [[1, 0]], "axis": 1, "sample_weight": [[2.0, 1.0]]},
    ],
)
def test_well_formed_bodies_keep_the_fast_path(
    body: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The count of '[' in the text matches what was parsed, brackets in strings and keys included.
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0)
    assert fast_json.parse(json.dumps(body).encode(), SPARSE.request, SPARSE.arrays) is not None
