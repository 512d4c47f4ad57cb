"""Settings name every duration `_seconds`; the variables of the older `_s` names are
still read, so a deployment that sets them keeps working."""

from __future__ import annotations

import pytest

from cornu.core.config import Settings
from cornu.settings import ClientSettings


def test_durations_are_seconds_and_the_old_names_are_still_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORNU_REDIS_TIMEOUT_S", "7")
    monkeypatch.setenv("CORNU_BROKER_VISIBILITY_TIMEOUT_S", "11")
    monkeypatch.setenv("CORNU_RETRY_BACKOFF_S", "0.25")
    settings, client = Settings(), ClientSettings()
    assert settings.redis_timeout_seconds == 7 and settings.broker_visibility_timeout_seconds == 11
    assert client.retry_backoff_seconds == 0.25
    monkeypatch.setenv("CORNU_REDIS_TIMEOUT_SECONDS", "9")  # the new name wins
    assert Settings().redis_timeout_seconds == 9
    assert Settings(redis_timeout_seconds=2).redis_timeout_seconds == 2  # and by field name
    monkeypatch.setenv("REDIS_TIMEOUT_SECONDS", "99")  # without the prefix: not ours
    monkeypatch.delenv("CORNU_REDIS_TIMEOUT_SECONDS")
    monkeypatch.delenv("CORNU_REDIS_TIMEOUT_S")
    assert Settings().redis_timeout_seconds == 3.0


def test_no_setting_is_named_with_a_short_unit() -> None:
    for model in (Settings, ClientSettings):
        assert not [name for name in model.model_fields if name.endswith("_s")]
