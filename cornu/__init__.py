"""Cornu's Python SDK: `cornu.Client` speaks the HTTP contract. No torch needed."""

from __future__ import annotations

from core.errors import (
    Conflict,
    CornuError,
    DataError,
    InvalidDataset,
    JobFailed,
    NonFiniteLoss,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    SpecError,
    Unauthorized,
)
from cornu.client import Client

__all__ = [
    "Client",
    "Conflict",
    "CornuError",
    "DataError",
    "InvalidDataset",
    "JobFailed",
    "NonFiniteLoss",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "SpecError",
    "Unauthorized",
]
