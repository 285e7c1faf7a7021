"""The evaluator's V2 transport: which protocol it picks, and its requests and answers."""

from __future__ import annotations

import asyncio
import json

import httpx
import numpy as np

from service.evaluate import v2
from service.evaluate.runner import detect_protocol
from service.families import family_of


def test_v2_only_when_every_url_serves_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if request.url.host == "new" else 404)

    transport = httpx.MockTransport(handler)
    assert asyncio.run(detect_protocol(["http://new", "http://new"], transport, 1.0)) == "v2"
    assert asyncio.run(detect_protocol(["http://new", "http://old"], transport, 1.0)) == "v1"


def test_a_chunk_is_one_binary_request_with_options_as_parameters() -> None:
    logits = np.arange(6, dtype=np.float32).reshape(2, 3)
    labels = np.array([0, 2], dtype=np.int32)
    fields = {"reduction": "sum", "per_example": False, "class_weight": [1.0, 2.0, 0.5]}
    body, headers = v2.encode(family_of("sparse"), fields, {"logits": logits, "labels": labels})
    length = int(headers["inference-header-content-length"])
    assert length % 8 == 0  # padded, so that the tensors after it start aligned
    header = json.loads(body[:length])
    assert header["parameters"] == {"reduction": "sum", "per_example": False, "binary_data_output": True}
    assert [(i["name"], i["datatype"], i["shape"]) for i in header["inputs"]] == [
        ("class_weight", "FP64", [3]),
        ("logits", "FP32", [2, 3]),
        ("labels", "INT32", [2]),
    ]
    assert body[length:] == np.array([1.0, 2.0, 0.5]).tobytes() + logits.tobytes() + labels.tobytes()


def test_an_answer_reads_back_as_the_v1_payload() -> None:
    outputs = [("loss_sum", "FP64", np.array([1.5])), ("count", "INT64", np.array([3]))]
    header = json.dumps(
        {
            "model_name": "sparse_cross_entropy",
            "outputs": [
                {"name": n, "datatype": d, "shape": [1], "parameters": {"binary_data_size": a.nbytes}}
                for n, d, a in outputs
            ]
            + [{"name": "metric.accuracy.total", "datatype": "FP64", "shape": [1], "data": [3.0]}],
            "parameters": {"warnings": "[]", "shape": "[3]", "num_classes": 4, "precision": "float32"},
        }
    ).encode()
    response = httpx.Response(
        200,
        content=header + b"".join(a.tobytes() for *_, a in outputs),
        headers={"inference-header-content-length": str(len(header))},
    )
    payload = v2.decode(response)
    assert payload == {
        "loss": None,
        "loss_sum": 1.5,
        "count": 3,
        "warnings": [],
        "shape": [3],
        "num_classes": 4,
        "precision": "float32",
        "metrics": {"accuracy": {"value": None, "total": 3.0}},
    }
    assert isinstance(payload["count"], int)
