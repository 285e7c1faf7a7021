"""``--plot``: a reliability diagram of the combined calibration bins (needs the ``plot`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from service.evaluate.data import InputError

EXTRA_HINT = "pip install 'loss-service[plot]' (matplotlib)"


def reliability_diagram(statistics: Mapping[str, float | np.ndarray], path: Path, title: str) -> None:
    """Per bin: accuracy (bars) against mean confidence (dots) and the diagonal of perfect calibration,
    with each bin's share of the weight below. Slot ``n`` (confidence exactly 1) is drawn at 1."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never a display
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise InputError(f"--plot needs matplotlib, which is not installed: {EXTRA_HINT}") from exc
    count = np.asarray(statistics["count"], dtype=np.float64)
    n = len(count) - 1
    filled = count > 0
    safe = np.where(filled, count, 1.0)
    accuracy = np.asarray(statistics["correct_sum"]) / safe
    confidence = np.asarray(statistics["confidence_sum"]) / safe
    left = np.append(np.arange(n) / n, 1.0)
    width = np.append(np.full(n, 1.0 / n), 0.5 / n)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}, constrained_layout=True
    )
    top.bar(
        left[filled], accuracy[filled], width=width[filled], align="edge", edgecolor="black", label="accuracy"
    )
    top.plot(confidence[filled], accuracy[filled], "o", color="tab:red", label="mean confidence")
    top.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    top.set(ylabel="accuracy", ylim=(0, 1), title=title)
    top.legend(loc="upper left")
    total = count.sum()
    bottom.bar(left, count / (total if total else 1.0), width=width, align="edge", edgecolor="black")
    bottom.set(xlabel="confidence", ylabel="share of weight", xlim=(0, 1 + 0.5 / n))
    fig.savefig(path, dpi=100)
    plt.close(fig)
