"""Tenants and their API keys. Keys are stored only as SHA-256 digests.

API keys are 256-bit random tokens, so a plain (unsalted, fast) digest is enough:
there is nothing to brute-force, unlike a password.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

import redis

from cornu.core.errors import SpecError
from cornu.core.store import keys

KEY_PREFIX = "cornu_"
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class Tenants:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def create_key(self, tenant: str) -> str:
        """A new API key for `tenant` (created if new). The key is shown once, never stored."""
        if not TENANT_NAME.match(tenant):
            raise SpecError(
                f"tenant name {tenant!r} must be 1-63 lowercase letters, digits, '_' or '-', "
                "starting with a letter or digit"
            )
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC).isoformat()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(keys.tenant(tenant), "created_at", now)
        pipe.hset(keys.api_key(_digest(api_key)), mapping={"tenant": tenant, "created_at": now})
        pipe.execute()
        return api_key

    def authenticate(self, api_key: str) -> str | None:
        """The tenant that owns `api_key`, or None."""
        if not api_key.startswith(KEY_PREFIX) or len(api_key) > 128:
            return None
        tenant = self.redis.hget(keys.api_key(_digest(api_key)), "tenant")
        return tenant.decode() if isinstance(tenant, bytes) else None
