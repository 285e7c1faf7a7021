"""The committed OpenAPI document is the app's, and generators can digest it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reference.inprocess import InProcessClient

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_committed_document_is_current(api_client: InProcessClient) -> None:
    served = api_client.get("/openapi.json").json()
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == served, (
        "openapi/openapi.json is stale: run python scripts/export_openapi.py"
    )


def test_operation_ids_are_the_contract_s() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    ids = {path: {m: op["operationId"] for m, op in ops.items()} for path, ops in document["paths"].items()}
    assert ids == {
        "/v1/cross-entropy/sparse": {"post": "sparse_cross_entropy"},
        "/v1/cross-entropy/categorical": {"post": "categorical_cross_entropy"},
        "/v1/cross-entropy/binary": {"post": "binary_cross_entropy"},
        "/healthz": {"get": "healthz"},
        "/readyz": {"get": "readyz"},
        "/v1/info": {"get": "info"},
        "/v2": {"get": "v2_server_metadata"},
        "/v2/health/live": {"get": "v2_live"},
        "/v2/health/ready": {"get": "v2_ready"},
        "/v2/models/{model}": {"get": "v2_model_metadata"},
        "/v2/models/{model}/versions/{version}": {"get": "v2_model_version_metadata"},
        "/v2/models/{model}/ready": {"get": "v2_model_ready"},
        "/v2/models/{model}/versions/{version}/ready": {"get": "v2_model_version_ready"},
        "/v2/models/{model}/infer": {"post": "v2_infer"},
        "/v2/models/{model}/versions/{version}/infer": {"post": "v2_version_infer"},
    }


def test_no_schema_refers_to_itself_even_indirectly() -> None:
    schemas = json.loads(COMMITTED.read_text(encoding="utf-8"))["components"]["schemas"]
    graph = {name: refs(schema) for name, schema in schemas.items()}

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        return seen

    assert [name for name in graph if name in reachable(name)] == []


def test_request_bodies_and_problems_are_documented() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if name.endswith(("-Input", "-Output"))]
    for path, model in [
        ("/v1/cross-entropy/sparse", "SparseCrossEntropyRequest"),
        ("/v1/cross-entropy/categorical", "CategoricalCrossEntropyRequest"),
    ]:
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model}"}
        assert {"logits", "labels", "reduction", "sample_weight"} <= schemas[model]["properties"].keys()
        for status in ("400", "413", "415", "422", "500"):
            content = operation["responses"][status]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
