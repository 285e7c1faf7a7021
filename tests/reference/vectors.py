"""semantics.md §8b test vectors, expressed as contract request bodies with the published numbers.

Logits are rounded to float32 because the libraries (and the published float64 "ref") ran on
float32 inputs; soft targets stay decimal so their rows sum to 1 in float64. Expected values are the
published 7-significant-digit numbers, never outputs of the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tensor import tensor

# Printed to 7 significant digits and float32 libraries agree to about one unit in the 7th digit.
PUBLISHED_REL = 2e-6


def _f32(values: Any) -> Any:
    return np.asarray(values, dtype=np.float32).astype(np.float64).tolist()


def _transpose_class_axis(values: list[Any]) -> Any:
    """Channels-last (N, T, C) to PyTorch's (N, C, T)."""
    return np.transpose(np.asarray(values), (0, 2, 1)).tolist()


L = _f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
Y = [0, 1, 2, 1]
Y_IGNORED = [0, -100, 2, 1]
ONE_HOT_Y = np.eye(3)[Y].tolist()
S = [1.0, 0.0, 2.0, 0.5]
CW = [0.2, 1.0, 3.0]
T = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]
L3 = _f32(
    [
        [[0.3, -1.2, 2.0, 0.5], [1.5, 0.0, -0.7, 0.9], [-2.0, 0.4, 0.4, 1.1]],
        [[0.0, 0.0, 3.0, -1.0], [2.2, -0.3, 0.8, 0.1], [-0.5, -0.5, -0.5, -0.5]],
    ]
)
Y3 = [[2, 3, 0], [1, 0, 3]]
Y3_IGNORED = [[2, 3, 0], [1, 0, -100]]
P4 = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [1 / 3, 1 / 3, 1 / 3]]
# V13 rows 0 and 2 (a zero probability hits the clip); V16 rows that are finite by contract.
P_ZERO = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]
EXTREME = [[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0]]
FLOAT64_EPS = float(np.finfo(np.float64).eps)
FLOAT32_EPS = float(np.finfo(np.float32).eps)

V01_LOSSES = [0.4170300, 0.1531782, 0.06588390, 1.098612]
V14_LOSSES = [[0.3691993, 1.232731, 3.812077], [3.111443, 0.3723483, 1.386294]]


@dataclass(frozen=True)
class Vector:
    """One request body; `loss` maps each reduction to the published loss (None = `loss: null`)."""

    id: str
    endpoint: str
    body: dict[str, Any]
    loss: dict[str, float | None] = field(default_factory=dict)
    losses: Any = None
    rel: float = PUBLISHED_REL

    @property
    def reductions(self) -> list[str]:
        return list(self.loss) or ["none"]


