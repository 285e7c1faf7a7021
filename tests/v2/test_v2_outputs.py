"""Output tensors are generated from the core's names: statistics and whatever metrics a result holds."""

from __future__ import annotations

import numpy as np

from service.api.v2.outputs import tensors
from service.losses import STATISTICS, LossResult, MetricResult


def result(**metrics: MetricResult) -> LossResult:
    return LossResult(
        loss=None,
        reduction="none",
        losses=np.array([0.5, 0.25]),
        num_classes=3,
        statistics={"loss_sum": 0.75, "weight_sum": 2.0, "count": 2, "nonzero_weight_count": 2},
        precision="float32",
        metrics=metrics,
    )


def test_statistics_and_metrics_become_outputs_and_null_values_are_left_out() -> None:
    bins = np.array([0.0, 1.0, 1.0])
    outcome = result(
        top_k_accuracy=MetricResult(0.5, {"k": 5, "hits": 1.0, "total": 2.0}),
        calibration_error=MetricResult(None, {"count": bins, "confidence_sum": bins * 0.5}),
    )
    produced = {t.name: (t.datatype, t.array.tolist()) for t in tensors(outcome, per_example=True)}
    assert list(produced) == [
        "losses",
        *STATISTICS,
        "metric.top_k_accuracy",
        "metric.top_k_accuracy.k",
        "metric.top_k_accuracy.hits",
        "metric.top_k_accuracy.total",
        "metric.calibration_error.count",
        "metric.calibration_error.confidence_sum",
    ]
    assert produced["losses"] == ("FP32", [0.5, 0.25])
    assert produced["count"] == ("INT64", [2])
    assert produced["loss_sum"] == ("FP64", [0.75])
    assert produced["metric.top_k_accuracy"] == ("FP64", [0.5])
    assert produced["metric.top_k_accuracy.k"] == ("INT64", [5])
    assert produced["metric.top_k_accuracy.hits"] == ("FP64", [1.0])
    assert produced["metric.calibration_error.count"] == ("FP64", [0.0, 1.0, 1.0])


def test_per_example_false_leaves_the_losses_out() -> None:
    assert "losses" not in {t.name for t in tensors(result(), per_example=False)}
