"""The V2 bench bodies are what the service answers correctly, and loss_of reads every answer form."""

import pytest
from reference.inprocess import InProcessClient

from bench.payloads import http_payload, loss_of


@pytest.mark.parametrize("form", ["v2-binary", "v2-json", "json"])
def test_every_form_is_answered_with_the_float64_loss(api_client: InProcessClient, form: str) -> None:
    payload = http_payload(32, 10, form)  # type: ignore[arg-type]
    response = api_client.post(payload.path, content=payload.body, headers=dict(payload.headers))
    assert response.status_code == 200, response.text
    assert loss_of(response.content, response.headers) == pytest.approx(payload.expected_loss, rel=1e-5)
