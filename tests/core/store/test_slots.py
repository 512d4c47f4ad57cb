"""The memory slots hold on a shared device (`store.slots`), and what a job is estimated
to need (`engine.memory`), checked against a hand count."""

from __future__ import annotations

import time

from cornu.core.engine import plan_job
from cornu.core.engine.memory import PROCESS_BYTES, data_bytes, estimate_bytes
from cornu.core.spec import JobSpec
from cornu.core.store import Store
from cornu.core.store.slots import DeviceMemory


def test_a_hold_is_admitted_only_beside_what_fits_and_lapses_unless_renewed(store: Store) -> None:
    memory = DeviceMemory(store.redis, f"host-{time.time_ns()}:cuda:0")
    assert memory.hold("a", 600, capacity=1000, ttl_s=0.3)
    assert not memory.hold("b", 500, capacity=1000, ttl_s=0.3)  # 600 + 500 > 1000
    assert memory.hold("c", 400, capacity=1000, ttl_s=0.3)  # exactly full
    assert memory.hold("a", 600, capacity=1000, ttl_s=0.3)  # a renewal, not a second hold
    assert memory.held() == {"a": 600, "c": 400}
    memory.release("c")
    assert memory.hold("b", 300, capacity=1000, ttl_s=0.3)
    time.sleep(0.4)  # a and b were not renewed: a slot that died frees its memory
    assert memory.hold("big", 5000, capacity=1000, ttl_s=5)  # alone, too big still runs
    assert memory.held() == {"big": 5000}
    assert not memory.hold("d", 1, capacity=1000, ttl_s=5)


def test_the_estimate_counts_weights_optimizer_activations_and_data() -> None:
    spec = JobSpec.model_validate({
        "model": {"layers": [
            {"type": "Dense", "units": 64, "activation": "relu", "input_shape": [32]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
        "fit": {"batch_size": 8},
        "data": {"x": "x", "y": "y"},
    })  # fmt: skip
    shapes = {"x": (3000, 32), "y": (3000,)}
    plan = plan_job(spec, shapes)
    params = 32 * 64 + 64 + 64 * 4 + 4  # 2,372
    weights_grads_adam = 4 * params * (1 + 1 + 2)  # Adam: m and v per weight
    activations = 2 * 4 * (64 + 4) * 8  # each layer's output at batch 8, kept and its gradient
    data = 4 * (3000 * 32 + 3000)
    expected = PROCESS_BYTES + weights_grads_adam + activations + data
    assert estimate_bytes(spec, plan, data_bytes(shapes)) == expected
