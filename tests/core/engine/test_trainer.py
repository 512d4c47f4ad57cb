"""`Trainer` on its own, on the CPU: `evaluate`'s loss and metrics against numpy with
weights set by hand (Keras's weighting of batches, sample weights and outputs), `predict`
batch by batch, one SGD step against the hand-computed gradient, the `stop_training` and
`steps` counters, and what a Trainer without an optimizer can do. Models, heads and data
come from a JobSpec through `plan_job`, `build_model` and `to_data`, as the service
builds them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import Callback, Trainer, build_model, plan_job
from cornu.core.engine.fit import array_shapes, to_data
from cornu.core.engine.optimizers import build_optimizer
from cornu.core.engine.plan import Plan
from cornu.core.engine.trainer import Data
from cornu.core.spec import JobSpec

CPU = torch.device("cpu")
Arrays = dict[str, np.ndarray]

# Five samples of three features, two targets each: batches of 2 leave a last one of 1.
X = np.array([[1, 0, 2], [0, 1, 1], [2, 1, 0], [1, 1, 1], [3, 0, 1]], np.float32)
Y = np.array([[1, 0], [0, 1], [2, 2], [1, -1], [-2, 4]], np.float32)
KERNEL = np.array([[0.5, -1.0], [1.0, 0.5], [-0.5, 0.25]], np.float32)
BIAS = np.array([0.1, -0.2], np.float32)


def compiled(
    arrays: Arrays,
    layers: list[dict[str, Any]] | dict[str, Any],
    weights: dict[str, np.ndarray],
    *,
    data: dict[str, Any] | None = None,
    fit: dict[str, Any] | None = None,
    trains: bool = True,
    **compile_: Any,
) -> tuple[Trainer, Data, Plan]:
    """A Trainer for `layers` (a Sequential's list, or a functional model) with `weights`
    by state_dict name (the others as initialised), compiled with SGD(0.1) and `compile_`
    (mse by default), and `arrays` as it reads them."""
    spec = JobSpec.model_validate(
        {
            "model": layers if isinstance(layers, dict) else {"layers": layers},
            "compile": {
                "optimizer": {"type": "SGD", "learning_rate": 0.1},
                "loss": "mse",
                **compile_,
            },
            "fit": fit or {},
            "data": data or {"x": "x", "y": "y"},
        }
    )
    plan = plan_job(spec, array_shapes(arrays))
    model = build_model(spec.model, plan.input_shapes)
    given = {name: torch.from_numpy(value) for name, value in weights.items()}
    model.load_state_dict({**model.state_dict(), **given})
    assert spec.compile is not None
    optimizer = build_optimizer(spec.compile.optimizer, model.parameters()) if trains else None
    trainer = Trainer(model, plan.heads, optimizer)
    return trainer, to_data(plan, plan.data[0], arrays, model, CPU), plan


def dense(arrays: Arrays | None = None, **options: Any) -> tuple[Trainer, Data, Plan]:
    """Dense(2) on X with KERNEL and BIAS."""
    return compiled(
        arrays or {"x": X, "y": Y},
        [{"type": "Dense", "units": 2}],
        {"layers.0.kernel": KERNEL, "layers.0.bias": BIAS},
        **options,
    )


def squared(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Keras's mean_squared_error per sample: the mean over the last axis."""
    return np.asarray(((pred - y) ** 2).mean(axis=-1), np.float64)


def absolute(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(np.abs(pred - y).mean(axis=-1), np.float64)


# -- evaluate --------------------------------------------------------------------------


def test_evaluate_weights_each_batch_by_its_size() -> None:
    trainer, data, _ = dense(metrics=["mae"])
    per_sample = squared(X @ KERNEL + BIAS, Y)
    # Keras's loss tracker weights each batch's mean loss by the batch's size
    # (keras/src/backend/torch/trainer.py: `_loss_tracker.update_state(loss,
    # sample_weight=<batch size>)`), so batches of 2, 2 and 1 give the mean over all five.
    expected = per_sample.mean()
    unweighted = np.mean([per_sample[0:2].mean(), per_sample[2:4].mean(), per_sample[4]])
    assert abs(unweighted - expected) > 1.0  # the data tell the two rules apart

    logs = trainer.evaluate(data, batch_size=2)
    assert list(logs) == ["loss", "mae"]
    assert logs["loss"] == pytest.approx(expected, rel=1e-6)
    assert logs["mae"] == pytest.approx(absolute(X @ KERNEL + BIAS, Y).mean(), rel=1e-6)
    assert trainer.evaluate(data, batch_size=5) == pytest.approx(logs, rel=1e-6)


W = np.array([1.0, 2.0, 0.0, 0.5, 1.5], np.float32)  # a weight per sample of X


def weighted(**metrics: list[str]) -> tuple[Trainer, Data, Plan]:
    """`dense()` with sample weights W and `metrics`/`weighted_metrics`."""
    data = {"x": "x", "y": "y", "sample_weight": "w"}
    return dense({"x": X, "y": Y, "w": W}, data=data, **metrics)


def test_evaluate_with_sample_weights_divides_the_loss_by_the_samples() -> None:
    trainer, data, _ = weighted(metrics=["mae"], weighted_metrics=["mse"])
    pred = X @ KERNEL + BIAS
    logs = trainer.evaluate(data, batch_size=2)
    # The loss's "sum_over_batch_size": sum(w * loss) / batch size, each batch then
    # weighted by its size: sum(w * loss) / 5 (keras/src/losses/loss.py, `reduce_values`).
    assert logs["loss"] == pytest.approx((W * squared(pred, Y)).sum() / 5, rel=1e-6)
    # A weighted metric is a weighted mean: sum(w * value) / sum(w); `metrics` ignore w.
    assert logs["mse"] == pytest.approx((W * squared(pred, Y)).sum() / W.sum(), rel=1e-6)
    assert logs["mae"] == pytest.approx(absolute(pred, Y).mean(), rel=1e-6)


def test_a_metric_in_both_metrics_and_weighted_metrics_is_reported_twice() -> None:
    trainer, data, plan = weighted(metrics=["mae"], weighted_metrics=["mae"])
    logs = trainer.evaluate(data, batch_size=2)
    assert list(logs) == plan.history_keys == ["loss", "mae", "weighted_mae"]
    errors = np.abs(X @ KERNEL + BIAS - Y).mean(axis=-1)
    assert logs["mae"] == pytest.approx(errors.mean(), rel=1e-6)
    assert logs["weighted_mae"] == pytest.approx((W * errors).sum() / W.sum(), rel=1e-6)
    # Named twice in one list: Keras numbers the second (`mae_1`), with the same value.
    trainer, data, plan = weighted(metrics=["mae", "mae"])
    logs = trainer.evaluate(data, batch_size=2)
    assert list(logs) == plan.history_keys == ["loss", "mae", "mae_1"]
    assert logs["mae_1"] == logs["mae"] == pytest.approx(errors.mean(), rel=1e-6)


def two_outputs(*layers: str) -> dict[str, Any]:
    """A functional model with outputs `out` (Dense(1)) and `aux` (Dense(2)) on one input,
    its layers built in the order `layers` names them (their state_dict indices)."""
    units = {"out": 1, "aux": 2}
    return {
        "type": "functional",
        "inputs": [{"name": "features", "shape": [3]}],
        "layers": [
            {"name": n, "type": "Dense", "units": units[n], "inputs": ["features"]} for n in layers
        ],
        "outputs": ["out", "aux"],
    }


def test_evaluate_weights_each_outputs_loss_into_the_total() -> None:
    model = two_outputs("out", "aux")
    out_kernel = np.array([[1.0], [-1.0], [0.5]], np.float32)
    out_bias = np.array([0.5], np.float32)
    y1 = np.array([1, 0, 2, 1, 3], np.float32)
    trainer, data, _ = compiled(
        {"x": X, "y1": y1, "y2": Y},
        model,
        {
            "layers.0.kernel": out_kernel,
            "layers.0.bias": out_bias,
            "layers.1.kernel": KERNEL,
            "layers.1.bias": BIAS,
        },
        data={"x": "x", "y": {"out": "y1", "aux": "y2"}},
        loss={"out": "mse", "aux": "mae"},
        loss_weights={"out": 1.0, "aux": 0.5},
    )
    out_loss = squared(X @ out_kernel + out_bias, y1[:, None]).mean()
    aux_loss = absolute(X @ KERNEL + BIAS, Y).mean()
    logs = trainer.evaluate(data, batch_size=2)
    # Keras 3 logs each output's *unweighted* loss and minimises the weighted sum
    # (keras/src/trainers/compile_utils.py, `CompileLoss.call`).
    assert list(logs) == ["aux_loss", "loss", "out_loss"]
    assert logs["out_loss"] == pytest.approx(out_loss, rel=1e-6)
    assert logs["aux_loss"] == pytest.approx(aux_loss, rel=1e-6)
    assert logs["loss"] == pytest.approx(out_loss + 0.5 * aux_loss, rel=1e-6)


# -- predict ---------------------------------------------------------------------------


def test_predict_runs_batch_by_batch_without_dropout() -> None:
    hidden_kernel = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.5]], np.float32)
    hidden_bias = np.array([0.5, -1.0], np.float32)
    head_kernel = np.array([[2.0], [-1.0]], np.float32)
    head_bias = np.array([0.25], np.float32)
    y = np.zeros((5, 1), np.float32)
    trainer, data, _ = compiled(
        {"x": X, "y": y},
        [
            {"type": "Dense", "units": 2, "activation": "relu"},
            {"type": "Dropout", "rate": 0.5},
            {"type": "Dense", "units": 1},
        ],
        {
            "layers.0.kernel": hidden_kernel,
            "layers.0.bias": hidden_bias,
            "layers.2.kernel": head_kernel,
            "layers.2.bias": head_bias,
        },
    )
    expected = np.maximum(X @ hidden_kernel + hidden_bias, 0) @ head_kernel + head_bias
    assert trainer.model.training  # a fresh module: predict must switch dropout off

    (outputs,) = trainer.predict(data.x, batch_size=2)
    assert outputs.dtype == torch.float32 and outputs.shape == (5, 1)
    np.testing.assert_allclose(outputs.numpy(), expected, rtol=1e-6)
    with torch.no_grad():
        (whole,) = trainer.model.run(data.x).outputs
    assert torch.equal(outputs, whole)
    # evaluate is in inference mode too: the loss of the weights, not of a dropout draw.
    trainer.model.train()
    assert trainer.evaluate(data, batch_size=2)["loss"] == pytest.approx(
        (expected**2).mean(), rel=1e-6
    )


