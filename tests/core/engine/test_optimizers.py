"""Each optimizer's first steps against Keras: the trajectories Keras 3 itself produced
(tests/data/keras/optimizers.json, from each optimizer's own `get_config()`), and
Keras's update rules written out in numpy from `keras/src/optimizers/*.py`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter

from cornu.core.engine.optimizers import build_optimizer
from cornu.core.spec.optimizers import SGD, Adam, AnyOptimizer, OptimizerSpec, RMSprop

KERAS = json.loads((Path(__file__).parents[2] / "data" / "keras" / "optimizers.json").read_text())

RNG = np.random.default_rng(0)
START = RNG.normal(size=6)
GRADS = [RNG.normal(size=6) for _ in range(4)]

Rule = Callable[[np.ndarray, np.ndarray, dict[str, Any], int], np.ndarray]


def keras_sgd(lr: float, momentum: float = 0.0, nesterov: bool = False) -> Rule:
    def step(var: np.ndarray, g: np.ndarray, s: dict[str, Any], t: int) -> np.ndarray:
        if momentum == 0:
            return var - lr * g
        m = s.get("m", np.zeros_like(var))
        m = m * momentum - g * lr
        s["m"] = m
        return var + (m * momentum - g * lr if nesterov else m)

    return step


def keras_rmsprop(
    lr: float = 1e-3,
    rho: float = 0.9,
    momentum: float = 0.0,
    eps: float = 1e-7,
    centered: bool = False,
) -> Rule:
    def step(var: np.ndarray, g: np.ndarray, s: dict[str, Any], t: int) -> np.ndarray:
        v = rho * s.get("v", np.zeros_like(var)) + (1 - rho) * g**2
        s["v"] = v
        if centered:
            a = rho * s.get("a", np.zeros_like(var)) + (1 - rho) * g
            s["a"] = a
            denominator = v - a**2 + eps
        else:
            denominator = v + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            m = momentum * s.get("m", np.zeros_like(var)) + increment
            s["m"] = m
            return var - m
        return var - increment

    return step


def keras_adam(
    lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-7, amsgrad: bool = False
) -> Rule:
    def step(var: np.ndarray, g: np.ndarray, s: dict[str, Any], t: int) -> np.ndarray:
        local_step = t + 1
        alpha = lr * np.sqrt(1 - b2**local_step) / (1 - b1**local_step)
        m = s.get("m", np.zeros_like(var))
        v = s.get("v", np.zeros_like(var))
        m = m + (g - m) * (1 - b1)
        v = v + (g**2 - v) * (1 - b2)
        s["m"], s["v"] = m, v
        if amsgrad:
            v = np.maximum(s.get("vhat", np.zeros_like(var)), v)
            s["vhat"] = v
        return var - (m * alpha) / (np.sqrt(v) + eps)

    return step


def run_engine(spec: OptimizerSpec) -> np.ndarray:
    param = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    optimizer = build_optimizer(spec, [param])
    for g in GRADS:
        param.grad = torch.tensor(g)
        optimizer.step()
    assert optimizer.iterations == len(GRADS)
    return param.detach().numpy()


def run_reference(
    rule: Rule, preprocess: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    var, state = START.copy(), {}  # type: ignore[var-annotated]
    for t, g in enumerate(GRADS):
        if preprocess is not None:
            g = preprocess(g, var)
        var = rule(var, g, state, t)
    return var


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        (SGD(), keras_sgd(0.01)),
        (SGD(learning_rate=0.1, momentum=0.9), keras_sgd(0.1, 0.9)),
        (SGD(learning_rate=0.1, momentum=0.9, nesterov=True), keras_sgd(0.1, 0.9, True)),
        (RMSprop(), keras_rmsprop()),
        (RMSprop(learning_rate=0.01, momentum=0.5), keras_rmsprop(0.01, momentum=0.5)),
        (RMSprop(centered=True, rho=0.8), keras_rmsprop(rho=0.8, centered=True)),
        (Adam(), keras_adam()),
        (
            Adam(learning_rate=0.01, beta_1=0.5, amsgrad=True),
            keras_adam(0.01, b1=0.5, amsgrad=True),
        ),
    ],
)
def test_update_rule_matches_keras(spec: OptimizerSpec, rule: Rule) -> None:
    np.testing.assert_allclose(run_engine(spec), run_reference(rule), rtol=1e-10, atol=1e-12)


def test_rmsprop_differs_from_torchs_rule() -> None:
    """Keras divides by sqrt(v + eps); torch by sqrt(v) + eps: the engine must be Keras."""
    param = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    torch_opt = torch.optim.RMSprop([param], lr=1e-3, alpha=0.9, eps=1e-7)
    for g in GRADS:
        param.grad = torch.tensor(g * 1e-4)  # small gradients, where the two rules part
        torch_opt.step()
    ours = run_reference(keras_rmsprop(), preprocess=lambda g, _: g * 1e-4)
    assert not np.allclose(param.detach().numpy(), ours, rtol=1e-6)


def test_clipnorm_clips_each_gradient_to_the_norm() -> None:
    def clip(g: np.ndarray, _: np.ndarray) -> np.ndarray:
        return g * 0.5 / max(np.linalg.norm(g), 0.5)

    expected = run_reference(keras_sgd(0.01), preprocess=clip)
    np.testing.assert_allclose(run_engine(SGD(clipnorm=0.5)), expected, rtol=1e-10)


def test_clipvalue() -> None:
    expected = run_reference(keras_sgd(0.01), preprocess=lambda g, _: np.clip(g, -0.3, 0.3))
    np.testing.assert_allclose(run_engine(SGD(clipvalue=0.3)), expected, rtol=1e-10)


def test_global_clipnorm_scales_all_gradients_together() -> None:
    param_a = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    param_b = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    optimizer = build_optimizer(SGD(learning_rate=1.0, global_clipnorm=1.0), [param_a, param_b])
    param_a.grad = torch.tensor([3.0, 0.0], dtype=torch.float64)
    param_b.grad = torch.tensor([0.0, 4.0], dtype=torch.float64)  # global norm 5
    optimizer.step()
    torch.testing.assert_close(param_a.detach(), torch.tensor([-0.6, 0.0], dtype=torch.float64))
    torch.testing.assert_close(param_b.detach(), torch.tensor([0.0, -0.8], dtype=torch.float64))


def test_weight_decay_is_decoupled_and_applied_before_the_update() -> None:
    def rule(var: np.ndarray, g: np.ndarray, s: dict[str, Any], t: int) -> np.ndarray:
        var = var - var * 0.1 * 0.01  # Keras: variable -= variable * wd * lr
        return keras_sgd(0.01)(var, g, s, t)

    np.testing.assert_allclose(run_engine(SGD(weight_decay=0.1)), run_reference(rule), rtol=1e-10)


def test_frozen_parameters_are_not_optimised() -> None:
    frozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    live = torch.nn.Parameter(torch.ones(2))
    optimizer = build_optimizer(SGD(), [frozen, live])
    assert [p for g in optimizer.param_groups for p in g["params"]] == [live]


@pytest.mark.parametrize("case", sorted(KERAS["trajectories"]))
def test_trajectory_matches_keras(case: str) -> None:
    """Keras's own config (schedules and clipping included) goes through Cornu's spec."""
    recorded = KERAS["trajectories"][case]
    spec = TypeAdapter(AnyOptimizer).validate_python(
        {"type": case.split("(")[0], **recorded["config"]}
    )
    param = torch.nn.Parameter(torch.tensor(KERAS["v0"], dtype=torch.float32))
    optimizer = build_optimizer(spec, [param])
    for step, gradient in enumerate(KERAS["gradients"]):
        assert optimizer.learning_rate == pytest.approx(
            recorded["learning_rate_used"][step], rel=1e-6
        )
        param.grad = torch.tensor(gradient, dtype=torch.float32)
        optimizer.step()
        expected = torch.tensor(recorded["after_step"][step])
        torch.testing.assert_close(param.detach(), expected, rtol=2e-5, atol=2e-6)
