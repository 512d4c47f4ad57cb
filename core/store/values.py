"""Decoding Redis replies: the client returns bytes, the store works in str."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def text_fields(fields: Any) -> dict[str, str]:
    """A hash reply (`HGETALL`) as str → str."""
    return {str(text(k)): str(text(v)) for k, v in dict(fields or {}).items()}
