"""Settings for every Cornu role, read from `CORNU_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class Settings(BaseSettings):
    """One place for addresses, limits and timeouts; each is `CORNU_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="CORNU_", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    home: Path = Field(default=Path("~/.cornu"), description="data of the embedded stack")
    queue: str = "cornu"
    device: str | None = Field(default=None, description="torch device; default cuda if any")

    # Limits: every size and time a request can ask for is bounded.
    max_upload_bytes: int = 512 * MiB
    max_request_bytes: int = 1 * MiB
    max_epochs: int = 10_000
    max_batch_size: int = 65_536
    max_params: int = 200_000_000
    max_layers: int = 1_000
    max_predict_samples: int = 1_024  # inline `inputs` of one predict request
    max_predict_values: int = 2_000_000  # numbers one predict response may hold

    # Redis answers in milliseconds; past this the API reports 503 instead of hanging.
    redis_timeout_s: float = 3.0
    # Broker visibility timeout: a message unacknowledged this long is redelivered.
    broker_visibility_timeout_s: int = 12 * 3600

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()


@lru_cache
def get_settings() -> Settings:
    return Settings()
