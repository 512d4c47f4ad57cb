"""fit's arguments for how data is walked, against Keras 3.15 itself: steps_per_epoch,
validation_steps, validation_freq, validation_batch_size, shuffle='batch', each epoch's
own data (what generators yield), LearningRateScheduler tables, and epochs=0."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import Callback, train_job
from cornu.core.engine.batches import Batches
from cornu.core.engine.fit import DatasetArrays
from cornu.core.engine.plan import plan_job
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec
from tests.core.engine.test_fit import blobs, job


class Steps(Callback):
    """Counts the batches of each epoch and the samples each batch took."""

    def __init__(self) -> None:
        self.per_epoch: list[int] = []
        self.sizes: list[list[int]] = []

    def on_epoch_begin(self, epoch: int) -> None:
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        self.per_epoch[-1] += 1


def keras_steps(samples: int, batch_size: int, epochs: int, **fit: Any) -> dict[str, Any]:
    """Real Keras: batches per epoch, and the epochs whose logs carry val_loss."""
    program = textwrap.dedent(
        f"""
        import json, os, warnings
        os.environ["KERAS_BACKEND"] = "torch"
        warnings.simplefilter("ignore")
        import numpy as np, keras
        x = np.random.rand({samples}, 4).astype("float32"); y = np.random.randint(0, 3, {samples})
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        steps = []
        class Count(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None): steps.append(0)
            def on_train_batch_end(self, batch, logs=None): steps[-1] += 1
        fit = json.loads({repr(__import__("json").dumps(fit))})
        if "validation_data" in fit:
            n = fit.pop("validation_data")
            fit["validation_data"] = (x[:n], y[:n])
        h = model.fit(x, y, batch_size={batch_size}, epochs={epochs}, verbose=0,
                      callbacks=[Count()], **fit)
        print(json.dumps({{"steps": steps, "val": len(h.history.get("val_loss", []))}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    return result


def cornu_steps(samples: int, batch_size: int, epochs: int, **fit: Any) -> dict[str, Any]:
    x, y = blobs(samples)
    arrays = {"x": x, "y": y}
    if "validation_data" in fit:
        n = fit.pop("validation_data")
        arrays |= {"vx": x[:n], "vy": y[:n]}
        fit["validation_data"] = {"x": "vx", "y": "vy"}
    spec = job(fit={"epochs": epochs, "batch_size": batch_size, "seed": 0, **fit})
    counter = Steps()
    result = train_job(spec, arrays, callbacks=[counter])
    return {"steps": counter.per_epoch, "val": len(result.history.history.get("val_loss", []))}


@pytest.mark.parametrize(
    ("samples", "batch_size", "epochs", "fit"),
    [
        (10, 3, 5, {"steps_per_epoch": 3}),  # a pass of 4 batches runs out mid-epoch
        (10, 3, 4, {"steps_per_epoch": 2}),  # two epochs per pass
        (10, 3, 3, {"steps_per_epoch": 6}),  # more steps than a pass holds
        (12, 4, 6, {"validation_data": 6, "validation_freq": 2}),
        (12, 4, 5, {"validation_data": 6, "validation_freq": [1, 4]}),
    ],
)
def test_steps_and_validations_per_epoch_are_keras_s(
    samples: int, batch_size: int, epochs: int, fit: dict[str, Any]
) -> None:
    assert cornu_steps(samples, batch_size, epochs, **fit) == keras_steps(
        samples, batch_size, epochs, **fit
    )


def _passes(batches: Batches, epochs: int) -> list[list[list[int]]]:
    out = []
    for _ in range(epochs):
        batches.start_epoch()
        epoch = []
        for _, index in batches.steps():
            ids = torch.arange(batches.samples)[index]
            epoch.append(ids.tolist())
        out.append(epoch)
    return out


def test_shuffle_batch_permutes_whole_batches_and_keeps_the_short_one_whole() -> None:
    batches = Batches(10, 4, shuffle="batch", generator=torch.Generator().manual_seed(1))
    for epoch in _passes(batches, 6):
        assert sorted(map(tuple, epoch)) == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]


def test_steps_per_epoch_goes_on_through_one_shuffled_pass() -> None:
    batches = Batches(8, 2, shuffle=True, steps_per_epoch=2, generator=torch.Generator())
    first, second, third = _passes(batches, 3)
    seen = [i for batch in first + second for i in batch]
    assert sorted(seen) == list(range(8))  # epochs 1 and 2 share one pass, no repeats
    assert len(third) == 2


def test_a_resumed_epoch_takes_the_batches_it_had_left() -> None:
    whole = Batches(
        9, 2, shuffle="batch", steps_per_epoch=3, generator=torch.Generator().manual_seed(3)
    )
    expected = _passes(whole, 2)
    run = Batches(
        9, 2, shuffle="batch", steps_per_epoch=3, generator=torch.Generator().manual_seed(3)
    )
    run.start_epoch()
    state = run.get_state()  # saved before the epoch's first batch… then resumed at batch 1
    resumed = Batches(0, 2)
    resumed.set_state(state)
    resumed.samples, resumed.batch_size, resumed.per_pass = 9, 2, 5
    got = [torch.arange(9)[index].tolist() for _, index in resumed.steps(first=1)]
    assert got == expected[0][1:]


def test_each_epoch_trains_on_its_own_data() -> None:
    x, y = blobs(96)
    spec = job(
        fit={"epochs": 3, "batch_size": 16, "seed": 0, "shuffle": False},
        data=[{"x": f"x{i}", "y": f"y{i}"} for i in range(3)],
    )
    sizes = (32, 48, 16)
    arrays: dict[str, np.ndarray] = {}
    start = 0
    for i, n in enumerate(sizes):
        arrays[f"x{i}"], arrays[f"y{i}"] = x[start : start + n], y[start : start + n]
        start += n
    held: list[list[str]] = []  # the arrays loaded on the host when each one is loaded

    def load(dataset_id: str) -> np.ndarray:
        held.append(sorted(lazy._loaded))
        return arrays[dataset_id]

    lazy = DatasetArrays(load, {k: v.shape for k, v in arrays.items()})
    counter = Steps()
    train_job(spec, lazy, callbacks=[counter])
    assert counter.per_epoch == [2, 3, 1]
    # Each epoch's arrays are loaded when it starts, the last epoch's forgotten first.
    assert held == [[], ["x0"], [], ["x1"], [], ["x2"]]


def test_learning_rate_scheduler_sets_each_epoch_from_its_table() -> None:
    x, y = blobs(64)
    table = [0.1, 0.05, 0.025]
    spec = job(
        fit={
            "epochs": 3,
            "seed": 0,
            "callbacks": [{"type": "LearningRateScheduler", "schedule": table}],
        }
    )
    history = train_job(spec, {"x": x, "y": y}).history.history
    assert history["learning_rate"] == table


def test_epochs_zero_trains_nothing_and_needs_no_data_or_compile() -> None:
    spec = JobSpec.model_validate(
        {
            "model": {"layers": [{"type": "Dense", "units": 2, "input_shape": [3]}]},
            "fit": {"epochs": 0, "seed": 5},
        }
    )
    first = train_job(spec, {}).model.keras_weights()
    again = train_job(spec, {}).model.keras_weights()
    assert first["dense/kernel"].shape == (3, 2)
    assert torch.equal(first["dense/kernel"], again["dense/kernel"])  # the seed decides


def test_every_epochs_targets_must_be_shaped_as_the_first_epochs() -> None:
    spec = job(fit={"epochs": 2}, data=[{"x": "x0", "y": "y0"}, {"x": "x1", "y": "y1"}])
    shapes = {"x0": (8, 4), "y0": (8,), "x1": (8, 4), "y1": (8, 3)}
    with pytest.raises(SpecError) as refused:
        plan_job(spec, shapes)
    assert refused.value.errors[0].loc == ("data", 1, "y")
    assert "(3,) per sample; the first epoch's are ()" in refused.value.detail
