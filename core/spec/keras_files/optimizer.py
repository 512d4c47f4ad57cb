"""A freshly built optimizer's variables, as Keras expects to find them in a `.keras` file.

Cornu does not save its optimizer's state. But a `.keras` file whose `compile_config`
names an optimizer makes Keras compile the model and *build* the optimizer on load, and
Keras then warns ("Skipping variable loading for optimizer …") unless the file holds as
many optimizer variables as the built optimizer has. So the file holds what Keras's
`optimizer.build(model.trainable_variables)` creates, at its initial values: the
optimizer starts afresh, as it would in Keras.

The variables, in order (`keras/src/optimizers/base_optimizer.py` `build` and each
optimizer's `build`): `iteration` (int32 0), `learning_rate` (float32; none when it
follows a schedule), then per trainable weight, in `model.trainable_variables` order:

- SGD: `momentum` for every weight, only when `momentum > 0`;
- RMSprop: `velocity` for every weight, then `momentum` for every weight (if
  `momentum > 0`), then `average_gradient` for every weight (if `centered`);
- Adam, AdamW: `momentum`, `velocity` per weight (interleaved), then `velocity_hat` for
  every weight (if `amsgrad`);
- Adagrad: `accumulator` per weight, filled with `initial_accumulator_value`;
- Adadelta: `accumulated_grad`, `accumulated_delta_var` per weight (interleaved);
- Adamax: `momentum`, `norm` per weight (interleaved);
- Nadam: `momentum`, `velocity` per weight (interleaved), then `u_product` (float32 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from cornu.core.spec.optimizers import OptimizerSpec

Shape = tuple[int, ...]


def _zeros(shapes: Sequence[Shape], fill: float = 0.0) -> list[np.ndarray]:
    return [np.full(shape, fill, dtype=np.float32) for shape in shapes]


def _interleaved(shapes: Sequence[Shape], per_weight: int) -> list[np.ndarray]:
    return [np.zeros(shape, dtype=np.float32) for shape in shapes for _ in range(per_weight)]


def optimizer_variables(optimizer: OptimizerSpec, trainable: Sequence[Shape]) -> list[np.ndarray]:
    """The variables of `optimizer` built for weights of shapes `trainable`, in Keras's order."""
    out = [np.array(0, dtype=np.int32)]
    if not isinstance(optimizer.learning_rate, BaseModel):
        out.append(np.array(optimizer.learning_rate, dtype=np.float32))
    kind = optimizer.type
    if kind == "SGD":
        out += _zeros(trainable) if getattr(optimizer, "momentum", 0) else []
    elif kind == "RMSprop":
        out += _zeros(trainable)
        out += _zeros(trainable) if getattr(optimizer, "momentum", 0) else []
        out += _zeros(trainable) if getattr(optimizer, "centered", False) else []
    elif kind in ("Adam", "AdamW"):
        out += _interleaved(trainable, 2)
        out += _zeros(trainable) if getattr(optimizer, "amsgrad", False) else []
    elif kind == "Adagrad":
        out += _zeros(trainable, getattr(optimizer, "initial_accumulator_value", 0.1))
    elif kind in ("Adadelta", "Adamax"):
        out += _interleaved(trainable, 2)
    elif kind == "Nadam":
        out += _interleaved(trainable, 2)
        out.append(np.array(1.0, dtype=np.float32))
    else:
        raise ValueError(f"no Keras variable layout known for optimizer {kind!r}")
    return out
