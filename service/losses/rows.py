"""Row-wise log-sum-exp terms of a ``(rows, classes)`` logits matrix, computed stably and cache-blocked.

Each row ``i`` is shifted by the logit of an *anchor* class ``a_i``: ``d_ic = z_ic − z_{i,a_i}``. This
yields ``log s_i = log Σ_c exp(d_ic)`` and, for weights ``q``, ``Σ_c q_c d_ic`` — everything a
cross-entropy needs without ever materialising ``log_softmax``:
``−Σ_c q_c log_softmax(z)_c = −Σ_c q_c d_c + (Σ_c q_c) log s``.

The anchor is the row's largest logit (the textbook stable shift) unless the caller supplies one: the
sparse loss anchors at the target, which saves the maximum pass and makes the loss simply ``log s``.
Either way the anchor's term is ``exp(0) = 1`` exactly, so it is left out of the sum and added back
exactly: ``log s = log1p(Σ_{c≠a} exp(d_c))``. The remaining terms are all positive, so a sum in the
compute dtype (a BLAS dot per row, as torch accumulates) keeps its error relative to them, and a confident
prediction's tiny loss keeps its relative accuracy — which rounding ``1 + tiny`` in float32 would erase.
With a supplied anchor and no weights even the shift pass goes: ``Σ_{c≠a} exp(z_c)`` is summed as it
is and scaled by ``exp(−z_a)`` in float64. Rows where that overflows or underflows, or where a supplied
anchor overflows (a logit far above the target's), are redone shifted, from the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Rows are processed in blocks of about this many elements, so the passes over a block (shift, exp,
# sums) run on data already in the L2 cache instead of streaming the matrix through memory each time.
BLOCK_ELEMENTS = 1 << 18
# Short rows reduce badly along their own axis; below this many classes the maximum goes column-wise.
NARROW = 64


@dataclass(frozen=True)
class RowTerms:
    """The per-row results, filled block by block."""

    shift: np.ndarray
    log_s: np.ndarray
    dots: list[np.ndarray]
    # Per weight: its row sums Σ_c q_c (float64) and its smallest value, taken while each block of a
    # weight matrix is in cache, so a caller can validate target distributions without passes of its own.
    weight_sums: list[np.ndarray]
    weight_min: np.ndarray

    def log_softmax(self, z: np.ndarray) -> np.ndarray:
        """Every class's ``log p_c = (z_c − shift) − log s`` in float64, for the rows ``z`` these terms
        were computed from (focal terms need each class, not only the sums)."""
        return np.asarray(
            (z.astype(np.float64) - self.shift.astype(np.float64)[:, None]) - self.log_s[:, None]
        )

    @property
    def suspicious(self) -> bool:
        """A NaN, +inf or a row without a finite logit was seen: validate before trusting the rows."""
        return not bool(np.isfinite(self.shift).all() and np.isfinite(self.log_s).all())


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


def row_dots(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``Σ_c a_c q_c`` for each row of ``a``, with ``q`` a ``(classes,)`` vector or a matrix like ``a``, in
    ``a``'s dtype (BLAS).

    One dot per row, whatever the batch: a matrix-vector BLAS call groups rows and orders each row's sum
    by where the row sits, so the same example would round differently in another request. Per-row dots
    keep every loss independent of what it is batched with, and so requests combine exactly."""
    classes = a.shape[1]
    q = q.astype(a.dtype, copy=False)
    if q.ndim == 1 and classes < NARROW:
        # Few classes: column by column, in order, vectorises far better than many short dots. (The
        # choice may not depend on the number of rows, or a row's rounding would depend on its batch.)
        total: np.ndarray = a[:, 0] * q[0]
        for c in range(1, classes):
            total += a[:, c] * q[c]
        return total
    return np.asarray((a[:, None, :] @ (q[:, None] if q.ndim == 1 else q[:, :, None]))[:, 0, 0])


