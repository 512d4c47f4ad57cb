"""`Idempotency-Key`: a repeated request gets the original result, not a second resource.

A key is scoped to a tenant and an endpoint and remembers the request's fingerprint
(a hash of what was asked) and, once done, the resource it created. The same key with
another fingerprint is a conflict. Records expire after `ttl_s`.
"""

from __future__ import annotations

import hashlib
import json

import redis

from cornu.core.errors import Conflict
from cornu.core.store import keys
from cornu.core.store.lua import Script
from cornu.core.store.values import text


def _mismatch(key: str) -> Conflict:
    return Conflict(
        f"Idempotency-Key {key!r} was already used for a different request; use a new key "
        "for a new request"
    )


class Idempotency:
    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.redis = client
        self.ttl_s = ttl_s
        self._begin = Script(client, "begin_idempotent")
        self._record = Script(client, "record_idempotent")

    def _key(self, tenant: str, scope: str, key: str) -> str:
        return keys.idempotency(tenant, scope, hashlib.sha256(key.encode()).hexdigest())

    def begin(self, tenant: str, scope: str, key: str, fingerprint: str) -> str | None:
        """Reserve `key` (None: go ahead), or the id of the resource it already made."""
        outcome = str(
            text(
                self._begin(
                    keys={"record": self._key(tenant, scope, key)},
                    args={"fingerprint": fingerprint, "ttl_s": self.ttl_s},
                )
            )
        )
        if outcome == "mismatch":
            raise _mismatch(key)
        if outcome == "pending":
            raise Conflict(
                f"a request with Idempotency-Key {key!r} is still in progress; retry shortly"
            )
        return outcome.removeprefix("done:") or None

    def complete(
        self, tenant: str, scope: str, key: str, fingerprint: str, resource_id: str
    ) -> None:
        record = json.dumps({"fp": fingerprint, "state": "done", "id": resource_id})
        self.redis.set(self._key(tenant, scope, key), record, ex=self.ttl_s)

    def abandon(self, tenant: str, scope: str, key: str) -> None:
        """The request failed: forget the reservation so that a retry can succeed."""
        self.redis.delete(self._key(tenant, scope, key))

    def record(self, tenant: str, scope: str, key: str, fingerprint: str, resource_id: str) -> str:
        """After the fact (uploads, whose fingerprint is known only once read): the id to
        answer with — `resource_id`, or the one the key made first."""
        answer = str(
            text(
                self._record(
                    keys={"record": self._key(tenant, scope, key)},
                    args={"fingerprint": fingerprint, "id": resource_id, "ttl_s": self.ttl_s},
                )
            )
        )
        if answer == "mismatch":
            raise _mismatch(key)
        return answer
