"""JSON request bodies checked for numbers Cornu cannot hold, before any route reads them.

Python's `json` reads `Infinity`, `NaN` and `1e999` (as infinity) and integers of any size;
pydantic takes such floats unless a field says otherwise, and a non-finite float is then
stored as JSON `null` and breaks the worker that reads the spec back. Keras computes in
float32, so a float beyond float32's range (a `learning_rate` of 1e308) overflows the
moment it becomes a tensor, and an integer beyond 64 bits fits no dtype. Each is refused
here with the location of the first such number, as a 422 like any other spec error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from fastapi import Request, Response
from fastapi.routing import APIRoute

from cornu.core.errors import SpecError

FLOAT32_MAX = float(np.finfo(np.float32).max)  # 3.4028235e38
INT64_LIMIT = 2**63


def unholdable(
    value: Any, where: tuple[str | int, ...] = ()
) -> tuple[tuple[str | int, ...], str] | None:
    """The location of the first number in parsed JSON `value` that is not finite, is a
    float beyond float32's range or an integer beyond int64's, and why; None if none is."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(where, value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, dict):
            stack.extend(((*loc, str(k)), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*loc, i), v) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, bool):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                return loc, f"{item} is not a finite number (JSON has no Infinity or NaN)"
            if abs(item) > FLOAT32_MAX:
                return (
                    loc,
                    f"{item:g} is beyond float32's range (±{FLOAT32_MAX:.4g}), in which "
                    "Keras computes",
                )
        elif isinstance(item, int) and not -INT64_LIMIT <= item < INT64_LIMIT:
            return loc, "the integer is beyond 64 bits"
    return None


class CheckedJSONRoute(APIRoute):
    """A route whose JSON body (if any) holds only numbers Cornu can hold (`unholdable`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if request.headers.get("content-type", "").split(";")[0].strip().endswith("json"):
                try:
                    # Parsed once: the request keeps it, and FastAPI's own handler reads
                    # it back from there (`Request.json`).
                    data = await request.json() if await request.body() else None
                except (ValueError, RecursionError):
                    data = None  # FastAPI answers malformed JSON itself
                found = unholdable(data)
                if found is not None:
                    raise SpecError(found[1], found[0])
            return await handler(request)

        return checked
