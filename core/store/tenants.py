"""Tenants and their API keys. Keys are stored only as SHA-256 digests.

API keys are 256-bit random tokens, so a plain (unsalted, fast) digest is enough:
there is nothing to brute-force, unlike a password. Each key has an id (`key_…`), by
which it is listed and revoked, and a hint (its first characters) to recognise it by;
it may expire. Its scope says what it may do: `read-write` (its tenant's work),
`read-only` (reads only: GET) or `admin` (its tenant's work, and the admin API: every
tenant's keys and quotas). A revoked or expired key is refused from its next request on.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from cornu.core.errors import NotFound, SpecError
from cornu.core.ids import new_id
from cornu.core.store import keys
from cornu.core.store.values import text

KEY_PREFIX = "cornu_"
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")
HINT_CHARS = len(KEY_PREFIX) + 4  # `cornu_AbCd`: 24 of the key's 256 random bits
SCOPES = ("read-write", "read-only", "admin")


@dataclass(frozen=True)
class KeyInfo:
    """What is kept of an API key: never the key itself."""

    id: str
    tenant: str
    hint: str
    scope: str
    created_at: str
    expires_at: str | None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= (
            now or datetime.now(UTC)
        )


def digest(api_key: str) -> str:
    """What is stored of a key: its SHA-256, in hex."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def may_be_key(api_key: str) -> bool:
    """Whether `api_key` has a key's form (checked before any lookup)."""
    return api_key.startswith(KEY_PREFIX) and len(api_key) <= 128


def key_info(fields: dict[bytes, bytes]) -> KeyInfo | None:
    """A key's record as read from Redis; None for none."""
    values = {str(text(k)): str(text(v)) for k, v in fields.items()}
    if "tenant" not in values:
        return None
    return KeyInfo(
        id=values.get("id", "key_unlisted"),  # made before ids: `list_keys` gives one
        tenant=values["tenant"],
        hint=values.get("hint", KEY_PREFIX + "…"),
        scope=values.get("scope", "read-write"),
        created_at=values.get("created_at", ""),
        expires_at=values.get("expires_at"),
    )


class Tenants:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def create_key(self, tenant: str) -> str:
        """A new API key for `tenant` (created if new). The key is shown once, never stored."""
        return self.issue(tenant)[0]

    def issue(
        self, tenant: str, *, expires_at: datetime | None = None, scope: str = "read-write"
    ) -> tuple[str, KeyInfo]:
        """A new API key for `tenant` (created if new) and what is kept of it. SpecError
        for a bad tenant name, an unknown scope or an expiry in the past."""
        if not TENANT_NAME.match(tenant):
            raise SpecError(
                f"tenant name {tenant!r} must be 1-63 lowercase letters, digits, '_' or '-', "
                "starting with a letter or digit"
            )
        if scope not in SCOPES:
            raise SpecError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
        now = datetime.now(UTC)
        if expires_at is not None and expires_at <= now:
            raise SpecError(f"the key would expire at {expires_at.isoformat()}, in the past")
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        info = KeyInfo(
            id=new_id("key"),
            tenant=tenant,
            hint=api_key[:HINT_CHARS],
            scope=scope,
            created_at=now.isoformat(),
            expires_at=expires_at.isoformat() if expires_at else None,
        )
        fields: dict[str, str] = {k: v for k, v in vars(info).items() if v is not None}
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(keys.tenant(tenant), "created_at", info.created_at)
        pipe.hset(keys.api_key(digest(api_key)), mapping=fields)  # type: ignore[arg-type]
        pipe.hset(keys.api_keys(), info.id, digest(api_key))
        pipe.execute()
        return api_key, info

    def authenticate(self, api_key: str) -> str | None:
        """The tenant that owns `api_key` (valid: not revoked, not expired), or None."""
        found = self.principal(api_key)
        return found.tenant if found is not None else None

    def principal(self, api_key: str) -> KeyInfo | None:
        """What is kept of `api_key` if it is valid (not revoked, not expired), else None."""
        if not may_be_key(api_key):
            return None
        info = key_info(self.redis.hgetall(keys.api_key(digest(api_key))))  # type: ignore[arg-type]
        return info if info is not None and not info.expired() else None

    def list_keys(self, tenant: str | None = None) -> list[KeyInfo]:
        """Every key (of `tenant`, if given), oldest first; expired ones included. Keys
        made before keys had ids get one here, so that they can be revoked too."""
        self._index_older_keys()
        digests: dict[bytes, bytes] = self.redis.hgetall(keys.api_keys())  # type: ignore[assignment]
        pipe = self.redis.pipeline(transaction=False)
        for digest in digests.values():
            pipe.hgetall(keys.api_key(str(text(digest))))
        found = [key_info(fields) for fields in pipe.execute()]
        return sorted(
            (i for i in found if i is not None and (tenant is None or i.tenant == tenant)),
            key=lambda i: i.id,
        )

    def revoke(self, key_id: str) -> KeyInfo:
        """Delete the key `key_id`: refused from its next request on. NotFound if unknown."""
        digest = text(self.redis.hget(keys.api_keys(), key_id))
        info = key_info(self.redis.hgetall(keys.api_key(str(digest)))) if digest else None  # type: ignore[arg-type]
        if digest is None or info is None:
            raise NotFound(f"no API key {key_id!r}")
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.api_key(str(digest)))
        pipe.hdel(keys.api_keys(), key_id)
        pipe.execute()
        return info

    def _index_older_keys(self) -> None:
        """Give every key an older Cornu made (no id, no hint) an id in the index."""
        prefix = keys.api_key("")
        for name in self.redis.scan_iter(match=keys.api_key("*"), count=1000):
            found = str(text(name))
            if self.redis.hexists(found, "id") or not self.redis.hexists(found, "tenant"):
                continue
            key_id = new_id("key")
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(found, "id", key_id)
            pipe.hset(keys.api_keys(), key_id, found.removeprefix(prefix))
            pipe.execute()
