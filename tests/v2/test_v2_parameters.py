"""Parameters are validated by the family's own request model, whatever fields it has: a list field
(``metrics``) takes a comma-separated string, bounds and unknown names are /v1's errors."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

from service.api.decoding import CLASS_IDS, PREDICTIONS
from service.api.problems import ProblemError
from service.api.schemas import StrictModel
from service.api.v2.inputs import _options
from service.families import Family


class ToyRequest(StrictModel):
    logits: list[float] | None = None
    labels: list[int]
    metrics: list[Literal["accuracy", "brier_score"]] = Field(default_factory=list)
    top_k: int = Field(5, ge=1)


TOY = Family(
    name="toy_cross_entropy",
    path="/v1/toy",
    summary="a family the tests make up",
    request=ToyRequest,
    arrays={"logits": PREDICTIONS, "labels": CLASS_IDS},
    compute=lambda *a, **k: None,  # type: ignore[arg-type,return-value]
)


def test_a_list_option_takes_a_comma_separated_string() -> None:
    options = _options({"metrics": "accuracy, brier_score", "top_k": 2, "binary_data_output": True}, TOY)
    assert options == {"metrics": ["accuracy", "brier_score"], "top_k": 2}


@pytest.mark.parametrize(
    ("parameters", "pointer"),
    [
        ({"metrics": "accuracy,perplexity"}, "/parameters/metrics/1"),
        ({"top_k": 0}, "/parameters/top_k"),
        ({"topk": 3}, "/parameters/topk"),
        ({"labels": 3}, "/parameters/labels"),
    ],
)
def test_invalid_parameters_point_at_themselves(parameters: dict[str, object], pointer: str) -> None:
    with pytest.raises(ProblemError) as raised:
        _options(parameters, TOY)
    assert raised.value.errors[0]["pointer"] == pointer
