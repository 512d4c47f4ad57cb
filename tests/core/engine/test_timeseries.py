"""Windows over a series on the worker (`TimeseriesSource`): the windows, targets and order
Keras's `timeseries_dataset_from_array` gives (tests/data/keras/gen_timeseries.py), the
checks at submit, and a Jena-style forecaster that learns from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import plan_job, train_job
from cornu.core.engine.batches import Batches
from cornu.core.engine.fit import to_data
from cornu.core.engine.trainer import Data
from cornu.core.engine.windows import epoch_order
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec, TimeseriesSource

REFERENCE = json.loads(
    (Path(__file__).parents[2] / "data" / "keras" / "timeseries_outputs.json").read_text()
)
SERIES = np.asarray(REFERENCE["series"], dtype=np.float32)
TARGETS = np.asarray(REFERENCE["targets_base"], dtype=np.float32)


def spec(source: dict[str, Any], *, compiled: bool = True, **fit: Any) -> JobSpec:
    """A small forecaster (Flatten, Dense(1)) on `source`; untrained without `compiled`."""
    body: dict[str, Any] = {
        "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 1}]},
        "fit": {"epochs": 2 if compiled else 0, "seed": 0, **fit},
        "data": {"type": "timeseries", **source},
    }
    if compiled:
        body["compile"] = {"optimizer": "rmsprop", "loss": "mse", "metrics": ["mae"]}
    return JobSpec.model_validate(body)


def case_source(case: dict[str, Any]) -> dict[str, Any]:
    """The Keras case as a source: the series as given, the targets by offset."""
    source = {"data": "series", **case["args"]}
    if case["targets_offset"] is not None:
        source |= {"targets": "targets", "targets_offset": case["targets_offset"]}
    return source


def windows_of(case: dict[str, Any]) -> tuple[TimeseriesSource, Data]:
    job = spec(case_source(case), compiled=False)
    arrays = {"series": SERIES[: case["series_steps"]], "targets": TARGETS}
    shapes = {k: v.shape for k, v in arrays.items()}
    plan = plan_job(job, shapes)
    assert plan.input_shapes == [(case["args"]["sequence_length"], 3)]
    from cornu.core.engine.build import build_model

    model = build_model(job.model, plan.input_shapes)
    ids = plan.data[0]
    assert ids.windows is not None
    return ids.windows, to_data(plan, ids, arrays, model, torch.device("cpu"))


def epoch_batches(source: TimeseriesSource, data: Data, epoch: int) -> list[dict[str, Any]]:
    """What the trainer takes in epoch `epoch`: the epoch's order, cut by Batches."""
    ordered = epoch_order(source, epoch, data)
    batches = Batches(ordered.samples, source.batch_size, shuffle=False)
    batches.start_epoch()
    found = []
    for _, index in batches.steps():
        assert isinstance(index, slice)
        batch = ordered.slice(index.start, index.stop)
        y = batch.y[0] if batch.y else None
        found.append({"x": batch.x[0].numpy(), "y": None if y is None else y.numpy()})
    return found


FIXED = [name for name, case in REFERENCE["cases"].items() if not case["args"].get("shuffle")]
SHUFFLED = [name for name, case in REFERENCE["cases"].items() if case["args"].get("shuffle")]


@pytest.mark.parametrize("name", FIXED)
def test_windows_targets_and_batches_are_keras(name: str) -> None:
    case = REFERENCE["cases"][name]
    source, data = windows_of(case)
    for epoch in range(2):
        ours, theirs = epoch_batches(source, data, epoch), case["epochs"][epoch]
        assert [len(b["x"]) for b in ours] == [len(b["x"]) for b in theirs]  # partial last
        for mine, keras in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(mine["x"], np.asarray(keras["x"], dtype=np.float32))
            if keras["y"] is None:
                assert mine["y"] is None
            else:  # a (1,) output: the targets get Keras's trailing axis
                np.testing.assert_array_equal(mine["y"].reshape(-1), keras["y"])


