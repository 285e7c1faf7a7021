"""Bare ASGI apps for the floor bench: each does one more of the service's steps than the last, with
the service's own code, and nothing else — no FastAPI, no middleware, no access log.

- ``read``: uvicorn's receive loop only; the answer is the body's size.
- ``body``: the service's ``read_body`` (every chunk copied into one buffer).
- ``hop``: ``body`` plus a thread hop that does nothing, as the service hands large bodies to a worker.
- ``inline``: ``body`` plus the service's evaluation on the event loop.
- ``thread``: ``body`` plus the service's evaluation on a worker thread (the service's way for large
  bodies; small ones it evaluates inline).
"""

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from service.api.body import Body, read_body
from service.api.evaluation import evaluate
from service.config import Settings, get_settings
from service.families import SPARSE
from service.memory import retain_freed_memory

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            retain_freed_memory()  # as the service's own lifespan does
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _answer(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _app(step: Callable[[Scope, Receive, Settings], Awaitable[bytes]]) -> ASGIApp:
    settings = get_settings()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["method"] != "POST":  # the harness's health checks
            await _answer(send, b'{"status":"ok"}')
        else:
            await _answer(send, await step(scope, receive, settings))

    return app


async def _read(scope: Scope, receive: Receive, settings: Settings) -> bytes:
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    return b"%d" % size


async def _service_body(scope: Scope, receive: Receive, settings: Settings) -> Body:
    """The body as the service reads it."""
    return await read_body(Request(scope, receive), settings.max_body_bytes)


async def _body(scope: Scope, receive: Receive, settings: Settings) -> bytes:
    return b"%d" % len(await _service_body(scope, receive, settings))


async def _hop(scope: Scope, receive: Receive, settings: Settings) -> bytes:
    return b"%d" % await run_in_threadpool(len, await _service_body(scope, receive, settings))


async def _inline(scope: Scope, receive: Receive, settings: Settings) -> bytes:
    return evaluate(SPARSE, await _service_body(scope, receive, settings), settings).body


async def _thread(scope: Scope, receive: Receive, settings: Settings) -> bytes:
    body = await _service_body(scope, receive, settings)
    return (await run_in_threadpool(evaluate, SPARSE, body, settings)).body


read = _app(_read)
body = _app(_body)
hop = _app(_hop)
inline = _app(_inline)
thread = _app(_thread)
