"""JSON data a floating datatype cannot hold is named as sent, not reported as the inf it would become."""

from __future__ import annotations

import json

import pytest

from service.api.problems import ProblemError
from service.api.v2.inference import infer
from service.config import Settings
from service.families import family_of


def problem(datatype: str, data: list[object]) -> ProblemError:
    body = {
        "inputs": [
            {"name": "logits", "datatype": datatype, "shape": [2, 2], "data": data},
            {"name": "labels", "datatype": "INT64", "shape": [2], "data": [0, 1]},
        ]
    }
    with pytest.raises(ProblemError) as caught:
        infer(family_of("sparse"), None, json.dumps(body).encode(), Settings())
    return caught.value


@pytest.mark.parametrize(
    ("datatype", "data", "pointer", "detail"),
    [
        # IEEE half: largest finite 65504; 1e6 would round to inf.
        (
            "FP16",
            [[1.0, 2.0], [0.0, 1e6]],
            "/inputs/0/data/1/1",
            "holds 1e+06, beyond FP16's largest finite value 65504",
        ),
        # bfloat16: largest finite (2 - 2^-7)·2^127 = 3.38953e38.
        (
            "BF16",
            [1.0, -3.4e38, 0.0, 0.0],
            "/inputs/0/data/1",
            "holds -3.4e+38, beyond BF16's largest finite value 3.38953e+38",
        ),
        (
            "FP32",
            [1.0, 2.0, 0.0, 1e39],
            "/inputs/0/data/3",
            "holds 1e+39, beyond FP32's largest finite value 3.40282e+38",
        ),
    ],
)
def test_a_value_beyond_the_datatype_is_named(
    datatype: str, data: list[object], pointer: str, detail: str
) -> None:
    found = problem(datatype, data)
    assert found.code == "bad_tensor"
    assert detail in found.detail
    assert found.errors[0]["pointer"] == pointer


def test_a_value_that_rounds_to_the_largest_half_is_kept() -> None:
    body = {
        "inputs": [
            {"name": "logits", "datatype": "FP16", "shape": [2, 2], "data": [1.0, 65519.0, 0.0, 1.0]},
            {"name": "labels", "datatype": "INT64", "shape": [2], "data": [0, 1]},
        ]
    }
    assert infer(family_of("sparse"), None, json.dumps(body).encode(), Settings()).body
