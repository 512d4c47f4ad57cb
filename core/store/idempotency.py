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
from cornu.core.store.values import text

# KEYS: record   ARGV: fingerprint, ttl (s)  → '' (reserved), 'mismatch', 'pending', 'done:<id>'
_BEGIN = """
local found = redis.call('GET', KEYS[1])
if not found then
  redis.call('SET', KEYS[1], cjson.encode({fp = ARGV[1], state = 'pending'}), 'EX', ARGV[2])
  return ''
end
local record = cjson.decode(found)
if record['fp'] ~= ARGV[1] then return 'mismatch' end
if record['state'] == 'pending' then return 'pending' end
return 'done:' .. record['id']
"""

# KEYS: record   ARGV: fingerprint, id, ttl (s)  → the id to answer with, or 'mismatch'
_RECORD = """
local found = redis.call('GET', KEYS[1])
if found then
  local record = cjson.decode(found)
  if record['fp'] ~= ARGV[1] then return 'mismatch' end
  if record['state'] == 'done' then return record['id'] end
end
local record = cjson.encode({fp = ARGV[1], state = 'done', id = ARGV[2]})
redis.call('SET', KEYS[1], record, 'EX', ARGV[3])
return ARGV[2]
"""


def _mismatch(key: str) -> Conflict:
    return Conflict(
        f"Idempotency-Key {key!r} was already used for a different request; use a new key "
        "for a new request"
    )


class Idempotency:
    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.redis = client
        self.ttl_s = ttl_s
        self._begin = client.register_script(_BEGIN)
        self._record = client.register_script(_RECORD)

    def _key(self, tenant: str, scope: str, key: str) -> str:
        return keys.idempotency(tenant, scope, hashlib.sha256(key.encode()).hexdigest())

    def begin(self, tenant: str, scope: str, key: str, fingerprint: str) -> str | None:
        """Reserve `key` (None: go ahead), or the id of the resource it already made."""
        outcome = str(
            text(self._begin(keys=[self._key(tenant, scope, key)], args=[fingerprint, self.ttl_s]))
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
                    keys=[self._key(tenant, scope, key)],
                    args=[fingerprint, resource_id, self.ttl_s],
                )
            )
        )
        if answer == "mismatch":
            raise _mismatch(key)
        return answer
