"""The numerical core: cross-entropy losses in pure NumPy, usable as a library on its own.

>>> import numpy as np
>>> from service.losses import sparse_cross_entropy
>>> result = sparse_cross_entropy(np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), np.array([0, 1]),
...                               reduction="sum")
>>> round(result.loss, 6), result.count
(0.570208, 2)
"""

from .binary import binary_cross_entropy
from .categorical import categorical_cross_entropy
from .errors import Issue, LossInputError, LossWarning
from .inputs import OPTION_BOUNDS
from .result import (
    REDUCTIONS,
    STATISTICS,
    LossResult,
    MetricResult,
    Reduction,
    Statistics,
    reduce_statistics,
)
from .sparse import sparse_cross_entropy

__all__ = [
    "OPTION_BOUNDS",
    "REDUCTIONS",
    "STATISTICS",
    "Issue",
    "LossInputError",
    "LossResult",
    "LossWarning",
    "MetricResult",
    "Reduction",
    "Statistics",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "reduce_statistics",
    "sparse_cross_entropy",
]
