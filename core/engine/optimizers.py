"""Keras 3's optimizers as torch optimizers: Keras's update rules, not torch's.

The rules follow `keras/src/optimizers/*.py` line by line (RMSprop divides by
`sqrt(v + epsilon)`; Adam folds bias correction into the step size and adds epsilon
outside the square root; Nadam keeps Keras's momentum schedule), as does the order of
one step: clip the gradients, apply decoupled weight decay (`var -= var * wd * lr`),
update. The learning rate is a float or a Keras schedule of the step count. Updates use
torch's multi-tensor `_foreach` kernels: one launch per operation for all parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, cast

import torch
from torch import Tensor

from cornu.core.spec import optimizers as spec

Params = list[Tensor]


def schedule_fn(s: spec.OptimizerSpec) -> Callable[[int], float]:
    """Keras's learning rate at a step (the optimizer's `iterations` before the update)."""
    lr = s.learning_rate
    if isinstance(lr, float | int):
        return lambda step: float(lr)
    if isinstance(lr, spec.ExponentialDecay):
        e = lr
        return lambda step: (
            e.initial_learning_rate * e.decay_rate ** _progress(step, e.decay_steps, e.staircase)
        )
    if isinstance(lr, spec.InverseTimeDecay):
        i = lr
        return lambda step: (
            i.initial_learning_rate
            / (1 + i.decay_rate * _progress(step, i.decay_steps, i.staircase))
        )
    if isinstance(lr, spec.PiecewiseConstantDecay):
        p = lr

        def piecewise(step: int) -> float:
            for boundary, value in zip(p.boundaries, p.values, strict=False):
                if step <= boundary:
                    return value
            return p.values[-1]

        return piecewise
    c = lr

    def cosine(step: int) -> float:
        if c.warmup_target is None:
            return _cosine(
                min(step, c.decay_steps), c.decay_steps, c.initial_learning_rate, c.alpha
            )
        step = min(step, c.decay_steps + c.warmup_steps)
        if step < c.warmup_steps:
            fraction = step / c.warmup_steps
            return (c.warmup_target - c.initial_learning_rate) * fraction + c.initial_learning_rate
        return _cosine(step - c.warmup_steps, c.decay_steps, c.warmup_target, c.alpha)

    return cosine


def _progress(step: int, decay_steps: int, staircase: bool) -> float:
    p = step / decay_steps
    return math.floor(p) if staircase else p


def _cosine(step: float, decay_steps: int, start: float, alpha: float) -> float:
    decayed = (1 - alpha) * 0.5 * (1.0 + math.cos(math.pi * step / decay_steps)) + alpha
    return start * decayed


class KerasOptimizer(torch.optim.Optimizer):
    """Clipping, weight decay, the learning rate and the step counter of a Keras optimizer."""

    def __init__(self, params: Iterable[Tensor], s: spec.OptimizerSpec) -> None:
        super().__init__(params, {"iterations": 0})
        self.spec = s
        self._schedule = schedule_fn(s)
        self._fixed_lr: float | None = None  # set by ReduceLROnPlateau
        self._slots: dict[str, Params] = {}

    @property
    def iterations(self) -> int:
        return int(self.param_groups[0]["iterations"])

    @property
    def has_schedule(self) -> bool:
        return self.spec.has_schedule

    @property
    def learning_rate(self) -> float:
        """The rate the next step uses."""
        if self._fixed_lr is not None:
            return self._fixed_lr
        return self._schedule(self.iterations)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if self.has_schedule:
            raise ValueError("the learning rate follows a schedule and cannot be set")
        self._fixed_lr = float(value)

    def _state(self, params: Params, name: str, initial: float = 0.0) -> Params:
        """Per-parameter slot variables (momentums, velocities …), created on first use."""
        cached = self._slots.get(name)
        if cached is not None and len(cached) == len(params):
            return cached
        out = []
        for p in params:
            slots = self.state[p]
            if name not in slots:
                slots[name] = torch.full_like(p, initial, memory_format=torch.preserve_format)
            out.append(slots[name])
        self._slots[name] = out
        return out

    def _clip(self, grads: Params) -> Params:
        s = self.spec
        if s.clipnorm:
            norms = torch._foreach_norm(grads)
            scales = [s.clipnorm / torch.clamp(n, min=s.clipnorm) for n in norms]
            return cast(Params, torch._foreach_mul(grads, scales))
        if s.global_clipnorm:
            total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            scale = s.global_clipnorm / total.clamp(min=s.global_clipnorm)
            return cast(Params, torch._foreach_mul(grads, scale))
        if s.clipvalue:
            return [g.clamp(-s.clipvalue, s.clipvalue) for g in grads]
        return grads

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        group = self.param_groups[0]
        params = [p for p in group["params"] if p.grad is not None]
        if params:
            grads = self._clip([cast(Tensor, p.grad) for p in params])
            lr = self.learning_rate
            if self.spec.weight_decay:
                torch._foreach_mul_(params, 1.0 - self.spec.weight_decay * lr)
            self.update(params, grads, lr, int(group["iterations"]))
        group["iterations"] += 1

    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["fixed_lr"] = self._fixed_lr
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        self._fixed_lr = state_dict.pop("fixed_lr", None)
        super().load_state_dict(state_dict)
        self._slots.clear()


class SGD(KerasOptimizer):
    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.SGD, self.spec)
        if s.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        m = self._state(params, "momentum")
        torch._foreach_mul_(m, s.momentum)
        torch._foreach_add_(m, grads, alpha=-lr)  # m = momentum * m - lr * g
        if s.nesterov:
            torch._foreach_add_(params, m, alpha=s.momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, m)


class RMSprop(KerasOptimizer):
    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.RMSprop, self.spec)
        v = self._state(params, "velocity")
        torch._foreach_mul_(v, s.rho)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - s.rho)
        if s.centered:
            avg = self._state(params, "average_gradient")
            torch._foreach_lerp_(avg, grads, 1.0 - s.rho)
            denominator = torch._foreach_addcmul(v, avg, avg, value=-1.0)
            torch._foreach_add_(denominator, s.epsilon)
        else:
            denominator = torch._foreach_add(v, s.epsilon)
        torch._foreach_sqrt_(denominator)
        if s.momentum > 0:
            m = self._state(params, "momentum")
            torch._foreach_mul_(m, s.momentum)
            torch._foreach_addcdiv_(m, grads, denominator, value=lr)  # m += lr * g / sqrt(den)
            torch._foreach_sub_(params, m)
        else:
            torch._foreach_addcdiv_(params, grads, denominator, value=-lr)


class Adam(KerasOptimizer):
    """Adam and AdamW (the same rule; AdamW differs in its default weight decay)."""

    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.Adam, self.spec)
        step = iterations + 1
        alpha = lr * math.sqrt(1 - s.beta_2**step) / (1 - s.beta_1**step)
        m = self._state(params, "momentum")
        v = self._state(params, "velocity")
        torch._foreach_lerp_(m, grads, 1.0 - s.beta_1)  # m += (g - m) * (1 - beta_1)
        torch._foreach_mul_(v, s.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - s.beta_2)
        if s.amsgrad:
            v_hat = self._state(params, "velocity_hat")
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denominator = torch._foreach_sqrt(v)
        torch._foreach_add_(denominator, s.epsilon)
        torch._foreach_addcdiv_(params, m, denominator, value=-alpha)


class Adagrad(KerasOptimizer):
    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.Adagrad, self.spec)
        acc = self._state(params, "accumulator", s.initial_accumulator_value)
        torch._foreach_addcmul_(acc, grads, grads)
        denominator = torch._foreach_add(acc, s.epsilon)
        torch._foreach_sqrt_(denominator)
        torch._foreach_addcdiv_(params, grads, denominator, value=-lr)


class Adadelta(KerasOptimizer):
    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.Adadelta, self.spec)
        acc_grad = self._state(params, "accumulated_grad")
        acc_delta = self._state(params, "accumulated_delta_var")
        torch._foreach_mul_(acc_grad, s.rho)
        torch._foreach_addcmul_(acc_grad, grads, grads, value=1.0 - s.rho)
        rms_delta = torch._foreach_add(acc_delta, s.epsilon)
        torch._foreach_sqrt_(rms_delta)
        rms_grad = torch._foreach_add(acc_grad, s.epsilon)
        torch._foreach_sqrt_(rms_grad)
        delta = torch._foreach_mul(rms_delta, grads)
        torch._foreach_div_(delta, rms_grad)  # the update is -delta
        torch._foreach_mul_(acc_delta, s.rho)
        torch._foreach_addcmul_(acc_delta, delta, delta, value=1.0 - s.rho)
        torch._foreach_add_(params, delta, alpha=-lr)


class Adamax(KerasOptimizer):
    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.Adamax, self.spec)
        beta_1_power = s.beta_1 ** (iterations + 1)
        m = self._state(params, "m")
        u = self._state(params, "u")
        torch._foreach_lerp_(m, grads, 1.0 - s.beta_1)
        torch._foreach_mul_(u, s.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominator = torch._foreach_add(u, s.epsilon)
        torch._foreach_addcdiv_(params, m, denominator, value=-lr / (1 - beta_1_power))


class Nadam(KerasOptimizer):
    """Keras's Nadam, with its momentum schedule `beta_1 * (1 - 0.5 * 0.96 ** t)`."""

    def __init__(self, params: Iterable[Tensor], s: spec.OptimizerSpec) -> None:
        super().__init__(params, s)
        self.param_groups[0]["u_product"] = 1.0

    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        s = cast(spec.Nadam, self.spec)
        group = self.param_groups[0]
        local_step, next_step = iterations + 1, iterations + 2
        u_t = s.beta_1 * (1.0 - 0.5 * 0.96**local_step)
        u_t_1 = s.beta_1 * (1.0 - 0.5 * 0.96**next_step)
        group["u_product"] *= u_t
        u_product_t = group["u_product"]
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = s.beta_2**local_step
        m = self._state(params, "momentum")
        v = self._state(params, "velocity")
        torch._foreach_lerp_(m, grads, 1.0 - s.beta_1)
        torch._foreach_mul_(v, s.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - s.beta_2)
        m_hat = torch._foreach_mul(m, u_t_1 / (1 - u_product_t_1))
        torch._foreach_add_(m_hat, grads, alpha=(1 - u_t) / (1 - u_product_t))
        denominator = torch._foreach_div(v, 1 - beta_2_power)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, s.epsilon)
        torch._foreach_addcdiv_(params, m_hat, denominator, value=-lr)


OPTIMIZERS: dict[str, type[KerasOptimizer]] = {
    "SGD": SGD,
    "RMSprop": RMSprop,
    "Adam": Adam,
    "AdamW": Adam,
    "Adagrad": Adagrad,
    "Adadelta": Adadelta,
    "Adamax": Adamax,
    "Nadam": Nadam,
}


def build_optimizer(s: spec.OptimizerSpec, params: Iterable[Tensor]) -> KerasOptimizer:
    """The optimizer of the trainable `params`. A model whose weights are all frozen
    still trains (Keras computes its losses and changes nothing): torch refuses an
    empty parameter list, so it gets one empty placeholder, which never has a gradient."""
    trainable = [p for p in params if p.requires_grad]
    return OPTIMIZERS[s.type](trainable or [torch.nn.Parameter(torch.zeros(0))], s)