def _first_steps(batches: list[dict[str, Any]]) -> list[int]:
    """Each window's first step (the series holds 10 * step + feature)."""
    return [int(w[0][0]) // 10 for b in batches for w in np.asarray(b["x"])]


@pytest.mark.parametrize("name", SHUFFLED)
def test_shuffled_windows_are_kerass_with_its_seed(name: str) -> None:
    """Keras shuffles the window starts with numpy's RandomState(seed) — reproduced
    exactly — and then its tf.data pipeline reorders them through a shuffle buffer of
    batch_size * 8 windows, anew each epoch, with TensorFlow's own RNG. So: every epoch
    holds Keras's windows with Keras's targets in batches of Keras's sizes, and every
    window Keras gives at position j is among the first j + buffer of our first epoch
    (which only holds when both start from the same numpy order)."""
    case = REFERENCE["cases"][name]
    source, data = windows_of(case)
    buffer = source.batch_size * 8
    first = _first_steps(epoch_batches(source, data, 0))
    for epoch in range(2):
        ours, theirs = epoch_batches(source, data, epoch), case["epochs"][epoch]
        assert [len(b["x"]) for b in ours] == [len(b["x"]) for b in theirs]
        pairs = {
            (tuple(np.asarray(w).ravel()), float(t))
            for batches in (ours, theirs)
            for b in batches
            for w, t in zip(b["x"], np.asarray(b["y"]).reshape(-1), strict=True)
        }
        assert len(pairs) == len(first)  # the same windows with the same targets
        kerass = _first_steps(theirs)
        assert sorted(kerass) == sorted(first)
        for j, step in enumerate(kerass):
            assert step in first[: j + buffer], (epoch, j, step)
    assert _first_steps(epoch_batches(source, data, 1)) != first  # reshuffled, as Keras


def test_series_too_short_is_refused_with_the_numbers() -> None:
    error = pytest.raises(
        SpecError,
        plan_job,
        spec({"data": "s", "targets": "t", "sequence_length": 120, "sampling_rate": 6}),
        {"s": (500, 14), "t": (500,)},
    ).value
    assert "sequence_length=120" in error.detail and "715 steps" in error.detail
    assert "500" in error.detail and error.errors[0].loc == ("data",)


def test_targets_too_short_and_missing_datasets_are_refused() -> None:
    source = {"data": "s", "targets": "t", "targets_offset": 8, "sequence_length": 5}
    with pytest.raises(SpecError, match="targets hold 2 steps"):
        plan_job(spec(source | {"start_index": 3}), {"s": (50, 2), "t": (10,)})
    with pytest.raises(SpecError, match="no dataset 't'"):
        plan_job(spec(source), {"s": (50, 2)})


def test_window_shape_must_fit_the_model() -> None:
    job = JobSpec.model_validate(
        {
            "model": {
                "layers": [
                    {"type": "Input", "shape": [10, 3]},
                    {"type": "LSTM", "units": 4},
                    {"type": "Dense", "units": 1},
                ]
            },
            "compile": {"loss": "mse"},
            "data": {"type": "timeseries", "data": "s", "targets": "t", "sequence_length": 12},
        }
    )
    with pytest.raises(SpecError, match=r"shape \(12, 3\) but the model's input shape is"):
        plan_job(job, {"s": (100, 3), "t": (100,)})


def test_validation_split_is_refused_for_windows() -> None:
    with pytest.raises(ValueError, match="validation_split is only supported for arrays"):
        spec({"data": "s", "sequence_length": 3}, validation_split=0.2)


def test_shuffle_without_seed_draws_one_into_the_spec() -> None:
    drawn = TimeseriesSource.model_validate({"data": "s", "sequence_length": 3, "shuffle": True})
    assert drawn.seed is not None and 0 <= drawn.seed < 1_000_000
    again = TimeseriesSource.model_validate_json(drawn.model_dump_json())
    assert again.seed == drawn.seed


def jena_like(steps: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A (steps, 4) standardised 'climate' series whose first column is a daily cycle;
    the target is that column `delay` steps after a window's last step."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    temperature = np.sin(2 * np.pi * t / 144) + 0.05 * rng.normal(size=steps)
    series = np.stack([temperature, *rng.normal(size=(3, steps))], axis=1).astype(np.float32)
    return series, temperature.astype(np.float32)


def test_a_jena_style_forecaster_learns_from_windows() -> None:
    """The book's chapter 10 setup, small: windows of 24 steps every 3 (sampling_rate),
    the target 36 steps after the window's start + span, train/val split by index."""
    series, temperature = jena_like()
    length, rate = 24, 3
    delay = rate * (length + 12 - 1)
    common = {
        "sequence_length": length,
        "sampling_rate": rate,
        "batch_size": 32,
        "data": "series",
        "targets": "temperature",
        "targets_offset": delay,
    }
    job = JobSpec.model_validate(
        {
            "model": {
                "layers": [
                    {"type": "Input", "shape": [length, 4]},
                    {"type": "LSTM", "units": 16},
                    {"type": "Dense", "units": 1},
                ]
            },
            "compile": {"optimizer": "rmsprop", "loss": "mse", "metrics": ["mae"]},
            "fit": {
                "epochs": 4,
                "seed": 0,
                "validation_data": {"type": "timeseries", **common, "start_index": 800},
            },
            "data": {"type": "timeseries", **common, "shuffle": True, "seed": 3, "end_index": 800},
        }
    )
    arrays = {"series": series[:-delay], "temperature": temperature}
    result = train_job(job, arrays)
    history = result.history.history
    assert set(history) == {"loss", "mae", "val_loss", "val_mae"}
    assert len(history["loss"]) == 4
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_mae"][-1] < 0.5  # a daily cycle forecast beats the 0.64 of guessing 0
    # 800 - 69 steps per window span … windows: ceil(count / 32) steps per epoch.
    count = 800 - (length - 1) * rate
    assert result.trainer is not None and result.trainer.steps == -(-count // 32)


def test_a_stateful_model_on_windows_runs_in_the_sources_full_batches() -> None:
    """The source's batch_size is the one a stateful model's batches are checked
    against (fit's is not used), and its windows must fill every batch, as arrays'."""
    body: dict[str, Any] = {
        "model": {
            "layers": [
                {"type": "Input", "shape": [5, 3], "batch_size": 4},
                {"type": "LSTM", "units": 2, "stateful": True},
                {"type": "Dense", "units": 1},
            ]
        },
        "compile": {"loss": "mse"},
        "fit": {"epochs": 1, "batch_size": 32},  # fit's batch_size: not the one used
    }
    source = {"type": "timeseries", "data": "s", "targets": "t", "sequence_length": 5}
    shapes = {"s": (24, 3), "t": (24,)}  # 20 windows of 5 steps

    def planned(data: dict[str, Any], validation: dict[str, Any] | None = None) -> None:
        fit = body["fit"] | ({"validation_data": validation} if validation else {})
        plan_job(JobSpec.model_validate(body | {"data": data, "fit": fit}), shapes)

    planned(source | {"batch_size": 4}, source | {"batch_size": 4})  # 5 full batches
    error = pytest.raises(SpecError, planned, source | {"batch_size": 8}).value
    assert "batches hold 8 samples; use batch_size=4" in error.detail
    assert error.errors[0].loc == ("data", "batch_size")
    error = pytest.raises(SpecError, planned, source | {"batch_size": 4, "end_index": 22}).value
    assert "data holds 18 samples: the last batch would hold 2" in error.detail
    with pytest.raises(SpecError) as raised:
        planned(source | {"batch_size": 4}, source | {"batch_size": 4, "end_index": 23})
    assert "validation_data holds 19 samples" in raised.value.detail
    assert raised.value.errors[0].loc == ("fit", "validation_data", "batch_size")
