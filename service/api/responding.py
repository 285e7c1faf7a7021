"""Read a body within the limits, evaluate it (off the event loop when large), answer: shared by /v1 and
/v2, whose framing differs only in the evaluate function and the media types they accept."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from ..config import Settings
from .body import Body, read_body
from .evaluation import Answer
from .offload import evaluate_off_loop

# Below this size parsing and math take microseconds: a thread hop would cost more than it saves.
INLINE_BODY_BYTES = 64 * 1024

Evaluate = Callable[[Body, Settings], Answer]


async def respond(
    request: Request, evaluate: Evaluate, check_media_type: Callable[[Request], None]
) -> Response:
    settings: Settings = request.app.state.settings
    check_media_type(request)
    # No name of ours keeps the body alive.
    box = [await read_body(request, settings.max_body_bytes, settings.max_decompressed_bytes)]
    if len(box[0]) <= INLINE_BODY_BYTES:
        answer = evaluate(box[0], settings)
    else:
        answer = await evaluate_off_loop(_evaluate_and_free, evaluate, box, settings)
    request.state.elements = answer.elements
    return Response(answer.body, media_type=answer.media_type, headers=answer.headers)


def _evaluate_and_free(evaluate: Evaluate, box: list[Body], settings: Settings) -> Answer:
    """Evaluate the only reference to a large body, so it is freed here: unmapping 40 MB takes ~10 ms,
    which the event loop should not spend."""
    return evaluate(box.pop(), settings)
