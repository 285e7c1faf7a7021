"""A deliberately plain float64 reference for the contract's cross-entropy semantics.

Written from `/work/shared/api-contract.md` ("Semantics", "Settled details") and semantics.md
§3.2, independently of `service/`: one Python loop per example, `math.fsum` for every sum, so the
values are exact to float64 rounding and easy to check by eye. Speed is not a goal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .tensor import decode

REDUCTIONS = ("mean", "sum", "sum_over_batch_size", "sum_by_nonzero_weights", "none")


@dataclass(frozen=True)
class Reference:
    """Per-example weighted contributions `w_i·l_i` plus the statistics a response carries."""

    losses: npt.NDArray[np.float64]
    loss_sum: float
    weight_sum: float
    count: int
    nonzero_weight_count: int
    num_classes: int

    @property
    def shape(self) -> list[int]:
        return list(self.losses.shape)

    def loss(self, reduction: str) -> float | None:
        return reduce(reduction, self.loss_sum, self.weight_sum, self.count, self.nonzero_weight_count)


def reduce(
    reduction: str, loss_sum: float, weight_sum: float, count: int, nonzero_weight_count: int
) -> float | None:
    """The contract's reduced loss from the four statistics; None where it says `loss: null`."""
    if reduction == "none":
        return None
    if reduction == "sum":
        return loss_sum
    denominator = {
        "mean": weight_sum,
        "sum_over_batch_size": float(count),
        "sum_by_nonzero_weights": float(nonzero_weight_count),
    }[reduction]
    return None if denominator == 0 else loss_sum / denominator


def _class_last(predictions: Any, axis: int) -> npt.NDArray[np.float64]:
    array = np.asarray(predictions, dtype=np.float64)
    if not 1 <= array.ndim <= 4:
        raise ValueError(f"predictions must have rank 1-4, got {array.ndim}")
    return np.moveaxis(array, axis, -1)


def _log_probabilities(row: Sequence[float], from_logits: bool, epsilon: float) -> list[float]:
    """log p_c for one example: stable log-softmax of logits, or Keras renormalise-then-clip."""
    if from_logits:
        top = max(range(len(row)), key=row.__getitem__)
        m = row[top]
        # log Σ exp(z − m) is in [0, log C], so (z_c − m) − it never cancels catastrophically; the top
        # term is exactly 1, and log1p of the others keeps a tiny loss (1 + 1e-17 rounds to 1) exact.
        log_sum = math.log1p(math.fsum(math.exp(z - m) for c, z in enumerate(row) if c != top))
        return [(z - m) - log_sum for z in row]
    total = math.fsum(row)
    return [math.log(min(max(p / total, epsilon), 1.0 - epsilon)) for p in row]


def _per_example_weights(sample_weight: Any, shape: tuple[int, ...]) -> npt.NDArray[np.float64]:
    weights = np.asarray(1.0 if sample_weight is None else sample_weight, dtype=np.float64)
    return np.broadcast_to(weights, shape)


def _summarise(
    contributions: list[float], weights: list[float], counted: list[bool], shape: tuple[int, ...]
) -> tuple[npt.NDArray[np.float64], float, float, int, int]:
    losses = np.array(contributions, dtype=np.float64).reshape(shape)
    kept = [w for w, c in zip(weights, counted, strict=True) if c]
    return (
        losses,
        math.fsum(contributions),
        math.fsum(kept),
        len(kept),
        sum(1 for w in kept if w != 0),
    )


def sparse(
    predictions: Any,
    labels: Any,
    *,
    axis: int = -1,
    from_logits: bool = True,
    sample_weight: Any = None,
    class_weight: Sequence[float] | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    epsilon: float = 1e-7,
    focal_gamma: float = 0.0,
    focal_alpha: float | None = None,
) -> Reference:
    """Integer labels; label smoothing by PyTorch's formula (semantics.md §3.2).

    Element contribution: `s_i·[(1−ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c)]`; effective weight
    `w_i = s_i·w_y·[y ≠ ignore_index]`, so `mean` divides by `Σ s_i·w_{y_i}` as torch does. Focal
    (contract 1.1): every `−log p_c` becomes `(1−p_c)^γ·(−log p_c)` and the bracket is times α.
    """
    rows = _class_last(predictions, axis)
    shape = rows.shape[:-1]
    num_classes = rows.shape[-1]
    targets = np.asarray(labels, dtype=np.int64)
    if targets.shape == (*shape, 1):  # Keras convention: a trailing unit axis is squeezed
        targets = targets.reshape(shape)
    if targets.shape != shape:
        raise ValueError(f"labels shape {targets.shape} != per-example shape {shape}")
    class_w = [1.0] * num_classes if class_weight is None else [float(w) for w in class_weight]
    sample_w = _per_example_weights(sample_weight, shape)

    contributions: list[float] = []
    weights: list[float] = []
    counted: list[bool] = []
    for index in np.ndindex(*shape):
        y = int(targets[index])
        if ignore_index is not None and y == ignore_index:
            contributions.append(0.0)
            weights.append(0.0)
            counted.append(False)
            continue
        if not 0 <= y < num_classes:
            raise ValueError(f"label {y} outside [0, {num_classes})")
        log_p = _log_probabilities(rows[index].tolist(), from_logits, epsilon)
        s = float(sample_w[index])
        element = class_w[y] * _focal(log_p[y], focal_gamma)
        if label_smoothing:
            smooth = math.fsum(w * _focal(lp, focal_gamma) for w, lp in zip(class_w, log_p, strict=True))
            element = (1.0 - label_smoothing) * element + label_smoothing / num_classes * smooth
        if focal_alpha is not None:
            element *= focal_alpha
        contributions.append(s * element)
        weights.append(s * class_w[y])
        counted.append(True)
    losses, loss_sum, weight_sum, count, nonzero = _summarise(contributions, weights, counted, shape)
    return Reference(losses, loss_sum, weight_sum, count, nonzero, num_classes)