VECTORS = [
    Vector("V01", "sparse", {"logits": L, "labels": Y}, losses=V01_LOSSES),
    Vector("V01-onehot", "categorical", {"logits": L, "labels": ONE_HOT_Y}, losses=V01_LOSSES),
    Vector(
        "V02",
        "sparse",
        {"logits": L, "labels": Y},
        {"mean": 0.4336761, "sum": 1.734704, "sum_over_batch_size": 0.4336761},
    ),
    Vector(
        "V04",
        "sparse",
        {"logits": L, "labels": Y, "class_weight": CW},
        {"sum": 1.532848, "mean": 0.2947785},
        losses=[0.08340600, 0.1531782, 0.1976517, 1.098612],
    ),
    Vector(
        "V05",
        "sparse",
        {"logits": L, "labels": Y, "sample_weight": S},
        {
            "sum": 1.098104,
            "sum_over_batch_size": 0.2745260,
            "mean": 0.3137440,
            "sum_by_nonzero_weights": 0.3660347,
        },
    ),
    Vector(
        "V06",
        "sparse",
        {"logits": L, "labels": Y, "label_smoothing": 0.1},
        {"mean": 0.5620094, "sum": 2.248038},
        losses=[0.5136967, 0.3365115, 0.2992172, 1.098612],
    ),
    # TF v1 softmax_cross_entropy / Keras CCE build the smoothed one-hot rows: same numbers.
    Vector(
        "V06-onehot",
        "categorical",
        {"logits": L, "labels": ONE_HOT_Y, "label_smoothing": 0.1},
        {"sum_over_batch_size": 0.5620094, "sum": 2.248038},
        losses=[0.5136967, 0.3365115, 0.2992172, 1.098612],
    ),
    Vector(
        "V07",
        "sparse",
        {"logits": L, "labels": Y, "class_weight": CW, "label_smoothing": 0.1},
        {"mean": 0.4491837, "sum": 2.335755},
        losses=[0.3567829, 0.5226387, 0.3137770, 1.142557],
    ),
    Vector(
        "V08",
        "sparse",
        {"logits": L, "labels": Y_IGNORED, "ignore_index": -100},
        {"mean": 0.5271754, "sum": 1.581526, "sum_over_batch_size": 0.5271754},
    ),
    Vector(
        "V08-weighted",
        "sparse",
        {"logits": L, "labels": Y_IGNORED, "ignore_index": -100, "sample_weight": S},
        {"sum_over_batch_size": 0.3660347, "mean": 0.3137440},
    ),
    Vector(
        "V09",
        "sparse",
        {
            "logits": L,
            "labels": Y_IGNORED,
            "ignore_index": -100,
            "class_weight": CW,
            "label_smoothing": 0.1,
        },
        {"mean": 0.4316944},
        losses=[0.3567829, 0.0, 0.3137770, 1.142557],
    ),
    # torch's NaN mean becomes the contract's `loss: null`; sum stays 0 as in every library.
    Vector(
        "V10",
        "sparse",
        {"logits": L, "labels": [-100] * 4, "ignore_index": -100},
        {"mean": None, "sum": 0.0, "sum_over_batch_size": None, "sum_by_nonzero_weights": None},
        losses=[0.0, 0.0, 0.0, 0.0],
    ),
    Vector(
        "V11",
        "categorical",
        {"logits": L, "labels": T},
        {"mean": 1.043676},
        losses=[0.8070300, 0.7031782, 1.565884, 1.098612],
    ),
    Vector(
        "V11-class-weight",
        "categorical",
        {"logits": L, "labels": T, "class_weight": CW},
        {"mean": 1.367071},
    ),
    # One-hot rows as probability targets divide by N, unlike index targets (V04: 0.2947785).
    Vector(
        "V11-onehot-class-weight",
        "categorical",
        {"logits": L, "labels": ONE_HOT_Y, "class_weight": CW},
        {"mean": 0.3832121},
    ),
    Vector(
        "V12",
        "categorical",
        {"logits": L, "labels": T, "label_smoothing": 0.1},
        {"mean": 1.111009},
    ),
    # V13 without its row [2, 1, 1], which the contract rejects (> 1); the Keras non-TF variant.
    Vector(
        "V13",
        "sparse",
        {"probabilities": P_ZERO, "labels": [2, 1]},
        losses=[16.11810, 1.203973],
    ),
    Vector(
        "V13-onehot",
        "categorical",
        {"probabilities": P_ZERO, "labels": [[0, 0, 1], [0, 1, 0]]},
        losses=[16.11810, 1.203973],
    ),
    # Row [2, 1, 1] halved into [0, 1]: renormalised, it is the same distribution (Keras 0.6931472).
    Vector(
        "V13-row2-halved",
        "sparse",
        {"probabilities": [[1.0, 0.5, 0.5]], "labels": [0]},
        losses=[0.6931472],
    ),
    Vector(
        "V14",
        "sparse",
        {"logits": L3, "labels": Y3},
        {"mean": 1.714015},
        losses=V14_LOSSES,
    ),
    Vector(
        "V14-axis1",
        "sparse",
        {"logits": _transpose_class_axis(L3), "labels": Y3, "axis": 1},
        {"mean": 1.714015},
        losses=V14_LOSSES,
    ),
    Vector(
        "V14-onehot-axis1",
        "categorical",
        {
            "logits": _transpose_class_axis(L3),
            "labels": _transpose_class_axis(np.eye(4)[Y3].tolist()),
            "axis": 1,
        },
        {"mean": 1.714015},
        losses=V14_LOSSES,
    ),
    Vector(
        "V14-ignored",
        "sparse",
        {"logits": L3, "labels": Y3_IGNORED, "ignore_index": -100},
        {"mean": 1.779560, "sum_over_batch_size": 1.779560},
    ),
    # Keras "mean_with_sample_weight" (5.006066, ÷ un-broadcast Σ s) has no contract reduction.
    Vector(
        "V15",
        "sparse",
        {"logits": L3, "labels": Y3, "sample_weight": [[1.0], [3.0]]},
        {
            "sum": 20.02426,
            "sum_over_batch_size": 3.337377,  # Keras default, ÷ 6
            "sum_by_nonzero_weights": 3.337377,  # TF v1 default, ÷ 6 non-zero weights
            "mean": 1.668689,  # TF v1 MEAN, ÷ Σ broadcast weights = 12
        },
    ),
    # The two rows of V16 that are finite by contract; −inf needs a Tensor (JSON has no infinity).
    Vector(
        "V16-finite",
        "sparse",
        {"logits": tensor(EXTREME, "float32"), "labels": [2, 1]},
        losses=[2000.0, 1.313262],
    ),
    Vector(
        "V16-finite-float64",
        "sparse",
        {"logits": tensor(EXTREME, "float64"), "labels": [2, 1]},
        losses=[2000.0, 1.313262],
    ),
    Vector(
        "V17-huge",
        "sparse",
        {"logits": _f32([[3.4e38, 3.4e38, 0.0]]), "labels": [0]},
        losses=[0.6931472],
    ),
    Vector(
        "V17-huge-float32",
        "sparse",
        {"logits": tensor([[3.4e38, 3.4e38, 0.0]], "float32"), "labels": [0]},
        losses=[0.6931472],
    ),
    Vector("V17-wide", "sparse", {"logits": [[1e30, 0.0, -1e30]], "labels": [1]}, losses=[1e30]),
    Vector(
        "V17-wide-float32",
        "sparse",
        {"logits": tensor([[1e30, 0.0, -1e30]], "float32"), "labels": [1]},
        losses=[1e30],
    ),
    # "ref on rounded inputs": the service upcasts half precision to float32 (precision null).
    Vector(
        "V18-float16",
        "sparse",
        {"logits": tensor(L, "float16"), "labels": tensor(Y, "int32")},
        losses=[0.4170276, 0.1531782, 0.06588390, 1.098612],
    ),
    Vector(
        "V18-float16-as-float64",
        "sparse",
        {"logits": tensor(L, "float16"), "labels": tensor(Y, "int64"), "precision": "float64"},
        losses=[0.4170276, 0.1531782, 0.06588390, 1.098612],
    ),
    Vector(
        "V18-bfloat16",
        "sparse",
        {"logits": tensor(L, "bfloat16"), "labels": tensor(Y, "int64")},
        losses=[0.4170396, None, None, None],
    ),
    Vector(
        "V18-bfloat16-as-float64",
        "sparse",
        {"logits": tensor(L, "bfloat16"), "labels": Y, "precision": "float64"},
        losses=[0.4170396, None, None, None],
    ),
    # sklearn log_loss = probabilities with epsilon = the dtype's machine epsilon (rows sum to 1).
    Vector(
        "V19",
        "sparse",
        {"probabilities": P4, "labels": Y, "epsilon": FLOAT64_EPS},
        {"mean": 0.5928945, "sum": 2.371578},
    ),
    Vector(
        "V19-weighted",
        "sparse",
        {"probabilities": P4, "labels": Y, "epsilon": FLOAT64_EPS, "sample_weight": S},
        {"mean": 0.6549358, "sum": 2.292275},
    ),
    Vector(
        "V19-zero-probability",
        "sparse",
        {"probabilities": P_ZERO, "labels": [2, 1], "epsilon": FLOAT64_EPS},
        {"mean": 18.62381},
    ),
    Vector(
        "V19-zero-probability-float32-eps",
        "sparse",
        {"probabilities": P_ZERO, "labels": [2, 1], "epsilon": FLOAT32_EPS},
        {"mean": 8.573179},
    ),
]

# V20: HF-evaluate perplexity on L3 with y3[1,2] masked. Each sequence's mean NLL comes from a
# request whose per-sequence sample weights select it; the corpus value uses every counted token.
V20_BODY = {"logits": L3, "labels": Y3_IGNORED, "ignore_index": -100, "reduction": "mean"}
V20_SEQUENCE_WEIGHTS = ([[1.0], [0.0]], [[0.0], [1.0]])
V20_SEQUENCE_PERPLEXITY = (6.077959, 5.708153)
V20_MEAN_PERPLEXITY = 5.893056
V20_CORPUS_PERPLEXITY = 5.927246
