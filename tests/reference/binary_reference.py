"""A plain float64 reference for the contract's binary (sigmoid) cross-entropy and its focal modulation.

Written from `/work/shared/api-contract.md` ("Binary (sigmoid) cross-entropy", "Focal modulation",
"Settled in 1.1") and semantics-binary-metrics.md §A.1, §B.1 and §E, independently of `service/`: one
Python loop per element, `math` functions only, `math.fsum` for every sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .numpy_reference import Reference, _per_example_weights, _summarise


def softplus(x: float) -> float:
    """log(1 + e^x), for every finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def element_loss(
    v: float,
    t: float,
    *,
    from_logits: bool,
    q: float = 1.0,
    epsilon: float = 1e-7,
    gamma: float = 0.0,
    alpha: float | None = None,
) -> float:
    """One element's term: `−[q·t·log p + (1−t)·log(1−p)]`, times `(1−p_t)^γ` and α's weight.

    From logits `log σ(x) = −softplus(−x)` and `log(1 − σ(x)) = −softplus(x)` (optax's form, exact);
    probabilities are clipped to [ε, 1−ε] for the logs (Keras) but enter `p_t` unclipped (Keras).
    """
    if from_logits:
        loss = q * t * softplus(-v) + (1.0 - t) * softplus(v)
        # 1 − p_t = t·σ(−x) + (1−t)·σ(x): two non-negative terms, nothing cancels.
        one_minus_pt = t * math.exp(-softplus(v)) + (1.0 - t) * math.exp(-softplus(-v))
    else:
        p = min(max(v, epsilon), 1.0 - epsilon)
        loss = -(q * t * math.log(p) + (1.0 - t) * math.log(1.0 - p))
        one_minus_pt = t * (1.0 - v) + (1.0 - t) * v
    if gamma:
        loss *= one_minus_pt**gamma
    if alpha is not None:
        loss *= alpha * t + (1.0 - alpha) * (1.0 - t)
    return loss


def binary(
    predictions: Any,
    labels: Any,
    *,
    axis: int | None = -1,
    from_logits: bool = True,
    sample_weight: Any = None,
    class_weight: Sequence[float] | None = None,
    pos_weight: Sequence[float] | None = None,
    label_smoothing: float = 0.0,
    ignore_index: float | None = None,
    epsilon: float = 1e-7,
    focal_gamma: float = 0.0,
    focal_alpha: float | None = None,
) -> Reference:
    """`l_i = Σ_c m_ic·w_c·ℓ_ic / Σ_c m_ic` over the label axis (Keras), or every element its own
    example (`axis` None, rank 1); `W_i = s_i·[Σ_c m_ic > 0]`; per-label weights run along the label
    axis, or the last axis when elementwise; `t = y·(1−ε) + ε/2`."""
    values = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(labels, dtype=np.float64)
    if targets.shape != values.shape:
        targets = targets.reshape(values.shape)  # the trailing-1 squeeze
    elementwise = axis is None or values.ndim == 1
    if elementwise:
        rows, ys = values[..., None], targets[..., None]
        size = values.shape[-1]
    else:
        rows, ys = np.moveaxis(values, axis, -1), np.moveaxis(targets, axis, -1)
        size = rows.shape[-1]
    shape = rows.shape[:-1]

    def per_label(weights: Sequence[float] | None) -> list[float]:
        if weights is None:
            return [1.0] * size
        return [float(w) for w in weights] * (size if len(weights) == 1 else 1)

    cw, pw = per_label(class_weight), per_label(pos_weight)
    sample_w = _per_example_weights(sample_weight, shape)
    contributions: list[float] = []
    weights: list[float] = []
    counted: list[bool] = []
    for index in np.ndindex(*shape):
        terms: list[float] = []
        kept = 0
        for c in range(rows.shape[-1]):
            y = float(ys[index][c])
            if ignore_index is not None and y == ignore_index:
                continue
            kept += 1
            label = index[-1] if elementwise else c
            t = y * (1.0 - label_smoothing) + label_smoothing / 2
            ell = element_loss(
                float(rows[index][c]),
                t,
                from_logits=from_logits,
                q=pw[label],
                epsilon=epsilon,
                gamma=focal_gamma,
                alpha=focal_alpha,
            )
            terms.append(cw[label] * ell)
        s = float(sample_w[index]) if kept else 0.0
        contributions.append(s * math.fsum(terms) / kept if kept and s else 0.0)
        weights.append(s)
        counted.append(kept > 0)
    losses, loss_sum, weight_sum, count, nonzero = _summarise(contributions, weights, counted, shape)
    return Reference(losses, loss_sum, weight_sum, count, nonzero, 1 if elementwise else size)