def categorical(
    predictions: Any,
    labels: Any,
    *,
    axis: int = -1,
    from_logits: bool = True,
    sample_weight: Any = None,
    class_weight: Sequence[float] | None = None,
    label_smoothing: float = 0.0,
    epsilon: float = 1e-7,
    focal_gamma: float = 0.0,
    focal_alpha: float | None = None,
) -> Reference:
    """Target distributions: `l_i = −Σ_c w_c·t_c·log p_c` with `t ← (1−ε)·t + ε/C`; `w_i = s_i`.
    Focal (Keras CategoricalFocalCrossentropy): `l_i = α·Σ_c w_c·t_c·(1−p_c)^γ·(−log p_c)`."""
    rows = _class_last(predictions, axis)
    targets = _class_last(labels, axis)
    if targets.shape != rows.shape:
        raise ValueError(f"labels shape {targets.shape} != predictions shape {rows.shape}")
    shape = rows.shape[:-1]
    num_classes = rows.shape[-1]
    class_w = [1.0] * num_classes if class_weight is None else [float(w) for w in class_weight]
    sample_w = _per_example_weights(sample_weight, shape)

    contributions: list[float] = []
    weights: list[float] = []
    for index in np.ndindex(*shape):
        log_p = _log_probabilities(rows[index].tolist(), from_logits, epsilon)
        smoothed = [(1.0 - label_smoothing) * t + label_smoothing / num_classes for t in targets[index]]
        # A term whose weight·target is 0 contributes 0 even at a −inf logit (a masked class).
        element = math.fsum(
            (w * t) * _focal(lp, focal_gamma)
            for w, t, lp in zip(class_w, smoothed, log_p, strict=True)
            if w * t != 0
        )
        if focal_alpha is not None:
            element *= focal_alpha
        s = float(sample_w[index])
        contributions.append(s * element)
        weights.append(s)
    losses, loss_sum, weight_sum, count, nonzero = _summarise(
        contributions, weights, [True] * len(weights), shape
    )
    return Reference(losses, loss_sum, weight_sum, count, nonzero, num_classes)


def _focal(log_p: float, gamma: float) -> float:
    """`(1−p)^γ·(−log p)`; `1 − p = −expm1(log p)` keeps a confident prediction's tiny `1 − p` exact."""
    if not gamma:
        return -log_p
    return (-math.expm1(log_p)) ** gamma * -log_p


def from_request(endpoint: str, body: Mapping[str, Any]) -> Reference:
    """The reference for a contract request body sent to `/v1/cross-entropy/{endpoint}`."""
    from_logits = "logits" in body
    options: dict[str, Any] = {
        "axis": body.get("axis", -1),
        "from_logits": from_logits,
        "sample_weight": decode(body.get("sample_weight")),
        "class_weight": body.get("class_weight"),
        "label_smoothing": body.get("label_smoothing", 0.0),
        "epsilon": body.get("epsilon", 1e-7),
        "focal_gamma": body.get("focal_gamma", 0.0),
        "focal_alpha": body.get("focal_alpha"),
    }
    predictions = decode(body["logits" if from_logits else "probabilities"])
    if body.get("precision") == "float32":
        # Computing in float32 means on the float32 values: a probability near 1 rounds by a relative
        # 6e-8, which −log(1 − p) amplifies by 1/(1 − p).
        predictions = np.asarray(predictions, dtype=np.float32).astype(np.float64)
    labels = decode(body["labels"])
    if endpoint == "binary":
        from .binary_reference import binary

        return binary(
            predictions,
            labels,
            ignore_index=body.get("ignore_index"),
            pos_weight=body.get("pos_weight"),
            **options,
        )
    if endpoint == "sparse":
        return sparse(predictions, labels, ignore_index=body.get("ignore_index"), **options)
    if endpoint == "categorical":
        return categorical(predictions, labels, **options)
    raise ValueError(f"unknown endpoint {endpoint!r}")
