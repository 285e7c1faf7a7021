"""Optional API keys: open without them; with them, /v1 and /v2/models need one, probes and docs do not."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from reference.inprocess import InProcessClient
from test_errors import problem

from service.api.docs import ASSETS_PATH
from service.config import Settings
from service.main import create_app

AppWith = Callable[..., AbstractContextManager[InProcessClient]]
SPARSE = "/v1/cross-entropy/sparse"
PAYLOAD = {"logits": [[2.0, 1.0, 0.1]], "labels": [0]}
KEYS = "first-key-0123456789,second-key-abcdefghij"
OPEN_PATHS = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/redoc",
    f"{ASSETS_PATH}/swagger-ui.css",
]


@pytest.fixture
def keyed(app_with: AppWith) -> Iterator[InProcessClient]:
    with app_with(api_keys=KEYS) as client:
        yield client


def test_without_keys_everything_is_open(app_with: AppWith) -> None:
    with app_with(api_keys="") as client:
        assert client.post(SPARSE, json=PAYLOAD).status_code == 200
        assert client.get("/v1/info").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer first-key-0123456789"},
        {"Authorization": "bearer second-key-abcdefghij"},
        {"X-API-Key": "second-key-abcdefghij"},
        # One good key among the offered ones is enough.
        {"Authorization": "Bearer nope", "X-API-Key": "first-key-0123456789"},
    ],
    ids=["bearer", "bearer-lowercase", "x-api-key", "one-of-two"],
)
def test_a_configured_key_is_accepted(keyed: InProcessClient, headers: dict[str, str]) -> None:
    answer = keyed.post(SPARSE, json=PAYLOAD, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 1
    assert keyed.get("/v1/info", headers=headers).json()["name"] == "loss-service"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer first-key-012345678"},  # a prefix of a key
        {"Authorization": "Bearer first-key-0123456789x"},
        {"Authorization": "Basic Zmlyc3Qta2V5LTAxMjM0NTY3ODk="},
        {"Authorization": "first-key-0123456789"},
        {"X-API-Key": ""},
    ],
    ids=["missing", "prefix", "longer", "basic", "no-scheme", "empty"],
)
def test_a_missing_or_wrong_key_is_a_401(keyed: InProcessClient, headers: dict[str, str]) -> None:
    for answer in (keyed.post(SPARSE, json=PAYLOAD, headers=headers), keyed.get("/v1/info", headers=headers)):
        body = problem(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == "Bearer"
        assert body["title"] == "Unauthorized"
        assert "key-0123456789" not in answer.text


def test_unknown_paths_under_v1_and_v2_models_need_a_key_too(keyed: InProcessClient) -> None:
    # A guesser learns nothing about which endpoints exist.
    for path in ("/v1/nothing-here", "/v2/models/sparse_cross_entropy", "/v1"):
        problem(keyed.get(path), 401, "unauthorized")
    problem(keyed.get("/v1/nothing-here", headers={"X-API-Key": "first-key-0123456789"}), 404, "not_found")
    problem(keyed.get("/v1x"), 404, "not_found")


def test_a_v2_client_reads_the_401_in_its_own_flavour(keyed: InProcessClient) -> None:
    # tritonclient shows the problem's `error` member.
    answer = keyed.post("/v2/models/sparse_cross_entropy/infer", json={"inputs": []})
    body = problem(answer, 401, "unauthorized")
    assert body["error"] == body["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", OPEN_PATHS)
def test_probes_metrics_and_docs_stay_open(keyed: InProcessClient, path: str) -> None:
    assert keyed.get(path).status_code == 200


def test_keys_from_a_file(app_with: AppWith, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("\n  file-key-one  \n\nfile-key-two\n", encoding="utf-8")
    with app_with(api_keys=f"@{keys}") as client:
        assert client.get("/v1/info", headers={"X-API-Key": "file-key-two"}).status_code == 200
        assert client.get("/v1/info", headers={"Authorization": "Bearer file-key-one"}).status_code == 200
        problem(client.get("/v1/info", headers={"X-API-Key": f"@{keys}"}), 401, "unauthorized")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (" , ,", "LOSS_SERVICE_API_KEYS: no key in LOSS_SERVICE_API_KEYS"),
        ("good-key,bad key", "LOSS_SERVICE_API_KEYS: key 2 in LOSS_SERVICE_API_KEYS has characters other"),
        ("@/nonexistent/keys", "LOSS_SERVICE_API_KEYS: cannot read the file /nonexistent/keys: No such file"),
    ],
)
def test_a_key_setting_that_yields_no_usable_key_stops_the_start(setting: str, message: str) -> None:
    with pytest.raises(ValueError, match="LOSS_SERVICE_API_KEYS") as raised:
        create_app(Settings(api_keys=setting))
    assert str(raised.value).startswith(message)
    assert "bad key" not in str(raised.value)


def test_keys_never_reach_a_log_line_or_the_settings_repr(
    keyed: InProcessClient, log_lines: list[str]
) -> None:
    keyed.get("/v1/info", headers={"Authorization": "Bearer first-key-0123456789"})
    keyed.get("/v1/info", headers={"X-API-Key": "second-key-abcdefghij"})
    keyed.get("/v1/info", headers={"Authorization": "Bearer wrong-key-zyxwvutsrq"})
    access = [json.loads(line) for line in log_lines if '"loss_service.access"' in line]
    assert [(line["status"], line.get("code")) for line in access] == [
        (200, None),
        (200, None),
        (401, "unauthorized"),
    ]
    for secret in ("0123456789", "abcdefghij", "zyxwvutsrq"):
        assert not [line for line in log_lines if secret in line]
    assert "first-key" not in repr(Settings(api_keys=KEYS))


def test_the_openapi_document_declares_the_optional_schemes(keyed: InProcessClient) -> None:
    document = keyed.get("/openapi.json").json()
    assert document["components"]["securitySchemes"] == {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API key, when the service has keys",
        },
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "the same key"},
    }
    for path, operations in document["paths"].items():
        for operation in operations.values():
            secured = path.startswith(("/v1/", "/v2/models"))
            assert operation.get("security") == ([{"bearer": []}, {"apiKey": []}, {}] if secured else None)
            assert ("401" in operation["responses"]) == secured
