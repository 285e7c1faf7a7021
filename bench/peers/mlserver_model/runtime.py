"""The MLServer peer: a custom runtime computing the same stable sparse cross-entropy in NumPy (row max,
log-sum-exp, mean in float64) over V2 requests. Runs inside MLServer's own virtual environment
(bench/.venv-mlserver, made by bench/mlserver.py), never imported by the bench itself."""

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class SparseCrossEntropy(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        arrays = {entry.name: NumpyCodec.decode_input(entry) for entry in payload.inputs}
        logits = arrays["logits"]
        labels = arrays["labels"].astype(np.int64)
        top = logits.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(logits - top).sum(axis=-1)) + top[:, 0]
        losses = lse - np.take_along_axis(logits, labels[:, None], axis=-1)[:, 0]
        loss = np.array([losses.astype(np.float64).mean()])
        return InferenceResponse(
            model_name=self.name,
            outputs=[NumpyCodec.encode_output("loss", loss), NumpyCodec.encode_output("losses", losses)],
        )
