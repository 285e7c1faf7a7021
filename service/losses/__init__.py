"""The numerical core: softmax cross-entropy in pure NumPy, usable as a library on its own.

>>> import numpy as np
>>> from service.losses import sparse_cross_entropy
>>> result = sparse_cross_entropy(np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), np.array([0, 1]),
...                               reduction="sum")
>>> round(result.loss, 6), result.count
(0.570208, 2)
"""

from .cross_entropy import categorical_cross_entropy, sparse_cross_entropy
from .errors import Issue, LossInputError, LossWarning
from .result import REDUCTIONS, LossResult, Reduction, reduce_statistics

__all__ = [
    "REDUCTIONS",
    "Issue",
    "LossInputError",
    "LossResult",
    "LossWarning",
    "Reduction",
    "categorical_cross_entropy",
    "reduce_statistics",
    "sparse_cross_entropy",
]
