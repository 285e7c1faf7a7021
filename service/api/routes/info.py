"""GET /v1/info: what this deployment computes and accepts."""

from __future__ import annotations

import socket

from fastapi import APIRouter, Request

from ... import __version__
from ...config import Settings
from ...losses import REDUCTIONS
from ..decoding import TENSOR_DTYPES
from ..schemas import NESTED_MAX_RANK, TENSOR_MAX_RANK, Info, Limits

router = APIRouter(tags=["info"])

CONVENTIONS = {
    "losses": "weighted per-example contributions w_i·l_i, as torch, Keras and TF return for 'none' with "
    "weights; ignored and zero-weight positions are exactly 0; Σ losses = loss_sum",
    "mean": "Σ w_i l_i / Σ w_i (torch 'mean', TF v1 MEAN)",
    "sum": "Σ w_i l_i",
    "sum_over_batch_size": "Σ w_i l_i / #counted (Keras default)",
    "sum_by_nonzero_weights": "Σ w_i l_i / #{counted i: w_i ≠ 0} (TF v1 default)",
    "zero_denominator": "loss is null with a warning, never NaN or a silent 0",
    "label_smoothing": "PyTorch's formula for class ids: (1-ε)·w_y·nll + ε/C·Σ_c w_c·(−log p_c)",
    "probabilities": "Keras from_logits=False: rows renormalised, then clipped to [epsilon, 1-epsilon]",
    "precision": "reductions and statistics are accumulated in float64; a float32 row's log-sum-exp sums "
    "its terms in float32 (a BLAS dot per row, as torch does); float16/bfloat16 Tensors are computed in "
    "float32",
    "non_finite": "NaN and +inf are rejected; -inf logits mask classes",
}


@router.get("/v1/info", operation_id="info", response_model=Info, summary="Version, limits and conventions")
async def info(request: Request) -> Info:
    settings: Settings = request.app.state.settings
    return Info(
        name="loss-service",
        version=__version__,
        instance=socket.gethostname(),
        limits=Limits(
            max_body_bytes=settings.max_body_bytes,
            max_elements=settings.max_elements,
            max_error_items=settings.max_error_items,
            max_nested_rank=NESTED_MAX_RANK,
            max_tensor_rank=TENSOR_MAX_RANK,
        ),
        dtypes=list(TENSOR_DTYPES),
        reductions=list(REDUCTIONS),
        precisions=["float32", "float64"],
        conventions=CONVENTIONS,
    )
