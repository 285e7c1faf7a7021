"""Parquet, Arrow IPC/Feather, save_to_disk directories and .safetensors, read chunk by chunk: each
evaluated against a live server gives what the same data gives from a .npz, loss by loss."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from reference import numpy_reference
from safetensors.numpy import save_file

from service.evaluate import RequestOptions, evaluate, readers
from service.evaluate.cli import EXIT_OK, EXIT_USAGE, main
from service.evaluate.data import InputError, load_dataset
from service.evaluate.encoding import EncodingError
from service.evaluate.readers import MissingExtra, Names, open_source
from service.evaluate.requests import RequestBuilder

RNG = np.random.default_rng(5)
CHUNK = 7  # not a divisor of the row count nor of any record batch size below

# Sparse, rank 2: float32 logits, int labels, one weight per row.
N, C = 45, 5
LOGITS = (RNG.normal(size=(N, C)) * 3).astype(np.float32)
LABELS = RNG.integers(0, C, size=N)
WEIGHTS = np.where(RNG.random(N) < 0.2, 0.0, RNG.random(N) * 2)
# Categorical probabilities with soft labels.
PROBABILITIES = RNG.dirichlet(np.ones(C), size=N)
SOFT = RNG.dirichlet(np.ones(C), size=N)
# Token classification, rank 3: per-sequence weights, -100 padding.
T = 6
TOKEN_LOGITS = RNG.normal(size=(N, T, C)).astype(np.float32)
TOKENS = np.where(RNG.random((N, T)) < 0.3, -100, RNG.integers(0, C, size=(N, T)))
SEQUENCE_WEIGHTS = RNG.random(N) + 0.5


def _table(**columns: Any) -> pa.Table:
    """2-D arrays become fixed-size-list columns (3-D: lists of them), 1-D plain columns."""

    def column(array: np.ndarray) -> pa.Array:
        if array.ndim == 1:
            return pa.array(array)
        return pa.FixedSizeListArray.from_arrays(column(array.reshape(-1, *array.shape[2:])), array.shape[1])

    return pa.table({name: column(array) for name, array in columns.items()})


def _compare(source: Any, npz: Path, **options: Any) -> None:
    """Same statistics and per-example losses as the .npz, chunk for chunk, and as the reference."""
    options.setdefault("per_example", True)
    url = options.pop("url")
    request = RequestOptions(**options)
    streamed = evaluate(source, [url], options=request, chunk_size=CHUNK, concurrency=3)
    expected = evaluate(load_dataset(npz), [url], options=request, chunk_size=CHUNK, concurrency=3)
    assert streamed.chunks == expected.chunks == math.ceil(N / CHUNK)
    assert streamed.endpoint == expected.endpoint
    assert streamed.precision == expected.precision
    assert streamed.shape == expected.shape
    assert streamed.totals == expected.totals  # the same rows in the same chunks: identical sums
    assert streamed.losses is not None
    assert expected.losses is not None
    np.testing.assert_array_equal(streamed.losses, expected.losses)


def _sparse_reference() -> numpy_reference.Reference:
    return numpy_reference.sparse(LOGITS.astype(np.float64), LABELS, sample_weight=WEIGHTS)


@pytest.fixture
def sparse_npz(tmp_path: Path) -> Path:
    path = tmp_path / "sparse.npz"
    np.savez(path, logits=LOGITS, labels=LABELS, sample_weight=WEIGHTS)
    return path


def test_parquet_with_fixed_size_list_logits(live_url: str, tmp_path: Path, sparse_npz: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(_table(logits=LOGITS, labels=LABELS, sample_weight=WEIGHTS), path, row_group_size=10)
    source = open_source(path)
    assert (source.num_examples, source.prediction_shape, source.mode()) == (N, (N, C), "sparse")
    _compare(source, sparse_npz, url=live_url)
    result = evaluate(source, [live_url], chunk_size=CHUNK)
    assert result.loss == pytest.approx(_sparse_reference().loss("mean"), rel=1e-6)


def test_parquet_with_renamed_list_columns_and_extra_columns(
    live_url: str, tmp_path: Path, sparse_npz: Path
) -> None:
    table = pa.table(
        {
            "text": [f"example {i}" for i in range(N)],
            "scores": pa.array(list(LOGITS), type=pa.list_(pa.float32())),  # variable-size lists
            "y": pa.array(LABELS.astype(np.int16)),
            "w": WEIGHTS,
        }
    )
    path = tmp_path / "renamed.parquet"
    pq.write_table(table, path, row_group_size=16)
    source = open_source(path, names=Names(logits="scores", labels="y", weights="w"))
    _compare(source, sparse_npz, url=live_url, reduction="sum")


def test_parquet_categorical_probabilities_column(live_url: str, tmp_path: Path) -> None:
    npz = tmp_path / "categorical.npz"
    np.savez(npz, probabilities=PROBABILITIES, labels=SOFT)
    path = tmp_path / "categorical.parquet"
    pq.write_table(_table(p=PROBABILITIES, target=SOFT), path, row_group_size=9)
    source = open_source(path, names=Names(probabilities="p", labels="target"))
    assert source.probabilities
    assert source.mode() == "categorical"
    _compare(source, npz, url=live_url, epsilon=1e-6)


def test_arrow_ipc_file_and_stream_with_token_labels(live_url: str, tmp_path: Path) -> None:
    npz = tmp_path / "tokens.npz"
    np.savez(npz, logits=TOKEN_LOGITS, labels=TOKENS, sample_weight=SEQUENCE_WEIGHTS[:, None])
    table = _table(logits=TOKEN_LOGITS, labels=TOKENS, sample_weight=SEQUENCE_WEIGHTS)
    feather.write_feather(table, tmp_path / "tokens.feather", chunksize=9)  # IPC file, lz4
    with (
        pa.OSFile(str(tmp_path / "tokens.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as out,
    ):
        for batch in table.to_batches(max_chunksize=11):
            out.write_batch(batch)
    for name in ("tokens.feather", "tokens.arrow"):
        source = open_source(tmp_path / name)
        assert source.prediction_shape == (N, T, C)
        _compare(source, npz, url=live_url, ignore_index=-100)


def test_save_to_disk_directory(live_url: str, tmp_path: Path, sparse_npz: Path) -> None:
    datasets = pytest.importorskip("datasets")
    hf = datasets.Dataset.from_dict(
        {"text": ["x"] * N, "logits": LOGITS, "label": LABELS, "weight": WEIGHTS},
    )
    hf.save_to_disk(tmp_path / "hf", num_shards=3)  # three .arrow files, read in order
    assert len(list((tmp_path / "hf").glob("*.arrow"))) > 1
    source = open_source(tmp_path / "hf", names=Names(labels="label", weights="weight"))
    _compare(source, sparse_npz, url=live_url)

    datasets.DatasetDict({"train": hf, "test": hf}).save_to_disk(tmp_path / "dict")
    with pytest.raises(InputError, match=r"DatasetDict; point at one split: .*test, .*train"):
        open_source(tmp_path / "dict")


def test_safetensors_slices_and_broadcast_weights(live_url: str, tmp_path: Path) -> None:
    npz = tmp_path / "tokens.npz"
    np.savez(npz, logits=TOKEN_LOGITS, labels=TOKENS, sample_weight=SEQUENCE_WEIGHTS[:, None])
    path = tmp_path / "tokens.safetensors"
    save_file(
        {
            "out": TOKEN_LOGITS,
            "tok": TOKENS,
            "seq_w": SEQUENCE_WEIGHTS[:, None],
            "pos_w": np.linspace(0, 1, T),
        },
        str(path),
    )
    source = open_source(path, names=Names(logits="out", labels="tok", weights="seq_w"))
    _compare(source, npz, url=live_url, ignore_index=-100)

    # Weights without the example axis broadcast and go whole with every chunk.
    np.savez(npz, logits=TOKEN_LOGITS, labels=TOKENS, sample_weight=np.linspace(0, 1, T))
    source = open_source(path, names=Names(logits="out", labels="tok", weights="pos_w"))
    _compare(source, npz, url=live_url, ignore_index=-100)


def test_cli_reads_parquet_by_column_name(
    live_url: str, tmp_path: Path, sparse_npz: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(_table(z=LOGITS, y=LABELS, w=WEIGHTS), path)
    out = {name: tmp_path / f"{name}.json" for name in ("parquet", "npz")}
    common = ["--url", live_url, "--chunk-size", str(CHUNK), "--no-progress", "--reduction", "sum"]
    columns = ["--logits-column", "z", "--labels-column", "y", "--weights-column", "w"]
    assert main([str(path), *columns, *common, "-o", str(out["parquet"])]) == EXIT_OK
    assert main([str(sparse_npz), *common, "-o", str(out["npz"])]) == EXIT_OK
    parquet, npz = (json.loads(out[name].read_text()) for name in ("parquet", "npz"))
    assert parquet == npz
    assert parquet["loss"] == pytest.approx(_sparse_reference().loss("sum"), rel=1e-6)

    capsys.readouterr()
    assert main([str(path), "--logits-column", "logits", *common]) == EXIT_USAGE
    assert "has no column 'logits' (columns: 'z', 'y', 'w')" in capsys.readouterr().err


def _writers(tmp_path: Path) -> dict[str, Callable[[pa.Table], Path]]:
    def parquet(table: pa.Table) -> Path:
        pq.write_table(table, tmp_path / "t.parquet")
        return tmp_path / "t.parquet"

    def arrow(table: pa.Table) -> Path:
        feather.write_feather(table, tmp_path / "t.arrow")
        return tmp_path / "t.arrow"

    return {"parquet": parquet, "arrow": arrow}


@pytest.mark.parametrize("form", ["parquet", "arrow"])
@pytest.mark.parametrize(
    ("columns", "names", "message"),
    [
        (
            {"logits": LOGITS, "labels": LABELS},
            Names(labels="label"),
            r"no column 'label' \(columns: 'logits'",
        ),
        ({"scores": LOGITS, "labels": LABELS}, Names(), r"exactly one column 'logits' / 'probabilities'"),
        ({"logits": LOGITS[:, 0], "labels": LABELS}, Names(), "one number per row"),
        ({"logits": LOGITS, "labels": LABELS.astype(str)}, Names(), "must hold numbers"),
    ],
)
def test_column_errors_name_what_is_there(
    tmp_path: Path, form: str, columns: dict[str, np.ndarray], names: Names, message: str
) -> None:
    path = _writers(tmp_path)[form](_table(**columns))
    with pytest.raises(InputError, match=message):  # found on opening: the first row is read
        open_source(path, names=names)


def test_ragged_and_null_rows_are_refused(tmp_path: Path) -> None:
    ragged = pa.table({"logits": pa.array([[1.0, 2.0], [1.0, 2.0, 3.0]]), "labels": [0, 1]})
    source = open_source(_writers(tmp_path)["parquet"](ragged))
    with pytest.raises(InputError, match=r"lists of different lengths \(2, then 3\)"):
        list(source.parts(5))
    nulls = pa.table({"logits": pa.array([[1.0, 2.0], [1.0, None]]), "labels": [0, 1]})
    with pytest.raises(InputError, match="missing"):
        list(open_source(_writers(tmp_path)["parquet"](nulls)).parts(5))


def test_the_flags_fit_the_format(tmp_path: Path, sparse_npz: Path) -> None:
    with pytest.raises(InputError, match="--labels-column: for Parquet"):
        open_source(sparse_npz, names=Names(labels="y"))
    path = _writers(tmp_path)["parquet"](_table(logits=LOGITS, labels=LABELS, sample_weight=WEIGHTS))
    with pytest.raises(InputError, match="given twice"):
        open_source(path, sample_weight=2.0)
    with pytest.raises(InputError, match="--probabilities was given but"):
        open_source(path, probabilities=True)
    with pytest.raises(InputError, match="--sample-weight takes a number"):
        open_source(path, sample_weight=tmp_path / "w.npy")


def test_a_numeric_sample_weight_goes_with_every_chunk(tmp_path: Path) -> None:
    path = _writers(tmp_path)["parquet"](_table(logits=LOGITS, labels=LABELS))
    source = open_source(path, sample_weight=0.5)
    parts = list(source.normalised("sparse").parts(CHUNK))
    assert [part.sample_weight for part in parts] == [0.5] * math.ceil(N / CHUNK)
    np.testing.assert_array_equal(np.concatenate([part.predictions for part in parts]), LOGITS)
    assert {part.labels.dtype for part in parts} == {np.dtype(np.int64)}


@pytest.mark.parametrize(
    ("module", "suffix"),
    [("pyarrow.parquet", ".parquet"), ("pyarrow", ".arrow"), ("safetensors", ".safetensors")],
)
def test_a_missing_extra_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str, suffix: str
) -> None:
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingExtra, match=r"needs \w+: pip install 'loss-service\[datasets\]'"):
        open_source(path)


def test_json_form_checks_each_streamed_chunk(live_url: str, tmp_path: Path) -> None:
    masked = LOGITS.copy()
    masked[40, 1] = -np.inf
    path = _writers(tmp_path)["parquet"](_table(logits=masked, labels=LABELS))
    builder = RequestBuilder(
        open_source(path).normalised("sparse"), RequestOptions(), "sparse", tensors=False
    )
    chunks = builder.chunks(CHUNK)
    assert [next(chunks).stop for _ in range(5)] == [7, 14, 21, 28, 35]
    with pytest.raises(EncodingError, match="non-finite"):
        next(chunks)
    # Through the runner, the chunk's error surfaces as itself, not as an exception group.
    with pytest.raises(EncodingError, match="non-finite"):
        evaluate(open_source(path), [live_url], chunk_size=CHUNK, tensors=False)


def test_safetensors_names_what_is_there_and_checks_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    save_file({"logits": LOGITS, "labels": LABELS[:-1], "single": LOGITS[0], "label": LABELS[:1]}, str(path))
    with pytest.raises(InputError, match=r"no tensor 'y' \(tensors: .*'label', 'labels', 'logits', 'single'"):
        open_source(path, names=Names(labels="y"))
    with pytest.raises(InputError, match=r"'labels' has shape \(44,\), but 'logits' has 45 rows"):
        open_source(path)
    # Rank-1 predictions are one example, sent whole whatever the chunk size.
    single = open_source(path, names=Names(logits="single", labels="label"))
    assert single.num_examples == 1
    (part,) = single.parts(1)
    np.testing.assert_array_equal(part.predictions, LOGITS[0])


def test_multi_hot_labels_anywhere_pick_the_binary_endpoint(
    live_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "LABEL_SCAN_VALUES", 2 * C)  # the labels are scanned 2 rows at a time
    multi_hot = np.eye(C, dtype=np.int64)[RNG.integers(0, C, size=N)]  # one-hot rows: categorical...
    multi_hot[40, :2] = 1  # ...but for one multi-hot row near the end, in the 21st block of the scan
    npz = tmp_path / "binary.npz"
    np.savez(npz, logits=LOGITS, labels=multi_hot)
    assert load_dataset(npz).mode() == "binary"
    pq.write_table(_table(logits=LOGITS, labels=multi_hot), tmp_path / "b.parquet", row_group_size=8)
    save_file({"logits": LOGITS, "labels": multi_hot}, str(tmp_path / "b.safetensors"))
    for name in ("b.parquet", "b.safetensors"):
        source = open_source(tmp_path / name)
        assert source.mode() == "binary"
        _compare(source, npz, url=live_url)
    one_hot = np.eye(C, dtype=np.int64)[LABELS]
    pq.write_table(_table(logits=LOGITS, labels=one_hot), tmp_path / "c.parquet")
    assert open_source(tmp_path / "c.parquet").mode() == "categorical"
