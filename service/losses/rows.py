"""Row-wise log-sum-exp terms of a ``(rows, classes)`` logits matrix, computed stably and cache-blocked.

For each row ``i`` with a shift ``a_i`` and shifted logits ``d_ic = z_ic − a_i`` this yields
``log s_i = log Σ_c exp(d_ic)`` (summed in float64) and, for weights ``q``, ``Σ_c q_c d_ic`` — everything
a cross-entropy needs without ever materialising ``log_softmax``:
``−Σ_c q_c log_softmax(z)_c = −Σ_c q_c d_c + (Σ_c q_c) log s``.

The shift is the row maximum (the textbook stable form) unless the caller supplies one: the sparse loss
shifts by the target logit, which saves the maximum pass and makes the loss simply ``log s``. Either way
one term of ``s`` is ``exp(0) = 1`` exactly, so a confident prediction's tiny loss keeps its relative
accuracy — which ``log Σ exp(z) − z_y`` loses to the rounding of ``exp(z_y)``. Rows where the supplied
shift overflows (a logit far above the target's) are redone with the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Rows are processed in blocks of about this many elements, so the passes over a block (max, shift,
# exp, sums) run on data already in the L2 cache instead of streaming the matrix through memory each time.
BLOCK_ELEMENTS = 1 << 16
# Short rows reduce badly along their own axis; below this many classes the maximum goes column-wise.
NARROW = 64


@dataclass(frozen=True)
class RowTerms:
    shift: np.ndarray
    log_s: np.ndarray
    dots: list[np.ndarray]
    # A NaN, +inf or a row without a finite logit was seen: the caller must validate before trusting rows.
    suspicious: bool


def row_max(z: np.ndarray) -> np.ndarray:
    """Per-row maximum; NaN when a row holds a NaN."""
    rows, classes = z.shape
    if classes < NARROW and rows > classes:
        # Few classes: an element-wise maximum over columns vectorises far better than short reductions.
        m = z[:, 0].copy()
        for c in range(1, classes):
            np.maximum(m, z[:, c], out=m)
        return m
    return np.asarray(z.max(axis=1))


def logsumexp_terms(
    z: np.ndarray, weights: tuple[np.ndarray, ...] = (), shift: np.ndarray | None = None
) -> RowTerms:
    """Shift, ``log s`` and ``Σ_c q_c d_c`` for each ``q`` in ``weights`` (``(classes,)`` or a
    ``(rows, classes)`` matrix). A ``-inf`` logit meeting ``q = 0`` contributes 0, not NaN."""
    rows, classes = z.shape
    given = shift is not None
    shift = np.empty(rows, dtype=z.dtype) if shift is None else shift.astype(z.dtype)
    log_s = np.empty(rows, dtype=np.float64)
    dots = [np.empty(rows, dtype=np.float64) for _ in weights]
    block_rows = max(1, BLOCK_ELEMENTS // max(classes, 1))
    buffer = np.empty((min(block_rows, rows), classes), dtype=z.dtype)
    ones = np.ones(classes, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for start in range(0, rows, block_rows):
            stop = min(rows, start + block_rows)
            _block_terms(
                z[start:stop],
                buffer[: stop - start],
                shift,
                log_s,
                dots,
                weights,
                start,
                ones,
                find_max=not given,
            )
        if given:
            redo = np.flatnonzero(~np.isfinite(log_s))
            if redo.size:
                _block_terms(
                    z[redo],
                    np.empty((redo.size, classes), z.dtype),
                    shift,
                    log_s,
                    dots,
                    weights,
                    0,
                    ones,
                    find_max=True,
                    rows=redo,
                )
    suspicious = bool(rows) and not bool(np.isfinite(shift).all() and np.isfinite(log_s).all())
    return RowTerms(shift=shift, log_s=log_s, dots=dots, suspicious=suspicious)


def _block_terms(
    block: np.ndarray,
    d: np.ndarray,
    shift: np.ndarray,
    log_s: np.ndarray,
    dots: list[np.ndarray],
    weights: tuple[np.ndarray, ...],
    start: int,
    ones: np.ndarray,
    *,
    find_max: bool,
    rows: np.ndarray | None = None,
) -> None:
    """Fill the terms of ``block``: rows ``start:start+len(block)``, or the listed ``rows``."""
    at: slice | np.ndarray = slice(start, start + len(block)) if rows is None else rows
    if find_max:
        shift[at] = row_max(block)
    np.subtract(block, shift[at][:, None], out=d)
    for dot, q in zip(dots, weights, strict=True):
        dot[at] = _weighted_row_sum(d, q if q.ndim == 1 else q[at])
    np.exp(d, out=d)
    log_s[at] = np.log(_row_sums(d, ones))


def _row_sums(e: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Row sums accumulated in float64: widening the cached block and one BLAS pass beats NumPy's casting
    reduction (and its short-row overhead)."""
    return np.asarray(e.astype(np.float64, copy=False) @ ones)


def _weighted_row_sum(d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``Σ_c q_c d_c`` per row, with ``0·(−inf)`` taken as 0 (a masked class the target ignores).

    Accumulated in the compute dtype by BLAS: every term ``q_c d_c`` is ≤ 0, so the error stays relative
    to the loss."""
    if q.ndim == 1:
        total = np.asarray(d @ q.astype(d.dtype), dtype=np.float64)
    else:
        total = np.asarray(
            (d[:, None, :] @ q.astype(d.dtype, copy=False)[:, :, None])[:, 0, 0], dtype=np.float64
        )
    bad = np.isnan(total)
    if bad.any():
        qb = q if q.ndim == 1 else q[bad]
        total[bad] = np.where(qb == 0, 0.0, d[bad] * qb).sum(axis=1)
    return total
