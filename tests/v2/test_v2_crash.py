"""A crash under /v2 is a 500 problem in the V2 flavour too (with ``error``), and /v1's stays as it was."""

from __future__ import annotations

import pytest
from reference.inprocess import in_process

from service.api.v2 import routes


def test_a_crash_is_a_500_problem_that_v2_clients_can_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.main import create_app

    def boom(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(routes, "infer", boom)
    with in_process(create_app(), raise_app_exceptions=False) as client:
        response = client.post("/v2/models/sparse_cross_entropy/infer", content=b"{}")
        unknown = client.get("/v1/no-such-thing")
    assert response.status_code == 500
    problem = response.json()
    assert (problem["code"], problem["error"]) == ("internal_error", problem["detail"])
    assert "error" not in unknown.json()