def logsumexp_terms(
    z: np.ndarray, weights: tuple[np.ndarray, ...] = (), anchor: np.ndarray | None = None
) -> RowTerms:
    """Shift, ``log s`` and ``Σ_c q_c d_c`` for each ``q`` in ``weights`` (``(classes,)`` or a
    ``(rows, classes)`` matrix), anchored at the class ids ``anchor`` or at each row's maximum.
    A ``-inf`` logit meeting ``q = 0`` contributes 0, not NaN."""
    rows, classes = z.shape
    terms = RowTerms(
        shift=np.empty(rows, dtype=z.dtype),
        log_s=np.empty(rows, dtype=np.float64),
        dots=[np.empty(rows, dtype=np.float64) for _ in weights],
        # A class-weight vector's are the same for every row: taken once here, not block by block.
        weight_sums=[np.full(rows, q.sum() if q.ndim == 1 else np.nan) for q in weights],
        weight_min=np.array([q.min() if q.ndim == 1 else np.inf for q in weights], dtype=np.float64),
    )
    block_rows = max(1, BLOCK_ELEMENTS // max(classes, 1))
    buffer = np.empty((min(block_rows, rows), classes), dtype=z.dtype)
    ones = np.ones(classes, dtype=z.dtype)  # once: wide rows make blocks of a row or two
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for start in range(0, rows, block_rows):
            at = slice(start, min(rows, start + block_rows))
            a = None if anchor is None else anchor[at]
            _block_terms(terms, z[at], buffer[: at.stop - start], ones, at, a, weights)
        if anchor is not None:
            redo = np.flatnonzero(~np.isfinite(terms.log_s))
            if redo.size:
                scratch = np.empty((redo.size, classes), z.dtype)
                _block_terms(terms, z[redo], scratch, ones, redo, None, weights)
    return terms


def _block_terms(
    terms: RowTerms,
    block: np.ndarray,
    d: np.ndarray,
    ones: np.ndarray,
    at: slice | np.ndarray,
    anchor: np.ndarray | None,
    weights: tuple[np.ndarray, ...],
) -> None:
    """Fill the rows ``at`` of ``terms`` from ``block``, which holds them, anchored at ``anchor`` (the
    block's own class ids) or at each row's maximum, using ``d`` as scratch and ``ones`` (a row of 1s in
    the block's dtype) for the row sums."""
    a = block.argmax(axis=1) if anchor is None else anchor
    positions = np.arange(len(block))
    shift = terms.shift[at] = block[positions, a]
    if anchor is not None and not weights:
        terms.log_s[at] = _unshifted_log_s(block, d, positions, a, shift, ones)
        return
    np.subtract(block, shift[:, None], out=d)
    for i, q in enumerate(weights):
        qb = q if q.ndim == 1 else q[at]
        terms.dots[i][at] = _weighted_row_sum(d, qb)
        if q.ndim == 2:  # right after the weighted sums, while the matrix's block is still cached
            terms.weight_sums[i][at] = row_dots(qb, ones)
            terms.weight_min[i] = min(terms.weight_min[i], qb.min(initial=np.inf))
    d[positions, a] = -np.inf  # the anchor's term, exactly 1, is added back by log1p
    np.exp(d, out=d)
    terms.log_s[at] = np.log1p(row_dots(d, ones).astype(np.float64))


def _unshifted_log_s(
    block: np.ndarray, d: np.ndarray, positions: np.ndarray, a: np.ndarray, z_a: np.ndarray, ones: np.ndarray
) -> np.ndarray:
    """``log1p(Σ_{c≠a} exp(z_c) · exp(−z_a))``: the same sum without the shift pass, the factor applied in
    float64. NaN marks rows to redo shifted: an overflowing term, or terms so small that underflow could
    cost relative accuracy (the sum below ``C · tiny / eps``)."""
    np.exp(block, out=d)
    d[positions, a] = 0.0  # the anchor's term, exactly 1 after the factor, is added back by log1p
    rest = row_dots(d, ones).astype(np.float64)
    info = np.finfo(d.dtype)
    scaled = rest * np.exp(-z_a.astype(np.float64))
    scaled[~(rest >= d.shape[1] * float(info.tiny) / float(info.eps))] = np.nan
    return np.log1p(scaled)


def _weighted_row_sum(d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``Σ_c q_c d_c`` per row, with ``0·(−inf)`` taken as 0 (a masked class the target ignores).

    Accumulated in the compute dtype by BLAS: every term ``q_c d_c`` is ≤ 0, so the error stays relative
    to the loss."""
    total = row_dots(d, q).astype(np.float64)
    bad = np.isnan(total)
    if bad.any():
        qb = q if q.ndim == 1 else q[bad]
        total[bad] = np.where(qb == 0, 0.0, d[bad] * qb).sum(axis=1)
    return total
