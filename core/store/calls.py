"""Calls: work on a trained job (evaluate, predict, export) that the API hands to a worker
and waits for, so that no dataset or model is ever loaded in the API process.

A call is a hash (`keys.call`: tenant, job, kind, the request's JSON) that lives
`CALL_TTL_S`; the worker that runs it pushes its answer, the HTTP status and the
response body already encoded (`<status>\\n<json>`), onto `keys.call_answer`, where the
API waits for it (BLPOP, in `Feeds.answer`) and sends the body on as it came, unparsed.
A call runs once at most: its task is acknowledged on receipt (never redelivered) and the
worker claims the record before running it. A worker lost mid-call leaves the API's wait
to end in a 503 (the client retries: calls change nothing). An answer nobody collects
expires; a call withdrawn by the API (it gave up waiting) is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

from cornu.core.ids import new_id
from cornu.core.store import keys
from cornu.core.store.lua import Script
from cornu.core.store.values import text_fields

CALL_TTL_S = 3600  # a call waits for a worker this long, an answer for its reader too


@dataclass(frozen=True)
class Call:
    id: str
    tenant: str
    job_id: str
    kind: str  # "evaluate", "predict" or "export"
    body: dict[str, Any]


class Calls:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim = Script(client, "claim_call")

    def create(self, tenant: str, job_id: str, kind: str, body: dict[str, Any]) -> str:
        """Record a call; its id (what the worker's task carries)."""
        call_id = new_id("call")
        fields = {"tenant": tenant, "job_id": job_id, "kind": kind, "body": json.dumps(body)}
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.call(call_id), mapping=fields)  # type: ignore[arg-type]
        pipe.expire(keys.call(call_id), CALL_TTL_S)
        pipe.execute()
        return call_id

    def claim(self, call_id: str) -> Call | None:
        """The call, taken by the caller; None if it was taken already (a task delivered
        twice), answered, withdrawn or expired: it runs once at most."""
        flat = self._claim(keys={"call": keys.call(call_id)}) or []  # HGETALL's name, value, …
        found = text_fields(dict(zip(flat[::2], flat[1::2], strict=True)))
        if "kind" not in found:
            return None
        return Call(call_id, found["tenant"], found["job_id"], found["kind"],
                    json.loads(found["body"]))  # fmt: skip

    def withdraw(self, call_id: str) -> None:
        """The API gave up waiting: a worker that takes the call later skips it."""
        self.redis.delete(keys.call(call_id))

    def answer(self, call_id: str, status: int, body: bytes) -> None:
        """The call's answer: an HTTP status and the JSON body to send as it is. The call
        goes: a task redelivered after this finds nothing to run."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.call(call_id))
        pipe.rpush(keys.call_answer(call_id), str(status).encode() + b"\n" + body)
        pipe.expire(keys.call_answer(call_id), CALL_TTL_S)
        pipe.execute()