def test_predict_gives_every_output_in_the_models_order() -> None:
    model = two_outputs("aux", "out")  # aux built first; the outputs come in the order given
    out_kernel = np.array([[1.0], [-1.0], [0.5]], np.float32)
    trainer, data, _ = compiled(
        {"x": X, "y1": np.zeros(5, np.float32), "y2": Y},
        model,
        {
            "layers.0.kernel": KERNEL,
            "layers.0.bias": BIAS,
            "layers.1.kernel": out_kernel,
            "layers.1.bias": np.zeros(1, np.float32),
        },
        data={"x": "x", "y": {"out": "y1", "aux": "y2"}},
    )
    out, aux = trainer.predict(data.x, batch_size=3)
    np.testing.assert_allclose(out.numpy(), X @ out_kernel, rtol=1e-6)
    np.testing.assert_allclose(aux.numpy(), X @ KERNEL + BIAS, rtol=1e-6)


# -- training steps --------------------------------------------------------------------

X2 = np.array([[1, 2], [3, 4]], np.float32)
Y2 = np.array([1, 0], np.float32)


@pytest.mark.parametrize(
    ("batch_size", "kernel", "bias", "loss"),
    [
        # One batch of both samples. pred = x @ [0.5, -0.5] + 0.25 = [-0.25, -0.25];
        # r = pred - y = [-1.25, -0.25]; loss = mean(r**2) = 0.8125;
        # dL/dw = 2/2 * (r0 * x0 + r1 * x1) = [-2.0, -3.5]; dL/db = r0 + r1 = -1.5.
        # SGD: w - 0.1 * dL/dw = [0.7, -0.15]; b = 0.25 + 0.15 = 0.4.
        (2, [0.7, -0.15], 0.4, 0.8125),
        # Two steps of one sample. Step 1: r = -1.25, loss 1.5625, dL/dw = 2r * [1, 2] =
        # [-2.5, -5], dL/db = -2.5: w = [0.75, 0.0], b = 0.5. Step 2 on [3, 4]:
        # pred = 2.75, r = 2.75, loss 7.5625, dL/dw = 5.5 * [3, 4] = [16.5, 22],
        # dL/db = 5.5: w = [-0.9, -2.2], b = -0.05. The epoch's loss is the mean of the
        # two batches' losses, each taken before its step: 4.5625.
        (1, [-0.9, -2.2], -0.05, 4.5625),
    ],
)
def test_an_sgd_step_moves_each_weight_by_minus_lr_times_its_gradient(
    batch_size: int, kernel: list[float], bias: float, loss: float
) -> None:
    trainer, data, _ = compiled(
        {"x": X2, "y": Y2},
        [{"type": "Dense", "units": 1}],
        {
            "layers.0.kernel": np.array([[0.5], [-0.5]], np.float32),
            "layers.0.bias": np.array([0.25], np.float32),
        },
    )
    history = trainer.fit(data, batch_size=batch_size, shuffle=False)
    weights = trainer.get_weights()
    np.testing.assert_allclose(weights["layers.0.kernel"].numpy()[:, 0], kernel, rtol=1e-6)
    np.testing.assert_allclose(weights["layers.0.bias"].numpy(), [bias], rtol=1e-5)
    assert history.history == {"loss": [pytest.approx(loss, rel=1e-6)]}
    assert trainer.optimizer.iterations == 2 // batch_size


