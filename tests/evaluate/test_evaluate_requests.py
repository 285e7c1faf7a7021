"""Chunking along the example axis and the request bodies built for each chunk."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import orjson
import pytest

from service.evaluate.data import Dataset, InputError
from service.evaluate.encoding import EncodingError
from service.evaluate.requests import RequestBuilder, RequestOptions, auto_chunk_size, row_ranges

RNG = np.random.default_rng(7)


def _decode(tensor: dict[str, Any]) -> np.ndarray:
    """Independent of the encoder: little-endian bytes of the named dtype, row-major."""
    dtype = np.dtype(tensor["dtype"]).newbyteorder("<")
    return np.frombuffer(base64.b64decode(tensor["data"]), dtype=dtype).reshape(tensor["shape"])


def _bodies(dataset: Dataset, chunk_size: int, **options: Any) -> list[dict[str, Any]]:
    mode = dataset.mode()
    tensors = options.pop("tensors", True)
    builder = RequestBuilder(dataset.normalised(mode), RequestOptions(**options), mode, tensors=tensors)
    return [orjson.loads(chunk.body) for chunk in builder.chunks(chunk_size)]


def test_row_ranges_cover_every_row_once() -> None:
    assert row_ranges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert row_ranges(0, 4) == [(0, 0)]
    with pytest.raises(InputError):
        row_ranges(3, 0)


def test_the_default_chunk_holds_about_a_million_prediction_values() -> None:
    assert auto_chunk_size(Dataset(np.zeros((5, 16, 8)), np.zeros((5, 16), np.int64))) == 2**20 // 128
    assert auto_chunk_size(Dataset(np.zeros((3, 2**21)), np.zeros(3, np.int64))) == 1
    assert auto_chunk_size(Dataset(np.zeros(4), np.zeros((), np.int64))) == 2**20


def test_tensor_chunks_carry_the_rows_exactly() -> None:
    logits = RNG.normal(size=(7, 3, 5)).astype(np.float32)
    labels = RNG.integers(0, 5, size=(7, 3)).astype(np.int32)
    bodies = _bodies(Dataset(logits, labels), 3, ignore_index=-100, reduction="mean")
    assert len(bodies) == 3
    np.testing.assert_array_equal(np.concatenate([_decode(b["logits"]) for b in bodies]), logits)
    np.testing.assert_array_equal(np.concatenate([_decode(b["labels"]) for b in bodies]), labels)
    assert {b["logits"]["dtype"] for b in bodies} == {"float32"}
    assert {b["labels"]["dtype"] for b in bodies} == {"int32"}
    # The combined reduction is computed client-side, so chunks ask for sums.
    assert all(b["reduction"] == "sum" and b["ignore_index"] == -100 for b in bodies)
    assert all(b["per_example"] is False for b in bodies)


def test_big_endian_and_small_ints_are_sent_as_contract_dtypes() -> None:
    logits = np.arange(6, dtype=">f8").reshape(2, 3)
    labels = np.array([2, 0], dtype=np.uint8)
    (body,) = _bodies(Dataset(logits, labels), 10)
    assert body["labels"]["dtype"] == "int64"
    np.testing.assert_array_equal(_decode(body["logits"]), [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(_decode(body["labels"]), [2, 0])


def test_weights_with_the_example_axis_are_chunked_others_sent_whole() -> None:
    logits = RNG.normal(size=(5, 4, 3))
    labels = RNG.integers(0, 3, size=(5, 4))
    per_sequence = np.arange(5, dtype=np.float64).reshape(5, 1)
    bodies = _bodies(Dataset(logits, labels, sample_weight=per_sequence), 2)
    assert [_decode(b["sample_weight"]).tolist() for b in bodies] == [[[0], [1]], [[2], [3]], [[4]]]

    per_position = np.array([1.0, 0.5, 0.25, 0.0])  # broadcasts over the examples
    bodies = _bodies(Dataset(logits, labels, sample_weight=per_position), 2)
    assert all(_decode(b["sample_weight"]).tolist() == per_position.tolist() for b in bodies)

    bodies = _bodies(Dataset(logits, labels, sample_weight=0.5), 2)
    assert [b["sample_weight"] for b in bodies] == [0.5, 0.5, 0.5]


def test_json_form_sends_nested_arrays_and_refuses_non_finite_values() -> None:
    logits = np.array([[1.0, 2.0], [3.0, 4.0]])
    bodies = _bodies(Dataset(logits, np.array([0, 1])), 1, tensors=False)
    assert [b["logits"] for b in bodies] == [[[1.0, 2.0]], [[3.0, 4.0]]]
    assert [b["labels"] for b in bodies] == [[0], [1]]
    masked = np.array([[-np.inf, 2.0], [3.0, 4.0]])
    with pytest.raises(EncodingError, match="Tensors"):
        _bodies(Dataset(masked, np.array([1, 1])), 1, tensors=False)
    # The Tensor form carries −inf (a masked class) bit for bit.
    (body,) = _bodies(Dataset(masked, np.array([1, 1])), 5)
    assert _decode(body["logits"])[0, 0] == -np.inf


def test_rank_one_predictions_are_one_example() -> None:
    bodies = _bodies(Dataset(np.array([1.0, 2.0, 3.0]), np.array(2)), 1)
    assert len(bodies) == 1
    assert _decode(bodies[0]["labels"]).shape == ()


def test_categorical_mode_and_its_options() -> None:
    probabilities = np.array([[0.2, 0.8], [0.5, 0.5]])
    dataset = Dataset(probabilities, np.array([[0, 1], [1, 0]]), probabilities=True)
    assert dataset.mode() == "categorical"
    (body,) = _bodies(dataset, 8, epsilon=1e-6, class_weight=(1.0, 2.0), reduction="none")
    assert set(body) == {
        "probabilities",
        "labels",
        "epsilon",
        "class_weight",
        "reduction",
        "per_example",
    }
    assert body["per_example"] is True  # "none" needs the per-example losses
    assert _decode(body["labels"]).dtype == np.float64
    with pytest.raises(InputError, match="sparse"):
        _bodies(dataset, 8, ignore_index=-100)


def test_the_first_axis_cannot_be_the_class_axis() -> None:
    with pytest.raises(InputError, match="class axis"):
        _bodies(Dataset(np.zeros((3, 4)), np.zeros(4, dtype=np.int64)), 2, axis=0)
