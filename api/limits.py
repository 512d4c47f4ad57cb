"""Request bodies are bounded: by Content-Length up front, and by counting as they stream."""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cornu.api.errors import from_error
from cornu.core.errors import PayloadTooLarge


def _detail(limit: int) -> str:
    return f"the request body is larger than this endpoint accepts ({limit} bytes)"


class BodyLimit:
    """ASGI middleware: 413 for a body past `limit_for(scope)` bytes, never read in full."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await from_error(PayloadTooLarge(_detail(limit)))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing unchanged.
                    raise HTTPException(413, _detail(limit))
            return message

        await self.app(scope, limited, send)
