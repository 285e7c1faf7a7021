"""Float64 cross-entropies written from the formulas, the yardstick for accuracy checks."""

import numpy as np

# Rows per block keep the float64 temporaries small even for the (8, 512, 32000) bench shape.
_BLOCK_ELEMENTS = 1 << 22


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _blocks(num_rows: int, num_classes: int) -> range:
    return range(0, num_rows, max(1, _BLOCK_ELEMENTS // num_classes))


def sparse_losses(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-example `-log_softmax(z)[y]`, class axis last, in float64."""
    z = logits.reshape(-1, logits.shape[-1])
    y = labels.reshape(-1)
    out = np.empty(y.shape, dtype=np.float64)
    step = _blocks(len(y), z.shape[1]).step
    for start in _blocks(len(y), z.shape[1]):
        rows = slice(start, start + step)
        logp = _log_softmax_rows(z[rows])
        out[rows] = -np.take_along_axis(logp, y[rows, None], axis=1)[:, 0]
    return out.reshape(labels.shape)


def categorical_losses(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-example `-Σ_c t_c log_softmax(z)_c`, class axis last, in float64."""
    z = logits.reshape(-1, logits.shape[-1])
    t = targets.reshape(z.shape)
    out = np.empty(len(z), dtype=np.float64)
    step = _blocks(len(z), z.shape[1]).step
    for start in _blocks(len(z), z.shape[1]):
        rows = slice(start, start + step)
        out[rows] = -(t[rows].astype(np.float64) * _log_softmax_rows(z[rows])).sum(axis=1)
    return out.reshape(logits.shape[:-1])


def binary_losses(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-example mean over the last axis of `max(x, 0) − x·y + log1p(exp(−|x|))`, in float64."""
    x = logits.astype(np.float64)
    y = targets.astype(np.float64)
    return np.asarray((np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean(axis=-1))
