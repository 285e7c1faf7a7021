"""The floor bench's bare apps do what they stand for: the reading ones answer the body's size, the
evaluating ones the service's loss (their speed is only measured in bench/)."""

import asyncio

import httpx
import pytest

from bench.investigations import floor_apps, payloads


def post(app: floor_apps.ASGIApp, body: bytes) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/v1/cross-entropy/sparse", content=body)

    return asyncio.run(send())


@pytest.mark.parametrize("app", [floor_apps.read, floor_apps.body, floor_apps.hop])
def test_reading_apps_answer_the_body_size(app: floor_apps.ASGIApp) -> None:
    body = payloads.http_payload(300, 40, "json").body
    assert post(app, body).text == str(len(body))


@pytest.mark.parametrize("app", [floor_apps.inline, floor_apps.thread])
@pytest.mark.parametrize("form", payloads.FORMS)
def test_evaluating_apps_answer_the_float64_loss(app: floor_apps.ASGIApp, form: payloads.Form) -> None:
    case = payloads.http_payload(64, 10, form)
    answer = post(app, case.body).json()
    assert answer["loss"] == pytest.approx(case.expected_loss, rel=1e-6)
