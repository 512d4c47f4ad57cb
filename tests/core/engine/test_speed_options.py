"""Keras's speed options (issue 13, item 4): `compile(jit_compile=True)` runs the model
under torch.compile (and trains without it, saying so, when it does not compile);
`steps_per_execution` spaces the batch-level callbacks; `mixed_precision: "fp16"` scales
the loss as Keras's LossScaleOptimizer does, and the scale is part of a checkpoint."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import Callback, train_job
from cornu.core.engine import trainer as trainer_module
from cornu.core.spec import JobSpec

rng = np.random.default_rng(0)
ARRAYS = {"x": rng.normal(size=(300, 8)).astype("float32"),
          "y": rng.integers(0, 3, 300)}  # fmt: skip


def spec_of(compile: dict[str, Any] | None = None, **fit: Any) -> JobSpec:
    return JobSpec.model_validate({
        "model": {"layers": [
            {"type": "Dense", "units": 16, "activation": "relu", "input_shape": [8]},
            {"type": "Dense", "units": 3, "activation": "softmax"}]},
        "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"], **(compile or {})},
        "fit": {"epochs": 2, "batch_size": 32, "seed": 0, **fit},
        "data": {"x": "x", "y": "y"},
    })  # fmt: skip


class BatchCalls(Callback):
    def __init__(self) -> None:
        self.batches: list[int] = []

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        self.batches.append(batch)


def test_jit_compile_trains_the_same_model_under_torch_compile() -> None:
    eager = train_job(spec_of(), ARRAYS)
    torch._dynamo.reset()
    compiled = train_job(spec_of({"jit_compile": True}), ARRAYS)
    assert compiled.trainer is not None and compiled.trainer._compiled is not None
    assert not compiled.trainer.messages
    np.testing.assert_allclose(compiled.history.history["loss"], eager.history.history["loss"],
                               rtol=1e-4)  # fmt: skip


def test_a_model_that_does_not_compile_trains_eagerly_with_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refusing(fn: Any) -> Any:
        def run(*args: Any) -> Any:
            raise RuntimeError("backend compiler failed: no C++ compiler\nmore detail")

        return run

    monkeypatch.setattr(trainer_module.torch, "compile", refusing)
    result = train_job(spec_of({"jit_compile": True}), ARRAYS)
    eager = train_job(spec_of(), ARRAYS)
    assert result.trainer is not None
    [message] = result.trainer.messages
    assert message.startswith("jit_compile: the model does not compile")
    assert "no C++ compiler" in message and "more detail" not in message
    assert result.history.history["loss"] == eager.history.history["loss"]


def test_steps_per_execution_calls_batch_callbacks_once_per_execution() -> None:
    calls = BatchCalls()
    train_job(spec_of({"steps_per_execution": 4}), ARRAYS, callbacks=[calls])
    per_epoch = [3, 7, 9]  # 10 steps an epoch: after steps 4, 8 and the epoch's last
    assert calls.batches == per_epoch * 2
    every = BatchCalls()
    train_job(spec_of(), ARRAYS, callbacks=[every])
    assert every.batches == list(range(10)) * 2


def test_float16_loss_scaling_keeps_the_float32_result_and_checkpoints_its_scale() -> None:
    plain = train_job(spec_of(), ARRAYS)
    scaled = train_job(spec_of(mixed_precision="fp16"), ARRAYS)  # CPU: float32 math
    assert scaled.trainer is not None and scaled.trainer.scaler is not None
    np.testing.assert_allclose(scaled.history.history["loss"], plain.history.history["loss"],
                               rtol=1e-5)  # fmt: skip
    state = scaled.trainer.capture(end_of_epoch=True)
    assert math.isclose(state["loss_scale"]["scale"], 2.0**15)
    assert "loss_scale" not in plain.trainer.capture(end_of_epoch=True)  # type: ignore[union-attr]
