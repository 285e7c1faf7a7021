"""V2 JSON ``data`` read by simdjson straight into NumPy gives what the general path (orjson, then
``np.array``) gives, for every body: the same answer, or the same problem."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from service.api import fast_json
from service.api.problems import ProblemError
from service.api.v2 import framing
from service.api.v2.inference import infer
from service.config import Settings
from service.families import family_of

SETTINGS = Settings()
LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
FLAT = [v for row in LOGITS for v in row]


def tensor(name: str, datatype: str, shape: list[int], data: Any) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


def sparse(logits: Any = FLAT, labels: Any = (0, 1, 2, 1), **extra: Any) -> dict[str, Any]:
    inputs = [tensor("logits", "FP32", [4, 3], logits), tensor("labels", "INT64", [4], list(labels))]
    return {"inputs": inputs, **extra}


def answer(family: str, body: bytes, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """The response body, or the problem's code, detail and errors, with the fast path on or off."""
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0 if fast else 1 << 62)
    try:
        return infer(family_of(family), None, body, SETTINGS).body
    except ProblemError as problem:
        return (problem.code, problem.detail, problem.errors)


BODIES: list[tuple[str, dict[str, Any]]] = [
    ("sparse", sparse()),
    ("sparse", sparse(LOGITS)),  # nested like the shape
    (
        "sparse",
        {"inputs": [tensor("logits", "FP64", [4, 3], FLAT), tensor("labels", "INT32", [4], [0, 1, 2, 1])]},
    ),
    (
        "sparse",
        {"inputs": [tensor("logits", "FP16", [4, 3], FLAT), tensor("labels", "INT64", [4], [0, 1, 2, 1])]},
    ),
    (
        "sparse",
        {"inputs": [tensor("logits", "BF16", [4, 3], FLAT), tensor("labels", "INT64", [4], [0, 1, 2, 1])]},
    ),
    ("sparse", sparse([int(v) for v in FLAT])),  # integers for a float input
    (
        "sparse",
        sparse(
            id="[run-1]",
            parameters={"reduction": "sum", "metrics": "accuracy,top_k_accuracy", "top_k": 2},
            outputs=[{"name": "loss"}, {"name": "metrics.accuracy"}],
        ),
    ),
    (
        "sparse",
        {**sparse(), "inputs": [*sparse()["inputs"], tensor("sample_weight", "FP32", [4], [1, 0, 2, 0.5])]},
    ),
    (
        "binary",
        {"inputs": [tensor("logits", "FP32", [4, 3], FLAT), tensor("labels", "FP32", [4, 3], [1, 0] * 6)]},
    ),
    # What the fast path must hand over: the general path's answer or problem stands.
    ("sparse", {"inputs": [tensor("logits", "FP32", [0, 3], []), tensor("labels", "INT64", [0], [])]}),
    ("sparse", sparse(labels=(0, 1.0, 2, 1))),  # a float for an integer input
    ("sparse", sparse(labels=(0, True, 2, 1))),
    ("sparse", sparse(labels=(0, [1], 2, 1))),  # an array where a number belongs, same count
    ("sparse", sparse([*FLAT[:5], [FLAT[5]], *FLAT[6:]])),
    ("sparse", sparse([LOGITS[0], [[0.5], 2.5, -1.0], *LOGITS[2:]])),
    ("sparse", sparse([LOGITS[0], [0.5, [], [2.5, -1.0]], *LOGITS[2:]])),
    ("sparse", sparse([[2.0, 1.0], [0.1, 0.5, 2.5, -1.0], *LOGITS[2:]])),  # ragged, same count
    ("sparse", sparse([2.0**60, *FLAT[1:]])),  # beyond float64's exact integers
    ("sparse", sparse(labels=(0, 2**70, 2, 1))),  # beyond int64
    ("sparse", sparse(labels=(0, 2**40, 2, 1))),  # beyond int32 for INT32 below
    (
        "sparse",
        {
            "inputs": [
                tensor("logits", "FP32", [4, 3], FLAT),
                tensor("labels", "INT32", [4], [0, 2**40, 2, 1]),
            ]
        },
    ),
    ("sparse", sparse(FLAT[:-1])),  # one element short of the shape
    ("sparse", sparse(labels=(0, 1, 5, 1))),  # a problem the core finds, with a pointer into data
    ("sparse", sparse("not a list")),
    ("sparse", sparse(None)),
    ("sparse", {"inputs": [{**sparse()["inputs"][0], "extra": 1}, sparse()["inputs"][1]]}),
    (
        "sparse",
        {"inputs": [tensor("logits", "FP32", [4, 3], FLAT), tensor("label", "INT64", [4], [0, 1, 2, 1])]},
    ),
    (
        "sparse",
        {"inputs": [tensor("logits", "FP8", [4, 3], FLAT), tensor("labels", "INT64", [4], [0, 1, 2, 1])]},
    ),
    ("sparse", {"inputs": "logits"}),
    ("sparse", [1, 2]),
]


