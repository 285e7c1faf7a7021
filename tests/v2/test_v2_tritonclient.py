"""tritonclient.http, unchanged, against a live server: every model, JSON and binary both ways, every
prediction datatype; the numbers are /v1's for the same data and agree with the float64 reference."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ml_dtypes
import numpy as np
import pytest
import tritonclient.http as triton
from reference.compare import approx
from reference.numpy_reference import from_request
from tritonclient.utils import InferenceServerException
from v2_support import DATA, DTYPES, LOGITS, STATISTICS, v1_answer

from service.families import FAMILIES, family_of
from service.losses import STATISTICS as CORE_STATISTICS

pytestmark = pytest.mark.slow

PREDICTION_DATATYPES = ("FP16", "BF16", "FP32", "FP64")
# (inputs binary, outputs binary); tritonclient sends BF16 only as binary.
FRAMINGS = ((True, True), (False, False), (True, False), (False, True))
CASES = [
    (short, datatype, binary_in, binary_out)
    for short in DATA
    for datatype in PREDICTION_DATATYPES
    for binary_in, binary_out in FRAMINGS
    if binary_in or datatype != "BF16"
]


@pytest.fixture(scope="module")
def client(server_url: str) -> Iterator[triton.InferenceServerClient]:
    client = triton.InferenceServerClient(url=server_url.removeprefix("http://"))
    yield client
    client.close()


def client_array(values: np.ndarray, datatype: str) -> np.ndarray:
    if datatype == "BF16":  # tritonclient takes ml_dtypes.bfloat16 (float32 values rounded to nearest even)
        return np.asarray(values, dtype=np.float32).astype(ml_dtypes.bfloat16)
    return np.asarray(values, dtype=DTYPES[datatype][1])


def infer(
    client: triton.InferenceServerClient,
    model: str,
    arrays: dict[str, tuple[np.ndarray, str]],
    parameters: dict[str, Any],
    *,
    binary_in: bool = True,
    binary_out: bool | None = True,
    outputs: tuple[str, ...] = ("loss", "losses", *STATISTICS),
) -> triton.InferResult:
    inputs = []
    for name, (values, datatype) in arrays.items():
        entry = triton.InferInput(name, list(values.shape), datatype)
        entry.set_data_from_numpy(client_array(values, datatype), binary_data=binary_in)
        inputs.append(entry)
    requested = (
        None
        if binary_out is None
        else [triton.InferRequestedOutput(name, binary_data=binary_out) for name in outputs]
    )
    return client.infer(model, inputs, outputs=requested, parameters=parameters, request_id="req-14")


def drive(short: str, datatype: str, case: int) -> dict[str, tuple[np.ndarray, str]]:
    data = DATA[short]
    weights = "FP64" if datatype == "FP64" else "FP32"
    values = LOGITS.astype(np.float32) if datatype in ("FP16", "BF16", "FP32") else LOGITS
    arrays = {
        "logits": (values, datatype),
        "labels": (data["arrays"]["labels"], data["label_dtypes"][case % 2]),
    }
    arrays.update((name, (array, weights)) for name, array in data["arrays"].items() if name != "labels")
    return arrays


@pytest.mark.parametrize(("short", "datatype", "binary_in", "binary_out"), CASES)
def test_every_model_answers_as_v1_does(
    client: triton.InferenceServerClient,
    http: Any,
    short: str,
    datatype: str,
    binary_in: bool,
    binary_out: bool,
) -> None:
    family = family_of(short)
    arrays = drive(short, datatype, CASES.index((short, datatype, binary_in, binary_out)))
    options = DATA[short]["options"]
    v1 = v1_answer(http, family, arrays, options)

    result = infer(client, family.name, arrays, options, binary_in=binary_in, binary_out=binary_out)

    response = result.get_response()
    assert (response["model_name"], response["model_version"], response["id"]) == (family.name, "1", "req-14")
    assert result.as_numpy("loss").tolist() == [v1["loss"]]
    for name in STATISTICS:
        assert result.as_numpy(name).tolist() == [v1[name]]
    assert result.get_output("count")["datatype"] == "INT64"
    losses = result.as_numpy("losses")
    assert losses.dtype == np.dtype(v1["precision"])  # the compute precision
    assert losses.shape == tuple(v1["shape"])
    assert losses.tolist() == np.asarray(v1["losses"], dtype=v1["precision"]).tolist()
    warnings = json.loads(response["parameters"]["warnings"])
    assert [w["code"] for w in warnings] == [w["code"] for w in v1["warnings"]]
    # And independently of the service: the float64 reference, at the precision's tolerance.
    reference = from_request(short, v1["body"])
    assert float(result.as_numpy("loss")[0]) == approx(reference.loss(options["reduction"]), v1["precision"])
    assert float(result.as_numpy("loss_sum")[0]) == approx(reference.loss_sum, v1["precision"])


def test_outputs_default_to_binary_and_a_missing_value_is_left_out(
    client: triton.InferenceServerClient, http: Any
) -> None:
    arrays = drive("sparse", "FP32", 0)
    options = {"reduction": "none", "ignore_index": -100, "per_example": True}
    result = infer(client, "sparse_cross_entropy", arrays, options, binary_out=None)
    names = [output["name"] for output in result.get_response()["outputs"]]
    assert names == ["losses", *CORE_STATISTICS]  # no loss under 'none': left out, not an error
    assert all("binary_data_size" in output["parameters"] for output in result.get_response()["outputs"])
    v1 = v1_answer(http, family_of("sparse"), arrays, options)
    assert result.as_numpy("losses").tolist() == np.asarray(v1["losses"], np.float32).tolist()
    selected = infer(
        client, "sparse_cross_entropy", arrays, options, binary_out=False, outputs=("loss", "count")
    )
    assert [output["name"] for output in selected.get_response()["outputs"]] == ["count"]


def test_an_error_surfaces_with_the_problem_s_text(client: triton.InferenceServerClient, http: Any) -> None:
    arrays = drive("sparse", "FP32", 0)
    arrays["labels"] = (np.array([0, 1, 7, 2, 1, 0]), "INT64")
    v1 = http.post(
        family_of("sparse").path,
        json={"logits": LOGITS.astype(np.float32).tolist(), "labels": arrays["labels"][0].tolist()},
    )
    with pytest.raises(InferenceServerException) as raised:
        infer(client, "sparse_cross_entropy", arrays, {})
    assert raised.value.status() == "400"
    assert raised.value.message() == v1.json()["detail"]
    assert "outside the valid range of [0, 4)" in raised.value.message()


def test_an_unknown_parameter_is_refused(client: triton.InferenceServerClient) -> None:
    with pytest.raises(InferenceServerException) as raised:
        infer(client, "sparse_cross_entropy", drive("sparse", "FP32", 0), {"reductoin": "sum"})
    assert raised.value.status() == "400"
    assert "/parameters/reductoin" in raised.value.message()


def test_health_readiness_and_metadata(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    for family in FAMILIES:
        assert client.is_model_ready(family.name)
        assert client.is_model_ready(family.name, "1")
        metadata = client.get_model_metadata(family.name)
        assert (metadata["name"], metadata["versions"]) == (family.name, ["1"])
        assert [i["name"] for i in metadata["inputs"]] == list(family.arrays)
        outputs = {o["name"]: (o["datatype"], o["shape"]) for o in metadata["outputs"]}
        assert outputs["loss"] == ("FP64", [1])
        assert outputs["count"] == ("INT64", [1])
    assert not client.is_model_ready("no_such_model")
    with pytest.raises(InferenceServerException) as raised:
        client.get_model_metadata("sparse_cross_entropy", "2")
    assert raised.value.status() == "404"
