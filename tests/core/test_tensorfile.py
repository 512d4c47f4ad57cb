"""Reading a safetensors header without its tensors."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save

from cornu.core import tensorfile


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