@pytest.mark.parametrize(("family", "body"), BODIES, ids=range(len(BODIES)))
def test_v2_json_paths_agree(family: str, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    raw = json.dumps(body).encode()
    assert answer(family, raw, fast=True, monkeypatch=monkeypatch) == answer(
        family, raw, fast=False, monkeypatch=monkeypatch
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"inputs": [{"name": "logits", "datatype": "FP32", "shape": [1, 2], "data": [1, NaN]}]}',
        b'{"inputs": [{"name": "logits", "datatype": "FP32", "shape": [1, 2], "data": [1, 2], '
        b'"data": [3, 4]}]}',
        b'{"inputs": [{"name": "logits", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]',
    ],
)
def test_v2_text_simdjson_refuses_takes_the_general_path(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0)
    assert fast_json.parse_v2_header(memoryview(raw), framing.InferenceRequest, max_elements=1 << 24) is None
    assert answer("sparse", raw, fast=True, monkeypatch=monkeypatch) == answer(
        "sparse", raw, fast=False, monkeypatch=monkeypatch
    )


@pytest.mark.parametrize("raw", [b"{" + b" " * 20_000 + b"}", b'{"inputs": []' + b" " * 20_000 + b"}"])
def test_large_bodies_without_input_data_agree(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    # Padded past the fast path's minimum: nothing to read into NumPy, and no crash looking for it.
    assert answer("sparse", raw, fast=True, monkeypatch=monkeypatch) == answer(
        "sparse", raw, fast=False, monkeypatch=monkeypatch
    )


def test_a_large_v2_json_body_takes_the_fast_path() -> None:
    rng = np.random.default_rng(0)
    body = sparse((rng.standard_normal(12) * 3).tolist())
    body["inputs"][0]["data"] = (rng.standard_normal((400, 3)) * 3).tolist()
    body["inputs"][0]["shape"] = [400, 3]
    body["inputs"][1] = tensor("labels", "INT64", [400], rng.integers(0, 3, 400).tolist())
    raw = json.dumps(body).encode()
    assert len(raw) >= fast_json.FAST_PATH_MIN_BYTES
    parsed = fast_json.parse_v2_header(memoryview(raw), framing.InferenceRequest, max_elements=1 << 24)
    assert parsed is not None
    header, data = parsed
    assert sorted(data) == [0, 1]
    assert [entry.data for entry in header.inputs] == [[], []]
    np.testing.assert_array_equal(data[0], np.array(body["inputs"][0]["data"]))


@settings(max_examples=40, deadline=None)
@given(
    logits=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 5)),
        elements=st.floats(-1e6, 1e6) | st.integers(-(2**60), 2**60).map(float),
    ),
    nested=st.booleans(),
    datatype=st.sampled_from(["FP16", "BF16", "FP32", "FP64"]),
    data=st.data(),
)
def test_random_v2_json_bodies_agree(
    logits: np.ndarray, nested: bool, datatype: str, data: st.DataObject
) -> None:
    rows, classes = logits.shape
    labels = data.draw(st.lists(st.integers(-1, classes), min_size=rows, max_size=rows))
    values = logits.tolist() if nested else logits.ravel().tolist()
    body = {
        "inputs": [
            tensor("logits", datatype, [rows, classes], values),
            tensor("labels", data.draw(st.sampled_from(["INT32", "INT64"])), [rows], labels),
        ]
    }
    raw = json.dumps(body).encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert answer("sparse", raw, fast=True, monkeypatch=monkeypatch) == answer(
            "sparse", raw, fast=False, monkeypatch=monkeypatch
        )


def test_json_data_over_the_element_limit_is_413_before_a_number_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[object] = []
    monkeypatch.setattr(fast_json, "_read_numbers", lambda *args, **kwargs: reads.append(args))
    body = sparse(np.zeros((3000, 3)).tolist())
    body["inputs"][0]["shape"] = [4, 3]  # the declared shape is small: the data itself is counted
    raw = json.dumps(body).encode()
    with pytest.raises(ProblemError) as caught:
        infer(family_of("sparse"), None, raw, Settings(max_elements=1000))
    assert caught.value.code == "too_large"
    assert caught.value.errors[0]["pointer"] == "/inputs/0/data"
    assert caught.value.errors[0]["received"] == 9000
    assert reads == []