class Stopper(Callback):
    """Stops training after batch `at` of the first epoch; keeps each batch's loss and
    where `progress()` stood then."""

    wants_batch_loss = True

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.losses: list[float | None] = []
        self.progress: list[tuple[int, int, int]] = []
        self.steps: list[int] = []

    def on_train_batch_end(self, batch: int, loss: float | None = None) -> None:
        self.losses.append(loss)
        p = self.trainer.progress()
        self.progress.append((p["epoch"], p["batch"], p["batches"]))
        if batch == self.at:
            self.trainer.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.steps.append(self.trainer.steps)


def test_stop_training_in_a_batch_ends_the_epoch_and_the_run() -> None:
    x = np.arange(30, dtype=np.float32).reshape(10, 3) / 10
    y = np.ones((10, 2), np.float32)
    trainer, data, _ = dense({"x": x, "y": y})
    stopper = Stopper(at=1)
    history = trainer.fit(data, batch_size=4, epochs=5, shuffle=False, callbacks=[stopper])
    # Keras breaks out of the batch loop, still ends the epoch (callbacks get its logs),
    # then stops (keras/src/backend/torch/trainer.py, `fit`).
    assert stopper.progress == [(1, 1, 3), (1, 2, 3)]  # epoch 1 of 3 batches, 2 run
    assert trainer.optimizer.iterations == 2 and stopper.steps == [3]
    assert len(history.history["loss"]) == 1
    first, second = stopper.losses
    assert first is not None and second is not None
    assert history.history["loss"][0] == pytest.approx((first + second) / 2, rel=1e-6)

    # The next fit starts afresh: Keras resets stop_training when fit begins.
    again = trainer.fit(data, batch_size=4, epochs=2, shuffle=False, callbacks=[Stopper(None)])
    assert len(again.history["loss"]) == 2 and trainer.optimizer.iterations == 2 + 2 * 3


