"""Reading .npz / .npy / .jsonl datasets, and the errors a user sees for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from service.evaluate.data import Dataset, InputError, load_dataset
from service.evaluate.output import dataset_row
from service.evaluate.requests import Chunk


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(row) for row in rows) + b"\n\n")
    return path


def test_npz_fields_and_the_probabilities_flag(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", probabilities=np.full((2, 2), 0.5), labels=[0, 1], sample_weight=[1.0, 2.0])
    dataset = load_dataset(tmp_path / "p.npz")
    assert dataset.probabilities
    assert dataset.prediction_field == "probabilities"
    np.testing.assert_array_equal(dataset.sample_weight, [1.0, 2.0])  # type: ignore[arg-type]
    np.savez(tmp_path / "l.npz", logits=np.zeros((2, 2)), labels=[0, 1])
    with pytest.raises(InputError, match="--probabilities was given but"):
        load_dataset(tmp_path / "l.npz", probabilities=True)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"labels": [0]}, "exactly one of 'logits' / 'probabilities'"),
        ({"logits": [[0.0]], "probabilities": [[1.0]], "labels": [0]}, "exactly one of"),
        ({"logits": [[0.0]]}, "has no 'labels'"),
        ({"logits": [[0.0]], "labels": [0], "weights": [1.0]}, "unexpected field"),
    ],
)
def test_npz_errors_name_the_arrays(tmp_path: Path, arrays: dict[str, object], message: str) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=message):
        load_dataset(tmp_path / "bad.npz")


def test_npy_files_and_a_numeric_sample_weight(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((3, 2), dtype=np.float16))
    np.save(tmp_path / "y.npy", np.array([0, 1, 1], dtype=np.int16))
    dataset = load_dataset(tmp_path / "x.npy", labels=tmp_path / "y.npy", sample_weight=0.5)
    assert dataset.sample_weight == 0.5
    normalised = dataset.normalised(dataset.mode())
    assert normalised.predictions.dtype == np.float16  # sent as a float16 Tensor
    assert normalised.labels.dtype == np.int64
    with pytest.raises(InputError, match=r"only for \.npy predictions"):
        load_dataset(tmp_path / "x.npz", labels=tmp_path / "y.npy")


def test_weights_cannot_come_from_the_file_and_the_option(tmp_path: Path) -> None:
    np.savez(tmp_path / "w.npz", logits=np.zeros((1, 2)), labels=[0], sample_weight=[1.0])
    with pytest.raises(InputError, match="given twice"):
        load_dataset(tmp_path / "w.npz", sample_weight=2.0)


def test_jsonl_rows_stack_into_arrays(tmp_path: Path) -> None:
    rows = [{"logits": [[1, 2], [3, 4]], "labels": [0, -100]}, {"logits": [[5, 6], [7, 8]], "labels": [1, 1]}]
    dataset = load_dataset(_jsonl(tmp_path / "d.jsonl", rows))
    assert dataset.predictions.shape == (2, 2, 2)
    np.testing.assert_array_equal(dataset.labels, [[0, -100], [1, 1]])
    assert dataset.mode() == "sparse"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"logits": [1, 2], "labels": 0}, {"logits": [1], "labels": 0}], "different shapes"),
        ([{"logits": [1, 2], "labels": 0}, {"logits": [1, 2]}], ":2: fields"),
        ([{"logits": [1, 2], "labels": True}], "must hold numbers"),
        ([[1, 2]], "must be a JSON object"),
        ([], "holds no examples"),
    ],
)
def test_jsonl_errors_name_the_line_or_field(tmp_path: Path, rows: list[object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_dataset(_jsonl(tmp_path / "bad.jsonl", rows))


def test_sparse_labels_must_be_integers() -> None:
    dataset = Dataset(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(InputError, match="must be integers"):
        dataset.normalised("sparse")


def test_error_items_are_mapped_to_dataset_rows() -> None:
    chunk = Chunk(index=3, start=30, stop=40, body=b"")
    assert dataset_row({"pointer": "/labels", "index": [4]}, chunk) == 34
    assert dataset_row({"pointer": "/logits/7/2"}, chunk) == 37
    assert dataset_row({"pointer": "/class_weight/1"}, chunk) is None
    assert dataset_row({"pointer": "/logits/12"}, chunk) is None  # not a row of this chunk


@pytest.mark.parametrize(
    ("labels", "mode"),
    [
        ([[1, 0, 1], [0, 1, 0]], "binary"),  # multi-hot: a row with two 1s
        ([[0, 0, 0], [0, 1, 0]], "binary"),  # a row with no positive label
        ([[1, 0, 0], [0, 1, 0]], "categorical"),  # one-hot rows stay categorical
        ([[0.7, 0.3, 0.0], [0.0, 1.0, 0.0]], "categorical"),  # soft distributions
        ([0, 2], "sparse"),
    ],
)
def test_mode_is_inferred_from_the_labels(labels: list[object], mode: str) -> None:
    assert Dataset(np.zeros((2, 3)), np.asarray(labels)).mode() == mode
