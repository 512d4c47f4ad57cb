"""The engine's built-in callbacks, epoch by epoch, against Keras 3's rules
(`keras/src/callbacks/early_stopping.py`, `reduce_lr_on_plateau.py`,
`model_checkpoint.py`, `monitor_callback.py`); every expected value is worked out by
hand from those rules in the comments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from cornu.core.engine.callbacks import (
    Callback,
    EarlyStopping,
    ModelCheckpoint,
    ReduceLROnPlateau,
    from_specs,
)
from cornu.core.spec import callbacks as spec


@dataclass
class Optimizer:
    learning_rate: float


@dataclass
class Fitting:
    """What a callback touches of the Trainer: the weights, `stop_training`, the
    messages it prints and the optimizer's learning rate. The weights of epoch `e` are
    `{"w": [e]}`, so the weights a callback keeps tell which epoch they are from."""

    optimizer: Optimizer = field(default_factory=lambda: Optimizer(0.1))
    stop_training: bool = False
    messages: list[str] = field(default_factory=list)
    weights: dict[str, torch.Tensor] = field(default_factory=lambda: {"w": torch.tensor([-1.0])})

    def get_weights(self) -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in self.weights.items()}

    def set_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.weights = weights


def run(
    callback: Callback, values: list[float], monitor: str = "val_loss", trainer: Any = None
) -> tuple[Fitting, list[dict[str, float]]]:
    """Train `len(values)` epochs (fewer if the callback stops them), epoch `e` ending
    with `{monitor: values[e]}`."""
    trainer = trainer or Fitting()
    callback.set_trainer(trainer)
    callback.on_train_begin()
    logs_seen = []
    for epoch, value in enumerate(values):
        trainer.weights = {"w": torch.tensor([float(epoch)])}
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        logs_seen.append(logs)
        if trainer.stop_training:
            break
    callback.on_train_end()
    return trainer, logs_seen


def epoch_of(trainer: Fitting) -> int:
    return int(trainer.weights["w"].item())


def test_early_stopping_counts_epochs_without_an_improvement_by_min_delta() -> None:
    # e0: best 1.0. e1: 0.95 + 0.1 < 1.0? no, wait 1. e2: 1.03 < 1.0? no, wait 2 >= 2: stop.
    callback = EarlyStopping(spec.EarlyStopping(patience=2, min_delta=0.1, verbose=1))
    trainer, logs = run(callback, [1.0, 0.95, 0.93, 0.5, 0.49])
    assert len(logs) == 3 and trainer.stop_training
    assert callback.stopped_epoch == 2
    assert trainer.messages == ["Epoch 3: early stopping"]


def test_early_stopping_reads_the_direction_and_restores_the_best_weights() -> None:
    # accuracy rises ("auto" mode: max). Best at e1 (0.7); e2 and e3 do not beat it: stop at e3.
    callback = EarlyStopping(
        spec.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
    )
    trainer, logs = run(callback, [0.5, 0.7, 0.6, 0.65, 0.9], monitor="val_accuracy")
    assert len(logs) == 4
    assert epoch_of(trainer) == 1 and callback.best == 0.7
    assert trainer.messages == []  # verbose=0


def test_early_stopping_baseline_keeps_counting_until_beaten() -> None:
    # Keras: an improvement that does not beat the baseline leaves `wait` counting, and
    # stopping is only checked on epochs that do not improve. e0: wait 1 (0.5 < 0.8);
    # e1: improves, wait 2; e2: no improvement, 3 >= 1: stop.
    callback = EarlyStopping(
        spec.EarlyStopping(monitor="val_accuracy", patience=1, baseline=0.8, mode="max")
    )
    _, logs = run(callback, [0.5, 0.6, 0.55, 0.9], monitor="val_accuracy")
    assert len(logs) == 3


def test_early_stopping_starts_from_epoch_and_ignores_a_missing_monitor() -> None:
    callback = EarlyStopping(spec.EarlyStopping(patience=0, start_from_epoch=2))
    _, logs = run(callback, [1.0, 2.0, 3.0, 4.0])  # e2 sets the best, e3 is worse: stop
    assert len(logs) == 4 and callback.stopped_epoch == 3
    trainer, logs = run(EarlyStopping(spec.EarlyStopping(patience=0)), [1.0, 2.0], monitor="loss")
    assert len(logs) == 2 and not trainer.stop_training  # val_loss never logged


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr() -> None:
    # lr 0.1, factor 0.5, patience 1, cooldown 1, min_lr 0.02; the logs get the rate the
    # epoch trained with. e1: 0.05; e2 (cooldown ends, wait 1): 0.025; e3: max(0.0125,
    # 0.02) = 0.02; e4: already at min_lr; e5 improves.
    callback = ReduceLROnPlateau(
        spec.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=1, min_lr=0.02, min_delta=0)
    )
    trainer, logs = run(callback, [1.0, 1.0, 1.0, 1.0, 1.0, 0.5])
    assert [log["learning_rate"] for log in logs] == pytest.approx(
        [0.1, 0.1, 0.05, 0.025, 0.02, 0.02]
    )
    assert trainer.optimizer.learning_rate == pytest.approx(0.02)
    assert callback.best == 0.5 and callback.wait == 0


def test_reduce_lr_on_plateau_needs_min_delta_of_improvement() -> None:
    # Keras compares `current < best - min_delta`: 0.95 < 1.0 - 0.1 is no improvement.
    callback = ReduceLROnPlateau(spec.ReduceLROnPlateau(patience=1, min_delta=0.1, verbose=1))
    trainer, _ = run(callback, [1.0, 0.95])
    assert trainer.optimizer.learning_rate == pytest.approx(0.01)
    new = 0.1 * 0.1  # Keras prints the product as Python computes it
    assert trainer.messages == [f"Epoch 2: ReduceLROnPlateau reducing learning rate to {new}."]


def test_model_checkpoint_keeps_the_best_epoch_past_the_threshold() -> None:
    # accuracy ("auto": max), threshold 0.6: e0 (0.5) is not kept; e1 (0.7) is; e2 (0.65)
    # is not; e3 (0.8) is. The model ends with e3's weights.
    best_only = spec.ModelCheckpoint(
        monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.6
    )
    trainer, _ = run(ModelCheckpoint(best_only), [0.5, 0.7, 0.65, 0.8, 0.75], "val_accuracy")
    assert epoch_of(trainer) == 3
    trainer, _ = run(ModelCheckpoint(best_only), [0.5, 0.55], "val_accuracy")
    assert epoch_of(trainer) == 1  # none kept: the model keeps its own (last) weights
    trainer, _ = run(ModelCheckpoint(spec.ModelCheckpoint()), [3.0, 1.0, 2.0])
    assert epoch_of(trainer) == 2  # not best-only: every epoch's end is kept


def test_a_resumed_callback_decides_as_if_never_interrupted() -> None:
    values = [1.0, 0.8, 0.85, 0.9, 0.7, 0.95, 0.96]
    whole = EarlyStopping(spec.EarlyStopping(patience=2, restore_best_weights=True))
    whole_trainer, whole_logs = run(whole, values)

    first = EarlyStopping(spec.EarlyStopping(patience=2, restore_best_weights=True))
    trainer: Any = Fitting()
    first.set_trainer(trainer)
    first.on_train_begin()
    for epoch in range(2):
        trainer.weights = {"w": torch.tensor([float(epoch)])}
        first.on_epoch_end(epoch, {"val_loss": values[epoch]})
    state = first.get_state()

    second = EarlyStopping(spec.EarlyStopping(patience=2, restore_best_weights=True))
    second.set_trainer(trainer)
    second.on_train_begin()
    second.set_state(state)
    for epoch in range(2, len(values)):
        trainer.weights = {"w": torch.tensor([float(epoch)])}
        second.on_epoch_end(epoch, {"val_loss": values[epoch]})
        if trainer.stop_training:
            break
    second.on_train_end()
    assert epoch + 1 == len(whole_logs) == 4  # e2, e3 worse than e1's 0.8: stop at e3
    assert epoch_of(trainer) == epoch_of(whole_trainer) == 1


def test_from_specs_builds_each_kind() -> None:
    built = from_specs(
        [
            spec.EarlyStopping(monitor="val_accuracy"),  # "auto": accuracy rises
            spec.ReduceLROnPlateau(monitor="val_auc", mode="min"),  # asked: min
            spec.ModelCheckpoint(monitor="loss"),
        ]
    )
    assert [type(c) for c in built] == [EarlyStopping, ReduceLROnPlateau, ModelCheckpoint]
    assert [c.maximise for c in built] == [True, False, False]  # type: ignore[attr-defined]
