"""Large arrays parsed run by run: the runs cover each array exactly, and every body gets the answer the
general path gives, whether it is sliced or handed over."""

from __future__ import annotations

import functools
import json
import mmap
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.inprocess import InProcessClient

from service.api import body as body_module
from service.api import evaluation, fast_json, json_slices
from service.api.problems import ProblemError
from service.config import Settings
from service.families import SPARSE

SETTINGS = Settings()
sparse = functools.partial(evaluation.evaluate, SPARSE)
LAYOUTS: list[dict[str, Any]] = [
    {},
    {"separators": (",", ":")},
    {"indent": 2},
    {"indent": "\t", "separators": (" ,", " : ")},
]


def answer(raw: bytes, *, sliced: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """The answer with the sliced path forced on (tiny runs), or with every fast path off."""
    monkeypatch.setattr(fast_json, "FAST_PATH_MIN_BYTES", 0 if sliced else 1 << 62)
    monkeypatch.setattr(fast_json, "SLICED_MIN_BYTES", 0)
    monkeypatch.setattr(fast_json, "SLICE_BYTES", 1)
    try:
        return json.loads(sparse(raw, SETTINGS).body)
    except ProblemError as problem:
        return (problem.code, problem.detail, problem.errors)


@settings(max_examples=80, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    layout=st.sampled_from(LAYOUTS),
    run_bytes=st.integers(1, 64),
    data=st.data(),
)
def test_runs_are_whole_elements_that_make_up_the_array(
    shape: list[int], layout: dict[str, Any], run_bytes: int, data: st.DataObject
) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    logits = rng.standard_normal(shape).round(3).tolist()
    raw = json.dumps({"logits": logits, "labels": [0] * shape[0], "reduction": "sum"}, **layout).encode()
    spans = json_slices.large_arrays(raw, ["logits", "labels"], min_bytes=0, run_bytes=run_bytes)
    assert spans is not None
    span = spans["logits"]
    assert json.loads(raw[span.start : span.end + 1]) == logits
    elements = [e for start, stop in span.runs for e in json.loads(b"[" + raw[start:stop] + b"]")]
    assert elements == logits
    assert json.loads(raw[spans["labels"].start : spans["labels"].end + 1]) == [0] * shape[0]


SLICED_BODIES = [
    {"logits": [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0]], "labels": [0, 1, 2]},
    {"labels": [[1, 0], [1, 1]], "axis": 1, "logits": [[[0.3, -1.2], [1.5, 0.0]], [[0.0, 3.0], [2.2, -0.3]]]},
    {"logits": [2.0, 1.0, 0.1], "labels": 2, "reduction": "none"},
    {"logits": [[1.0, 2.0], [3.0, 4.0]], "labels": [0, 1], "reduction": ']], [["x'},  # brackets in a string
    {"extra": {"logits": [[1.0, 2.0]]}, "logits": [[1.0, 2.0]], "labels": [0]},  # a nested key of that name
    {"logits": [[1.0, 2.0], [[3.0, 4.0]], [5.0, 6.0]], "labels": [0, 1, 0]},  # ragged depth
    {"logits": [[1.0, 2.0], [3.0]], "labels": [0, 1]},  # ragged length
    {"logits": [[1.0, "2"], [3.0, 4.0]], "labels": [0, 1]},
    {"logits": [[1.0, 2.0], [3.0, 4.0]], "labels": [0, 2]},  # a problem the core finds
    {"logits": [[1.0, 2.0], [3.0, 4.0]], "labels": [0, 1.5]},
    {"logits": [], "labels": []},
    # A number replaced by an array of the same count: simdjson's buffer would flatten it.
    {"logits": [[1.0, 2.0], [3.0, [4.0]]], "labels": [0, 1]},
    {"logits": [[1.0, 2.0], [[], [3.0, 4.0]]], "labels": [0, 1]},
    {"logits": [[1.0, 2.0], [3.0, 4.0]], "labels": [[0], 1]},
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=range(len(LAYOUTS)))
@pytest.mark.parametrize("body", SLICED_BODIES, ids=range(len(SLICED_BODIES)))
def test_sliced_bodies_get_the_general_paths_answer(
    body: dict[str, object], layout: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = json.dumps(body, **layout).encode()
    sliced = answer(raw, sliced=True, monkeypatch=monkeypatch)
    assert sliced == answer(raw, sliced=False, monkeypatch=monkeypatch)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"logits": [[1, 0], [0, 1]], "labels": [0, 1], "logits": [[0, 1], [1, 0]]}',  # a repeated key
        b'{"logits": [[1, 0], [0, 1]], "labels": [0, 1], "reduction": "su\\u006d"}',  # an escape
        b'{"logits": [[1, 0], [0, 1]], "labels": [0, 1',  # cut short
        b'{"logits": [[1, 0], [0, 1]]] , "labels": [0, 1]}',
    ],
)
def test_text_that_is_not_plainly_arrays_is_handed_over(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_json, "SLICE_BYTES", 1)
    assert (
        fast_json._parse_sliced(
            raw,
            SPARSE.request,
            {"logits": False, "probabilities": False, "labels": True, "sample_weight": False},
        )
        is None
    )
    sliced = answer(raw, sliced=True, monkeypatch=monkeypatch)
    assert sliced == answer(raw, sliced=False, monkeypatch=monkeypatch)


def test_a_big_numeric_body_is_parsed_in_runs() -> None:
    rng = np.random.default_rng(11)
    logits = rng.standard_normal((512, 1000))
    raw = json.dumps({"logits": logits.tolist(), "labels": list(range(512))}).encode()
    assert len(raw) > fast_json.SLICED_MIN_BYTES
    spans = json_slices.large_arrays(
        raw,
        ["logits", "probabilities", "labels", "sample_weight"],
        min_bytes=fast_json.SLICE_BYTES,
        run_bytes=fast_json.SLICE_BYTES,
    )
    assert spans is not None
    assert len(spans["logits"].runs) > 4
    parsed = fast_json.parse(raw, SPARSE.request, SPARSE.arrays)
    assert parsed is not None
    np.testing.assert_array_equal(parsed[1]["logits"], logits)


def test_a_mapped_body_gets_the_same_answers(
    api_client: InProcessClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = {"logits": [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], "labels": [0, 1]}
    bad = {"logits": [[2.0, 1.0, 0.1], [0.5, 2.5]], "labels": [0, 1]}
    expected = [api_client.post("/v1/cross-entropy/sparse", json=b) for b in (good, bad)]
    monkeypatch.setattr(body_module, "MMAP_THRESHOLD_BYTES", 0)
    mapped = [api_client.post("/v1/cross-entropy/sparse", json=b) for b in (good, bad)]

    def seen(responses: list[Any]) -> list[tuple[int, dict[str, Any]]]:
        return [(r.status_code, {k: v for k, v in r.json().items() if k != "request_id"}) for r in responses]

    assert seen(mapped) == seen(expected)
    raw = json.dumps(good).encode()
    buffer = mmap.mmap(-1, len(raw))
    buffer[:] = raw
    assert sparse(buffer, SETTINGS).body == sparse(raw, SETTINGS).body
