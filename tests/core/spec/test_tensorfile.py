"""Reading a safetensors header without its tensors."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save

from cornu.core.spec import tensorfile


def test_the_header_from_a_prefix_and_a_refusal_of_what_is_not_one() -> None:
    data = save({"w": np.zeros((3, 4), np.float32)}, metadata={"keras_order": '["w"]'})
    end = tensorfile.header_end(data[:8])
    assert end < len(data)  # the tensors follow
    found = tensorfile.header(data[:end])
    assert found["w"]["shape"] == [3, 4] and found["__metadata__"] == {"keras_order": '["w"]'}
    with pytest.raises(ValueError, match="not a safetensors file"):
        tensorfile.header_end((10**9).to_bytes(8, "little"))
    with pytest.raises(ValueError, match="not a safetensors file"):
        tensorfile.header_end(b"\x01")


def test_keras_order_is_what_the_metadata_records() -> None:
    arrays = {name: np.zeros(2, np.float32) for name in ("dense/kernel", "dense/bias", "a/b")}
    order = ["dense/kernel", "dense/bias", "a/b"]  # Keras's get_weights(): not sorted
    data = save(arrays, metadata=tensorfile.order_metadata(order))
    assert tensorfile.keras_order(data) == order
    assert sorted(tensorfile.keras_order(save(arrays))) == sorted(order)  # none recorded
