"""The header of a safetensors file, read without loading its tensors: the names, dtypes
and shapes of the tensors, and the `__metadata__` strings (Cornu keeps Keras's weight
order there). Pure Python, so the SDK reads it without torch."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MAX_HEADER_BYTES = 100_000_000  # the safetensors format's own bound


def header_end(prefix: bytes) -> int:
    """Where the header ends (its JSON runs from byte 8 to here), from the first 8 bytes."""
    size = int.from_bytes(prefix[:8], "little")
    if len(prefix) < 8 or size > MAX_HEADER_BYTES:
        raise ValueError(f"not a safetensors file (its header claims {size} bytes)")
    return 8 + size


def header(data: bytes) -> dict[str, Any]:
    """`{tensor name: {"dtype", "shape", "data_offsets"}, "__metadata__": {…}}`; `data`
    needs only to reach the header's end."""
    parsed: dict[str, Any] = json.loads(data[8 : header_end(data)])
    return parsed


#: The metadata key of Keras's `get_weights()` order: safetensors keeps no order itself.
KERAS_ORDER = "keras_order"


def order_metadata(names: Iterable[str]) -> dict[str, str]:
    """The `__metadata__` that records `names` as the file's Keras order."""
    return {KERAS_ORDER: json.dumps(list(names))}


def keras_order(data: bytes) -> list[str]:
    """The tensor names of the safetensors file `data` in Keras's `get_weights()` order:
    the order its metadata records, else the header's own."""
    found = header(data)
    recorded = (found.get("__metadata__") or {}).get(KERAS_ORDER)
    return json.loads(recorded) if recorded else [k for k in found if k != "__metadata__"]
