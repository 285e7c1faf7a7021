"""Limits bite where they are crossed: an array over the element limit is refused before any parser runs,
and ranks beyond the nested and Tensor limits are named, with the other transport."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from reference.inprocess import InProcessClient, in_process

from service.api import body as body_module
from service.api import decoding, fast_json, parsing
from service.config import Settings
from service.families import FAMILIES
from service.main import create_app

SPARSE = "/v1/cross-entropy/sparse"
LIMIT = 1000


@pytest.fixture
def client() -> Iterator[InProcessClient]:
    # A body limit far above the element limit: only the element count can refuse these bodies.
    with in_process(create_app(Settings(max_elements=LIMIT))) as client:
        yield client


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each parser ran: simdjson (fast paths), Pydantic (general path), base64 (Tensors)."""
    calls = {"simdjson": 0, "pydantic": 0, "base64": 0}

    def counting(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(fast_json, "_parse_document", counting("simdjson", fast_json._parse_document))
    monkeypatch.setattr(decoding.pybase64, "b64decode", counting("base64", decoding.pybase64.b64decode))
    for family in FAMILIES:
        monkeypatch.setattr(
            family.request, "model_validate_json", counting("pydantic", family.request.model_validate_json)
        )
    return calls


def _numbers(count: int) -> str:
    return ",".join("0.5" for _ in range(count))


OVER_LIMIT_BODIES = {
    "one row": '{"logits": [[' + _numbers(LIMIT + 1) + ']], "labels": [0]}',
    "rows of 7": '{"logits": ['
    + ", ".join("[" + _numbers(7) + "]" for _ in range(LIMIT // 7 + 1))
    + '], "labels": ['
    + ",".join("0" for _ in range(LIMIT // 7 + 1))
    + "]}",
    "flat, spaced": '{"labels": 0, "logits": [' + ", ".join("1" for _ in range(LIMIT + 1)) + "]}",
    "rank 3 with newlines": '{"logits": [[\n['
    + "],\n[".join(_numbers(3) for _ in range(LIMIT // 3 + 1))
    + ']]], "labels": [['
    + ",".join("0" for _ in range(LIMIT // 3 + 1))
    + "]]}",
}


@pytest.mark.parametrize("name", OVER_LIMIT_BODIES)
def test_an_array_over_the_element_limit_is_refused_before_any_parsing(
    client: InProcessClient, parses: dict[str, int], name: str
) -> None:
    text = OVER_LIMIT_BODIES[name]
    response = client.post(SPARSE, content=text, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "too_large"
    assert body["errors"][0]["pointer"] == "/logits"
    assert body["errors"][0]["expected"] == LIMIT
    assert body["errors"][0]["received"] > LIMIT
    assert parses == {"simdjson": 0, "pydantic": 0, "base64": 0}


def test_the_count_is_exact_at_the_limit_even_with_empty_rows(client: InProcessClient) -> None:
    # LIMIT numbers and 50 empty rows: 49 + LIMIT commas, one short of a false alarm's count... and past it.
    rows = ["[" + _numbers(10) + "]" for _ in range(LIMIT // 10)] + ["[ ]"] * 50
    text = '{"logits": [[' + ", ".join(rows) + ']], "labels": [[' + ",".join("0" for _ in rows) + "]]}"
    assert text.count(",") >= LIMIT  # the comma count alone would call it too large
    response = client.post(SPARSE, content=text, headers={"content-type": "application/json"})
    assert response.status_code != 413, response.text


def test_exactly_the_limit_is_accepted(client: InProcessClient) -> None:
    text = '{"logits": [[' + _numbers(LIMIT) + ']], "labels": [0]}'
    response = client.post(SPARSE, content=text, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["num_classes"] == LIMIT


def test_a_tensor_shape_over_the_limit_is_refused_before_its_data_is_decoded(
    client: InProcessClient, parses: dict[str, int]
) -> None:
    data = base64.b64encode(b"\0" * 4 * 8).decode()
    tensor = {"dtype": "float32", "shape": [1, LIMIT + 1], "data": data}
    response = client.post(SPARSE, json={"logits": tensor, "labels": [0]})
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["received"] == LIMIT + 1
    assert parses["base64"] == 0


def test_empty_arrays_are_counted_as_such() -> None:
    assert body_module.count_empty_arrays(b"[[], [ ], [\n\t],[1],[]]") == 4
    assert body_module.count_empty_arrays(b"[" + b" " * (1 << 20) + b"]") == 1  # across a slice boundary
    assert body_module.count_empty_arrays(b"x" * ((1 << 20) - 1) + b"[  ]") == 1
    assert body_module.count_empty_arrays(b"[" + b" " * (1 << 20) + b"1]") == 0
    assert body_module.count_byte(bytearray(b",," * (1 << 20)), b",", 3) == (2 << 20) - 3


def test_a_nested_array_beyond_rank_4_names_both_limits(client: InProcessClient) -> None:
    logits: Any = [0.5, 1.5]
    for _ in range(4):
        logits = [logits]
    response = client.post(SPARSE, json={"logits": logits, "labels": [[[[0]]]]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert "rank 1 to 4" in body["detail"]
    assert "Tensor" in body["hint"]
    assert "8" in body["hint"]


def test_a_tensor_beyond_rank_8_names_both_limits(client: InProcessClient) -> None:
    tensor = {"dtype": "float32", "shape": [1] * 9, "data": base64.b64encode(b"\0" * 4).decode()}
    response = client.post(SPARSE, json={"logits": tensor, "labels": [0]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["pointer"] == "/logits/shape"
    assert "8" in body["detail"]
    assert "4" in body["hint"]


def test_info_states_both_rank_limits(client: InProcessClient) -> None:
    limits = client.get("/v1/info").json()["limits"]
    assert limits["max_nested_rank"] == 4
    assert limits["max_tensor_rank"] == 8


def test_the_guard_ignores_bodies_it_cannot_read_plainly() -> None:
    # An escaped string: the span finder declines, the parsers decide (and decode() counts after).
    text = json.dumps({"logits": [[0.5] * 3], "labels": [0], "precision": "float\\u0033\\u0032"})
    family = FAMILIES[0]
    parsing._check_element_limits(text.encode(), family, 2)  # no error: left to the parsers
