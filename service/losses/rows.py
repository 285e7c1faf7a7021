"""Row-wise log-sum-exp terms of a ``(rows, classes)`` logits matrix, computed stably and cache-blocked.

For each row ``i`` with maximum ``m_i`` and shifted logits ``d_ic = z_ic − m_i`` this yields
``log s_i = log Σ_c exp(d_ic)`` (summed in float64) and, optionally, ``Σ_c q_ic d_ic`` for a weight vector
or matrix ``q`` — everything a cross-entropy needs without ever materialising ``log_softmax``:
``−Σ_c q_c log_softmax(z)_c = −Σ_c q_c d_c + (Σ_c q_c)·log s``.
"""

from __future__ import annotations

import numpy as np

# Rows are processed in blocks of about this many elements so the shift, the exp and the sums run on data
# already in the L2 cache instead of streaming the whole matrix through memory once per pass.
BLOCK_ELEMENTS = 1 << 15


def row_max(z: np.ndarray) -> np.ndarray:
    """Per-row maximum; NaN when a row holds a NaN, so one pass also detects bad rows."""
    rows, classes = z.shape
    if classes <= 16 and rows > classes:
        # Few classes: an element-wise maximum over columns vectorises far better than a short reduction.
        m = z[:, 0].copy()
        for c in range(1, classes):
            np.maximum(m, z[:, c], out=m)
        return m
    return np.asarray(z.max(axis=1))


def logsumexp_terms(
    z: np.ndarray, m: np.ndarray, q: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``log s`` and ``Σ_c q_c d_c`` per row (the latter ``None`` without ``q``).

    ``m`` must be finite (callers replace the max of an all ``-inf`` row by 0). ``q`` is ``(classes,)``
    or ``(rows, classes)``; a ``-inf`` logit meeting ``q = 0`` contributes 0, not NaN.
    """
    rows, classes = z.shape
    log_s = np.empty(rows, dtype=np.float64)
    dot = None if q is None else np.empty(rows, dtype=np.float64)
    block_rows = max(1, BLOCK_ELEMENTS // max(classes, 1))
    buffer = np.empty((min(block_rows, rows), classes), dtype=z.dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for start in range(0, rows, block_rows):
            stop = min(rows, start + block_rows)
            d = buffer[: stop - start]
            np.subtract(z[start:stop], m[start:stop, None], out=d)
            if dot is not None and q is not None:
                qb = q if q.ndim == 1 else q[start:stop]
                dot[start:stop] = _weighted_row_sum(d, qb)
            np.exp(d, out=d)
            np.log(np.add.reduce(d, axis=1, dtype=np.float64), out=log_s[start:stop])
    return log_s, dot


def _weighted_row_sum(d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``Σ_c q_c d_c`` in float64, with ``0·(−inf)`` taken as 0 (a masked class the target ignores)."""
    total = d @ q if q.ndim == 1 else np.einsum("ij,ij->i", d, q, dtype=np.float64)
    bad = np.isnan(total)
    if bad.any():
        qb = q if q.ndim == 1 else q[bad]
        masked = np.where(qb == 0, 0.0, d[bad] * qb)
        total[bad] = masked.sum(axis=1)
    return np.asarray(total, dtype=np.float64)
