"""Metrics over a chunked dataset: the combined statistics and values equal one request over the whole
dataset (1e-12 relative) and the float64 reference, for every metric; the summary, JSON and --plot."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from reference import metric_reference as mref

from service.evaluate import Dataset, RequestOptions, evaluate
from service.evaluate.cli import EXIT_OK, EXIT_USAGE, main

ALL = ("accuracy", "top_k_accuracy", "perplexity", "calibration_error", "brier_score")
EXACT = {"rel": 1e-12, "abs": 1e-300}
RNG = np.random.default_rng(2027)

TOKENS = RNG.integers(0, 6, size=(23, 9))
TOKENS[RNG.random((23, 9)) < 0.3] = -100
TOKENS[4:8] = -100  # a chunk of padding only: its metrics are null on their own, not over the dataset
LOGITS = np.round(RNG.normal(size=(23, 9, 6)) * 2, 1)  # rounded: ties in the ranks and the argmax
WEIGHTS = RNG.random((23, 1)) + 0.5
SOFT = RNG.dirichlet(np.ones(4), size=17)
SOFT_LOGITS = RNG.normal(size=(17, 4)).astype(np.float32)


def _whole(url: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/v1/cross-entropy/{endpoint}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["metrics"]
    return payload


def _assert_same(result: Any, whole: dict[str, Any], expected: dict[str, Any]) -> None:
    for name in ALL:
        value = result.metrics[name]
        assert value == pytest.approx(whole[name]["value"], **EXACT), name
        assert value == pytest.approx(expected[name][0], rel=1e-9), name
        stats = result.metric_statistics[name]
        if name == "calibration_error":
            for key in ("count", "confidence_sum", "correct_sum"):
                column = [slot[key] for slot in whole[name]["bins"]]
                np.testing.assert_allclose(stats[key], column, rtol=1e-12, atol=1e-15)
        else:
            for key, want in whole[name].items():
                if key != "value":
                    assert stats[key] == pytest.approx(want, **EXACT), (name, key)


@pytest.mark.parametrize("tensors", [True, False], ids=["tensor", "json"])
def test_sparse_metrics_combine_exactly(live_url: str, tensors: bool) -> None:
    options = {"ignore_index": -100, "top_k": 2, "calibration_bins": 7}
    result = evaluate(
        Dataset(LOGITS, TOKENS, False, WEIGHTS),
        [live_url],
        options=RequestOptions(metrics=ALL, ignore_index=-100, top_k=2, calibration_bins=7),
        chunk_size=4,
        tensors=tensors,
        concurrency=3,
    )
    assert result.chunks > 1
    body = {"logits": LOGITS.tolist(), "labels": TOKENS.tolist(), "sample_weight": WEIGHTS.tolist()}
    whole = _whole(live_url, "sparse", {**body, "metrics": list(ALL), **options})
    expected = mref.sparse_metrics(
        LOGITS, TOKENS, sample_weight=np.broadcast_to(WEIGHTS, TOKENS.shape), ignore_index=-100, k=2, bins=7
    )
    _assert_same(result, whole, expected)
    assert result.warnings == []  # the padding chunk's null metrics are no warning for the dataset
    assert set(result.to_json()["metrics"]) == set(ALL)


def test_categorical_metrics_combine_exactly(live_url: str) -> None:
    result = evaluate(
        Dataset(SOFT_LOGITS, SOFT),
        [live_url],
        options=RequestOptions(metrics=ALL, top_k=1),
        chunk_size=5,
    )
    body = {"logits": SOFT_LOGITS.astype(np.float64).tolist(), "labels": SOFT.tolist(), "top_k": 1}
    whole = _whole(live_url, "categorical", {**body, "metrics": list(ALL), "precision": "float32"})
    # Float32 on the wire: the reference sees the float32 values, the comparison allows float32 rounding.
    expected = mref.categorical_metrics(SOFT_LOGITS.astype(np.float64), SOFT, k=1)
    for name in ALL:
        assert result.metrics[name] == pytest.approx(whole[name]["value"], **EXACT), name
        assert result.metrics[name] == pytest.approx(expected[name][0], rel=1e-5), name


def test_an_all_ignored_dataset_gives_null_metrics_with_warnings(live_url: str) -> None:
    result = evaluate(
        Dataset(np.zeros((6, 3)), np.full(6, -100)),
        [live_url],
        options=RequestOptions(metrics=("accuracy", "perplexity"), ignore_index=-100),
        chunk_size=2,
    )
    assert result.metrics == {"accuracy": None, "perplexity": None}
    nulls = [w for w in result.warnings if w["message"].startswith(("accuracy", "perplexity"))]
    assert len(nulls) == 2


def test_cli_summary_json_and_reliability_diagram(
    live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.npz"
    np.savez(data, logits=LOGITS[:, 0], labels=np.abs(TOKENS[:, 0]) % 6)
    out, png = tmp_path / "result.json", tmp_path / "calibration.png"
    args = [str(data), "--url", live_url, "--chunk-size", "5", "--no-progress", "-o", str(out)]
    code = main([*args, "--metrics", "accuracy,top_k_accuracy", "--top-k", "3", "--plot", str(png)])
    stdout = capsys.readouterr().out
    assert code == EXIT_OK
    assert "top_k_accuracy (k=3)" in stdout
    assert "calibration_error" in stdout  # --plot adds it
    metrics = json.loads(out.read_text())["metrics"]
    assert set(metrics) == {"accuracy", "top_k_accuracy", "calibration_error"}
    assert len(metrics["calibration_error"]["bins"]) == 16
    content = png.read_bytes()
    assert len(content) > 1000
    assert content.startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_without_matplotlib_names_the_extra(
    live_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    data = tmp_path / "data.npz"
    np.savez(data, logits=LOGITS[:4, 0], labels=np.zeros(4, dtype=np.int64))
    code = main([str(data), "--url", live_url, "--no-progress", "--plot", str(tmp_path / "c.png")])
    assert code == EXIT_USAGE
    assert "loss-service[plot]" in capsys.readouterr().err
