"""Keras 3's optimizers as torch optimizers: Keras's update rules, not torch's.

The rules follow `keras/src/optimizers/*.py` line by line (RMSprop divides by
`sqrt(v + epsilon)`; Adam folds bias correction into the step size and adds epsilon
outside the square root), as does the order of one step: clip the gradients, apply
decoupled weight decay (`var -= var * wd * lr`), update. Updates use torch's
multi-tensor `_foreach` kernels: one launch per operation for all parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

import torch
from torch import Tensor

from core.spec import optimizers as spec

Params = list[Tensor]


class KerasOptimizer(torch.optim.Optimizer):
    """Clipping, weight decay and the step counter that every Keras optimizer shares."""

    def __init__(self, params: Iterable[Tensor], s: spec.OptimizerSpec) -> None:
        super().__init__(params, {"lr": s.learning_rate, "iterations": 0})
        self.spec = s

    @property
    def iterations(self) -> int:
        return int(self.param_groups[0]["iterations"])

    def _state(self, params: Params, name: str) -> Params:
        """Per-parameter slot variables (momentums, velocities …), zeros when first used."""
        out = []
        for p in params:
            slots = self.state[p]
            if name not in slots:
                slots[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
            out.append(slots[name])
        return out

    def _clip(self, grads: Params) -> Params:
        s = self.spec
        if s.clipnorm:
            norms = torch._foreach_norm(grads)
            scales = [s.clipnorm / torch.clamp(n, min=s.clipnorm) for n in norms]
            return cast(Params, torch._foreach_mul(grads, scales))
        if s.global_clipnorm:
            total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            return cast(
                Params,
                torch._foreach_mul(grads, s.global_clipnorm / total.clamp(min=s.global_clipnorm)),
            )
        if s.clipvalue:
            return [g.clamp(-s.clipvalue, s.clipvalue) for g in grads]
        return grads

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = self._clip([cast(Tensor, p.grad) for p in params])
            lr = float(group["lr"])
            if self.spec.weight_decay:
                torch._foreach_mul_(params, 1.0 - self.spec.weight_decay * lr)
            self.update(params, grads, lr, int(group["iterations"]))
            group["iterations"] += 1

    def update(self, params: Params, grads: Params, lr: float, iterations: int) -> None:
        raise NotImplementedError


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


OPTIMIZERS: dict[str, type[KerasOptimizer]] = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam}


def build_optimizer(s: spec.OptimizerSpec, params: Iterable[Tensor]) -> KerasOptimizer:
    return OPTIMIZERS[s.type]([p for p in params if p.requires_grad], s)
