"""compile + fit from a JobSpec: data checks, Keras's fit semantics, and real learning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import Callback, plan_job, train_job
from cornu.core.engine.fit import class_weights
from cornu.core.engine.trainer import Data
from cornu.core.engine.weight_checks import check_initial_weights
from cornu.core.errors import DataError, NonFiniteLoss, SpecError
from cornu.core.spec import JobSpec, parse_job_spec


def job(layers: list[dict[str, Any]] | None = None, **sections: Any) -> JobSpec:
    data: dict[str, Any] = {
        "model": {
            "layers": layers
            or [
                {"type": "Dense", "units": 16, "activation": "relu"},
                {"type": "Dense", "units": 3, "activation": "softmax"},
            ]
        },
        "compile": {
            "optimizer": {"type": "rmsprop", "learning_rate": 0.01},
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "fit": {"epochs": 2, "batch_size": 16, "seed": 0},
        "data": {"x": "x", "y": "y"},
    }
    data.update(sections)
    return JobSpec.model_validate(data)


def blobs(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three separable clusters in 4-D."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)).astype(np.float32) + 3 * np.eye(3, 4, dtype=np.float32)[y]
    return x, y


def test_the_spec_locates_an_unknown_metric() -> None:
    with pytest.raises(SpecError) as info:
        parse_job_spec({**job().model_dump(), "compile": {"loss": "mse", "metrics": ["acc", "f1"]}})
    assert info.value.errors[0].where == "compile.metrics[1]"
    assert info.value.errors[0].msg.startswith("unknown metric 'f1'")


def test_fit_learns_and_reports_keras_history() -> None:
    x, y = blobs()
    vx, vy = blobs(90, seed=1)
    spec = job(fit={"epochs": 5, "seed": 0, "validation_data": {"x": "vx", "y": "vy"}})
    result = train_job(spec, {"x": x, "y": y, "vx": vx, "vy": vy})
    history = result.history.history
    assert list(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # Keras 3's order
    assert all(len(values) == 5 for values in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9


def test_validation_split_is_the_last_fraction_of_the_data() -> None:
    x, y = blobs(100)
    spec = job(fit={"epochs": 2, "seed": 0, "validation_split": 0.25})
    result = train_job(spec, {"x": x, "y": y})
    tail = result.trainer.evaluate(
        Data([torch.from_numpy(x[75:])], [torch.from_numpy(y[75:])]), batch_size=16
    )
    assert result.history.history["val_loss"][-1] == pytest.approx(tail["loss"])
    assert result.history.history["val_accuracy"][-1] == pytest.approx(tail["accuracy"])


def test_same_seed_same_run() -> None:
    x, y = blobs()
    first = train_job(job(), {"x": x, "y": y}).history.history
    second = train_job(job(), {"x": x, "y": y}).history.history
    other = train_job(job(fit={"epochs": 2, "seed": 1}), {"x": x, "y": y}).history.history
    assert first == second and first != other


def test_binary_labels_without_the_unit_axis() -> None:
    x, y = blobs()
    layers = [
        {"type": "Dense", "units": 8, "activation": "relu"},
        {"type": "Dense", "units": 1, "activation": "sigmoid"},
    ]
    spec = job(
        layers,
        compile={
            "optimizer": {"type": "adam", "learning_rate": 0.01},
            "loss": "binary_crossentropy",
            "metrics": ["accuracy"],
        },
    )
    result = train_job(spec, {"x": x, "y": (y == 0).astype(np.float32)})
    assert result.history.history["accuracy"][-1] > 0.8


def test_the_books_mse_with_one_hot_targets() -> None:
    x, y = blobs()
    spec = job(
        compile={
            "optimizer": {"type": "rmsprop", "lr": 0.01},
            "loss": "mse",
            "metrics": ["accuracy"],
        }
    )
    result = train_job(spec, {"x": x, "y": np.eye(3, dtype=np.float32)[y]})
    assert result.history.history["accuracy"][-1] > 0.8


def test_nan_in_x_names_the_sample() -> None:
    x, y = blobs()
    x[17, 2] = np.nan
    with pytest.raises(
        DataError, match=r"x contains NaN or infinite values \(the first in sample 17\)"
    ):
        train_job(job(), {"x": x, "y": y})


def test_label_out_of_range_is_a_data_error() -> None:
    x, y = blobs()
    y[5] = 7
    with pytest.raises(DataError, match="class index 7 at sample 5.*3 units"):
        train_job(job(), {"x": x, "y": y})


def test_fractional_labels_are_a_data_error() -> None:
    x, y = blobs()
    labels = y.astype(np.float32)
    labels[3] = 1.5
    with pytest.raises(DataError, match="integer class indices.*sample 3 holds 1.5"):
        train_job(job(), {"x": x, "y": labels})


def test_a_diverging_loss_stops_with_a_hint() -> None:
    x, y = blobs()
    spec = job(
        [{"type": "Dense", "units": 3}],
        compile={"optimizer": {"type": "SGD", "learning_rate": 1e30}, "loss": "mse"},
    )
    with pytest.raises(NonFiniteLoss, match="epoch 1; lower the learning rate"):
        train_job(spec, {"x": x * 1e10, "y": np.eye(3, dtype=np.float32)[y]})


def test_callbacks_see_each_epoch_and_can_stop_training() -> None:
    class StopAfterTwo(Callback):
        def __init__(self) -> None:
            self.epochs: list[int] = []
            self.batches = 0

        def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
            self.batches += 1

        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            self.epochs.append(epoch)
            if epoch == 1:
                self.trainer.stop_training = True

    x, y = blobs(64)
    callback = StopAfterTwo()
    result = train_job(
        job(fit={"epochs": 10, "batch_size": 16}), {"x": x, "y": y}, callbacks=[callback]
    )
    assert callback.epochs == [0, 1] and callback.batches == 8
    assert len(result.history.history["loss"]) == 2


def test_class_weight_weights_each_sample_by_its_class() -> None:
    x, y = blobs()
    silent = job(fit={"epochs": 1, "seed": 0, "class_weight": {"0": 0.0, "1": 0.0, "2": 0.0}})
    assert train_job(silent, {"x": x, "y": y}).history.history["loss"] == [0.0]
    labels = torch.tensor([0, 2, 1, 2])
    weights = class_weights(labels, {2: 3.0}, (3,))  # unnamed classes keep weight 1
    assert weights.tolist() == [1.0, 3.0, 1.0, 3.0]
    one_hot = torch.eye(3)[labels]
    assert class_weights(one_hot, {2: 3.0}, (3,)).tolist() == [1.0, 3.0, 1.0, 3.0]
    with pytest.raises(SpecError, match="class_weight or sample_weight, not both"):
        plan_job(
            job(fit={"class_weight": {"0": 1.0}}, data={"x": "x", "y": "y", "sample_weight": "w"}),
            {"x": x.shape, "y": y.shape, "w": (300,)},
        )


def test_initial_weights_continue_where_another_run_ended() -> None:
    """`fit.initial_weights`: the run starts from the given state, as Keras's second fit
    starts from the weights the first one left; the seed no longer decides them."""

    class StartingWeights(Callback):
        def on_train_begin(self) -> None:
            self.state = {k: v.clone() for k, v in self.trainer.model.state_dict().items()}

    x, y = blobs()
    first = train_job(job(fit={"epochs": 3, "batch_size": 16, "seed": 0}), {"x": x, "y": y})
    trained = {k: v.clone() for k, v in first.model.state_dict().items()}
    seen = StartingWeights()
    spec = job(fit={"epochs": 1, "batch_size": 16, "seed": 1, "initial_weights": "job_" + "0" * 26})
    second = train_job(spec, {"x": x, "y": y}, callbacks=[seen], initial_weights=("state", trained))

    assert seen.state.keys() == trained.keys()
    assert all(torch.equal(seen.state[k], trained[k]) for k in trained)
    assert second.history.history["loss"][0] < first.history.history["loss"][0] / 2


def test_initial_weights_of_another_model_are_refused_by_name_and_shape() -> None:
    plan = plan_job(job(), {"x": (300, 4), "y": (300,)})
    other = plan_job(
        job([{"type": "Dense", "units": 8}, {"type": "Dense", "units": 3}]),
        {"x": (300, 4), "y": (300,)},
    )
    with pytest.raises(SpecError) as info:
        check_initial_weights(plan, "job_X", other.state_shapes)
    (error,) = info.value.errors
    assert error.loc == ("fit", "initial_weights")
    assert "layer 'dense' (index 0): kernel is (4, 16) here but (4, 8) in that job" in error.msg
    assert "layer 'dense_1' (index 1): kernel is (16, 3) here but (8, 3) in that job" in error.msg
    assert "job job_X" in error.msg and "leave it out" in error.msg

    deeper = plan_job(
        job(
            [
                {"type": "Dense", "units": 16},
                {"type": "Dense", "units": 16},
                {"type": "Dense", "units": 3},
            ]
        ),
        {"x": (300, 4), "y": (300,)},
    )
    with pytest.raises(SpecError) as info:
        check_initial_weights(plan, "job_X", deeper.state_shapes)
    assert "that job has 2 weights this model lacks" in info.value.detail
    check_initial_weights(plan, "job_X", plan.state_shapes)  # the same model: accepted


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "LSTM", "units": 3, "stateful": True},
        {"type": "Bidirectional", "layer": {"type": "GRU", "units": 3, "stateful": True}},
        {"type": "RNN", "cell": {"type": "LSTMCell", "units": 3}, "stateful": True},
    ],
)
def test_a_stateful_model_runs_only_with_the_models_fixed_batch_size(
    layer: dict[str, Any],
) -> None:
    from cornu.core.engine.summary import summarize

    model = {"layers": [{"type": "Input", "shape": [5, 2]}, layer, {"type": "Dense", "units": 1}]}
    assert summarize(model).total_params > 0  # its weights are those of stateful=False
    with pytest.raises(SpecError, match="stateful=True, which needs the model's fixed batch"):
        plan_job(job(model["layers"]), {"x": (10, 5, 2), "y": (10, 1)})
    fixed = [{"type": "Input", "shape": [5, 2], "batch_size": 5}, *model["layers"][1:]]
    stateful = job(fixed, fit={"epochs": 1, "batch_size": 5, "shuffle": False})
    assert plan_job(stateful, {"x": (10, 5, 2), "y": (10, 1)})  # two full batches of 5
    with pytest.raises(SpecError, match="the last batch would hold 1"):
        plan_job(stateful, {"x": (11, 5, 2), "y": (11, 1)})
