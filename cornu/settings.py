"""The SDK's settings, read once from `CORNU_*` environment variables (pydantic-settings):
where the service is, whose key to use, and the client's own bounds."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024**2
GiB = 1024**3


class ClientSettings(BaseSettings):
    """`CORNU_URL`, `CORNU_API_KEY`, `CORNU_HOME`, `CORNU_MAX_DRAWN_BYTES`, and the
    bounds of resumable uploads (`CORNU_MULTIPART_BYTES`, `CORNU_PART_BYTES`, …)."""

    model_config = SettingsConfigDict(env_prefix="CORNU_", extra="ignore", populate_by_name=True)

    url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    home: Path = Field(default=Path("~/.cornu"), description="where `cornu up` keeps its key")
    max_drawn_bytes: int = Field(
        default=2 * GiB,
        description="most bytes fit draws from a generator or PyDataset for one epoch",
    )
    # Resumable uploads (see cornu/resumable.py): an array whose compressed .npy file is
    # larger than `multipart_bytes` goes in parts of about `part_bytes` (bounded by what
    # the service allows), each tried up to 1 + `part_retries` times, waiting
    # `retry_backoff_seconds` · 2^k seconds (at most 30) between tries.
    multipart_bytes: int = Field(
        default=8 * MiB, ge=1, description="compressed size above which an upload is resumable"
    )
    part_bytes: int = Field(default=16 * MiB, ge=1, description="bytes of one part, compressed")
    parallel_parts: int = Field(default=4, ge=1, le=32, description="parts sent at once")
    part_retries: int = Field(default=4, ge=0, le=20)
    retry_backoff_seconds: float = Field(
        default=0.5,
        ge=0,
        le=30,
        # the old name, CORNU_RETRY_BACKOFF_S, still read
        validation_alias=AliasChoices("CORNU_RETRY_BACKOFF_SECONDS", "CORNU_RETRY_BACKOFF_S"),
    )
    part_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="longest wait for one read or write of a part",
        validation_alias=AliasChoices("CORNU_PART_TIMEOUT_SECONDS", "CORNU_PART_TIMEOUT_S"),
    )

    def key(self) -> str | None:
        """`CORNU_API_KEY`, or the key `cornu up` wrote to `$CORNU_HOME/api_key`."""
        if self.api_key:
            return self.api_key
        key_file = self.home.expanduser() / "api_key"
        return key_file.read_text().strip() if key_file.is_file() else None


def client_settings() -> ClientSettings:
    """The settings as the environment gives them now (read afresh: a notebook may set
    `os.environ` between calls)."""
    return ClientSettings()
