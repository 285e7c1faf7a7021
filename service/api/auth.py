"""Optional API keys (``LOSS_SERVICE_API_KEYS``): the computing endpoints need one, probes, metrics and
the docs never do. A pure-ASGI middleware, so a refused request costs no routing and no body read."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .handlers import render_problem
from .problems import ProblemError

# Path prefixes that need a key (a prefix covers itself and everything under it). The OpenAPI document
# marks the same operations as secured.
PROTECTED_PREFIXES = ("/v1", "/v2/models")
# A key travels in a header: printable ASCII without spaces (and without commas, the list separator).
_KEY = re.compile(r"[\x21-\x2b\x2d-\x7e]+")


def load_keys(setting: SecretStr | None) -> tuple[bytes, ...]:
    """The configured keys as SHA-256 digests; () when unset or empty (no key needed).

    ``@/path`` reads one key per line. Errors never quote a key: they name its position."""
    spec = setting.get_secret_value().strip() if setting is not None else ""
    if not spec:
        return ()
    if spec.startswith("@"):
        source = f"the file {spec[1:]}"
        try:
            keys = Path(spec[1:]).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"LOSS_SERVICE_API_KEYS: cannot read {source}: {exc.strerror}") from None
    else:
        source, keys = "LOSS_SERVICE_API_KEYS", spec.split(",")
    keys = [key.strip() for key in keys if key.strip()]
    if not keys:  # configured, yet no key: refuse to start rather than run open by mistake
        raise ValueError(f"LOSS_SERVICE_API_KEYS: no key in {source}")
    for number, key in enumerate(keys, 1):
        if not _KEY.fullmatch(key):
            raise ValueError(
                f"LOSS_SERVICE_API_KEYS: key {number} in {source} has characters other than printable "
                "ASCII (no spaces or commas)"
            )
    # Digests have one length, so comparing them reveals neither a key's content nor its length.
    return tuple(hashlib.sha256(key.encode()).digest() for key in keys)


def is_protected(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PROTECTED_PREFIXES)


def _presented(scope: Scope) -> list[bytes]:
    """The keys the request offers: ``Authorization: Bearer <key>`` and ``X-API-Key: <key>``."""
    offered = []
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                offered.append(token.strip())
        elif name == b"x-api-key":
            offered.append(value.strip())
    return offered


def _accepted(offered: list[bytes], digests: tuple[bytes, ...]) -> bool:
    # Every offered key against every configured one, no early exit: the time taken says nothing about
    # which key, or how much of one, matched.
    match = False
    for candidate in offered:
        digest = hashlib.sha256(candidate).digest()
        for key in digests:
            match |= hmac.compare_digest(digest, key)
    return match


UNAUTHORIZED = ProblemError(
    "unauthorized",
    "This endpoint needs an API key",
    hint="send Authorization: Bearer <key> or X-API-Key: <key>",
    headers={"WWW-Authenticate": "Bearer"},
)


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, digests: tuple[bytes, ...]) -> None:
        self.app = app
        self.digests = digests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and is_protected(_route_path(scope))
            and not _accepted(_presented(scope), self.digests)
        ):
            # Missing and wrong keys get the same answer: nothing to tell a guesser.
            await render_problem(UNAUTHORIZED, Request(scope), max_items=1)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the root path a proxy mounts the app under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def install(app: FastAPI) -> None:
    """Require a key on the protected paths when keys are configured; add no layer when they are not."""
    digests = load_keys(app.state.settings.api_keys)
    if digests:
        app.add_middleware(ApiKeyMiddleware, digests=digests)
