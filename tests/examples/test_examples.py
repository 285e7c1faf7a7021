"""Each example runs as a script against a running server and prints the right number.

Expected values: semantics.md §8b published numbers, or the float64 reference in tests/reference on
the example's own synthetic data (the data generator is not what is under test).
"""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from reference import numpy_reference
from reference.vectors import L3, P_ZERO, V20_CORPUS_PERPLEXITY, Y3_IGNORED

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PUBLISHED_REL = 2e-6
FLOAT32_REL = 1e-5  # the examples send float32 Tensors, so the service computes in float32


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(name: str, url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _printed(output: str, label: str) -> float:
    match = re.search(rf"^{re.escape(label)}: (\S+)$", output, flags=re.MULTILINE)
    assert match, output
    return float(match.group(1))


def test_token_classification_published_v14(live_url: str) -> None:
    example = _load("token_classification")
    result = example.token_loss([live_url], np.asarray(L3), np.asarray(Y3_IGNORED), 1)
    assert result.chunks == 2
    assert result.totals.count == 5
    assert result.loss == pytest.approx(1.779560, rel=PUBLISHED_REL)  # V14 with y3[1,2] = -100


def test_token_classification_script(live_url: str) -> None:
    example = _load("token_classification")
    logits, labels = example.synthetic_batch(3, 30, 12, 5)
    args = ["--sentences", "30", "--max-tokens", "12", "--tags", "5", "--seed", "3", "--chunk-size", "7"]
    output = _run("token_classification", live_url, *args)
    reference = numpy_reference.sparse(logits.astype(np.float64), labels, ignore_index=-100)
    assert _printed(output, "mean token loss") == pytest.approx(reference.loss("mean"), rel=FLOAT32_REL)
    assert f"tokens counted: {reference.count} of 360" in output


def test_perplexity_published_v20(live_url: str) -> None:
    example = _load("perplexity")
    perplexity = example.corpus_perplexity([live_url], np.asarray(L3), np.asarray(Y3_IGNORED), 1)
    assert perplexity == pytest.approx(V20_CORPUS_PERPLEXITY, rel=PUBLISHED_REL)


def test_perplexity_script(live_url: str) -> None:
    example = _load("perplexity")
    logits, targets = example.synthetic_corpus(5, 12, 10, 8)
    args = ["--sequences", "12", "--length", "10", "--vocab", "8", "--seed", "5", "--chunk-size", "5"]
    output = _run("perplexity", live_url, *args)
    reference = numpy_reference.sparse(logits.astype(np.float64), targets, ignore_index=-100)
    expected = math.exp(reference.loss("mean") or math.nan)
    assert _printed(output, "corpus perplexity") == pytest.approx(expected, rel=FLOAT32_REL)


def test_keras_probabilities_published_v13(live_url: str) -> None:
    example = _load("keras_probabilities")
    class_weight = [1.0, 2.0, 0.5]
    result = example.keras_loss([live_url], np.asarray(P_ZERO), np.array([2, 1]), class_weight, 1)
    # Keras (jax/torch/numpy backends) per-example losses for these rows: 16.11810, 1.203973.
    expected = (0.5 * 16.11810 + 2.0 * 1.203973) / 2
    assert result.loss == pytest.approx(expected, rel=PUBLISHED_REL)
    assert result.reductions["mean"] == pytest.approx(expected * 2 / 2.5, rel=PUBLISHED_REL)


def test_keras_probabilities_script(live_url: str) -> None:
    example = _load("keras_probabilities")
    probabilities, labels, class_weight = example.synthetic_predictions(9, 300, 4)
    args = ["--examples", "300", "--classes", "4", "--seed", "9", "--chunk-size", "64"]
    output = _run("keras_probabilities", live_url, *args)
    reference = numpy_reference.sparse(
        probabilities.astype(np.float64), labels, from_logits=False, class_weight=class_weight
    )
    printed = _printed(output, "keras sum_over_batch_size")
    assert printed == pytest.approx(reference.loss("sum_over_batch_size"), rel=FLOAT32_REL)
    mean = _printed(output, "torch-style weighted mean")
    assert mean == pytest.approx(reference.loss("mean"), rel=FLOAT32_REL)
