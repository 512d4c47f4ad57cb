"""Fixtures the SDK's tests share."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def keras() -> Any:
    import keras

    return keras
