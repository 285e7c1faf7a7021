"""A deliberately typical FastAPI cross-entropy endpoint, the peer loss-service is measured against.

Written the way the tutorials do it: a Pydantic body with `logits: list[list[float]]`, FastAPI's
default request parsing and response serialisation, and the stable NumPy formula in float64.
Run it with `uvicorn bench.peers.typical_fastapi:app`.
"""

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel


class SparseRequest(BaseModel):
    logits: list[list[float]]
    labels: list[int]


class LossResponse(BaseModel):
    loss: float
    losses: list[float]


app = FastAPI(title="typical cross-entropy peer")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/cross-entropy/sparse")
def sparse_cross_entropy(request: SparseRequest) -> LossResponse:
    logits = np.asarray(request.logits, dtype=np.float64)
    labels = np.asarray(request.labels, dtype=np.int64)
    row_max = logits.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(logits - row_max).sum(axis=1)) + row_max[:, 0]
    losses = log_sum_exp - logits[np.arange(len(labels)), labels]
    return LossResponse(loss=float(losses.mean()), losses=losses.tolist())