def test_steps_counts_each_epochs_batches_with_steps_per_epoch() -> None:
    x = np.arange(30, dtype=np.float32).reshape(10, 3) / 10
    trainer, data, _ = dense({"x": x, "y": np.ones((10, 2), np.float32)})
    counter = Stopper(None)
    trainer.fit(data, batch_size=4, epochs=3, steps_per_epoch=2, callbacks=[counter])
    # Three batches per pass (4 + 4 + 2): epoch 1 takes two, epoch 2 the one left (a pass
    # that runs out ends its epoch), epoch 3 starts a new pass
    # (keras/src/trainers/epoch_iterator.py, `_enumerate_iterator`).
    assert counter.steps == [2, 1, 2]
    assert [batch for _, batch, _ in counter.progress] == [1, 2, 1, 1, 2]
    assert trainer.optimizer.iterations == 5


def test_validation_runs_on_the_epochs_validation_freq_names() -> None:
    x = np.arange(30, dtype=np.float32).reshape(10, 3) / 10
    trainer, data, _ = dense({"x": x, "y": np.ones((10, 2), np.float32)})
    validation = Data([torch.from_numpy(X)], [torch.from_numpy(Y)])
    history = trainer.fit(
        data,
        batch_size=4,
        epochs=3,
        validation=validation,
        validation_batch_size=2,
        validation_freq=[1, 3],
    ).history
    assert len(history["loss"]) == 3 and len(history["val_loss"]) == 2
    # The last validation saw the final weights, as evaluate does.
    assert history["val_loss"][-1] == pytest.approx(
        trainer.evaluate(validation, batch_size=2)["loss"], rel=1e-6
    )


def test_the_history_holds_the_keys_the_plan_promised() -> None:
    model = two_outputs("out", "aux")
    trainer, data, plan = compiled(
        {"x": X, "y1": np.zeros(5, np.float32), "y2": Y},
        model,
        {},
        data={"x": "x", "y": {"out": "y1", "aux": "y2"}},
        fit={"validation_split": 0.4},
        metrics={"out": ["mae"], "aux": ["mse", "mae"]},
    )
    history = trainer.fit(data.slice(0, 3), batch_size=2, validation=data.slice(3, 5))
    assert list(history.history) == plan.history_keys


# -- without an optimizer --------------------------------------------------------------


def test_a_trainer_without_an_optimizer_evaluates_and_predicts_but_cannot_train() -> None:
    trainer, data, _ = dense(metrics=["mae"], trains=False)
    pred = X @ KERNEL + BIAS
    assert trainer.evaluate(data, batch_size=2)["loss"] == pytest.approx(
        squared(pred, Y).mean(), rel=1e-6
    )
    np.testing.assert_allclose(trainer.predict(data.x)[0].numpy(), pred, rtol=1e-6)

    message = "this Trainer was made without an optimizer: it cannot train"
    with pytest.raises(RuntimeError, match=message):
        _ = trainer.optimizer
    before = trainer.get_weights()
    with pytest.raises(RuntimeError, match=message):
        trainer.fit(data, batch_size=2)
    after = trainer.get_weights()
    assert all(torch.equal(before[name], after[name]) for name in before)
