"""Calls (evaluate, predict, export for the API, run by a worker): one claim runs a call,
a withdrawn call is skipped, the answer is the status and body as given."""

from __future__ import annotations

import json

from cornu.core.calls import _json
from cornu.core.store import Store


def test_a_call_is_claimed_once_and_answered_as_given(store: Store) -> None:
    call_id = store.calls.create("t1", "job_X", "predict", {"x": "ds_Y", "batch_size": 32})
    call = store.calls.claim(call_id)
    assert call is not None and (call.tenant, call.job_id, call.kind) == ("t1", "job_X", "predict")
    assert call.body == {"x": "ds_Y", "batch_size": 32}
    assert store.calls.claim(call_id) is None  # a task delivered twice runs it once
    store.calls.answer(call_id, 422, b'{"detail": "no"}')
    assert store.redis.lpop(f"cornu:call:{call_id}:answer") == b'422\n{"detail": "no"}'
    assert store.redis.ttl(f"cornu:call:{call_id}:answer") == -2  # taken: gone
    assert not store.redis.exists(f"cornu:call:{call_id}")


def test_a_withdrawn_call_is_skipped(store: Store) -> None:
    call_id = store.calls.create("t1", "job_X", "evaluate", {})
    store.calls.withdraw(call_id)
    assert store.calls.claim(call_id) is None
    assert store.calls.claim("call_unknown") is None


def test_numbers_json_cannot_hold_are_null() -> None:
    """A diverged model's loss or predictions (NaN, inf) are null in the answer, as
    finite numbers stay."""
    assert json.loads(_json({"loss": float("nan"), "accuracy": 0.5})) == {
        "loss": None, "accuracy": 0.5}  # fmt: skip
    assert json.loads(_json({"predictions": [[1.0], [float("inf")]]})) == {
        "predictions": [[1.0], [None]]}  # fmt: skip
