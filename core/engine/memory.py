"""How much device memory a job needs, estimated at submit from its plan: what a worker
slot checks before it takes the job onto a device other jobs share (`core.slots`).

The estimate adds, in bytes:
- the weights, their gradients and the optimizer's slots (float32: 4 bytes a value;
  Adam keeps two slots a weight, RMSprop one, plain SGD none — Keras's optimizers);
- the activations of one batch: every layer's output at `batch_size`, kept for the
  backward pass and matched by its gradient (×2);
- the training and validation data, which the engine keeps on the device for the run;
- `PROCESS_BYTES` for the process's own context (a CUDA context and torch's kernels).

It leaves out what happens inside a layer (attention scores, an LSTM's gates), library
workspaces (cuBLAS, cuDNN) and the allocator's fragmentation: the slots share 90% of a
device by default to leave room for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from cornu.core.engine.plan import Plan
from cornu.core.spec import JobSpec
from cornu.core.spec import optimizers as opt

FLOAT = 4
PROCESS_BYTES = 512 * 2**20  # a CUDA context with torch's kernels loaded


def optimizer_slots(spec: opt.OptimizerSpec) -> int:
    """Values the optimizer keeps per weight (keras/src/optimizers/*.py `build`)."""
    if isinstance(spec, opt.SGD):
        return 1 if spec.momentum else 0
    if isinstance(spec, opt.RMSprop):
        return 1 + (1 if spec.momentum else 0) + (1 if spec.centered else 0)
    if isinstance(spec, (opt.Adam, opt.AdamW)):
        return 3 if spec.amsgrad else 2
    if isinstance(spec, opt.Adagrad):
        return 1
    return 2  # Adadelta, Adamax, Nadam


def _elements(shape: object) -> int:
    """Values one sample's output holds (a layer with several outputs: their sum;
    an unknown size counts as 1)."""
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return sum(_elements(s) for s in shape)
    dims = [d for d in shape if isinstance(d, int)] if isinstance(shape, (list, tuple)) else []
    return math.prod(dims) if dims else 1


def estimate_bytes(spec: JobSpec, plan: Plan, dataset_bytes: Mapping[str, int]) -> int:
    """Device bytes the job needs (module docstring), with `dataset_bytes` the stored
    size of each dataset it reads."""
    slots = optimizer_slots(spec.compile.optimizer) if spec.compile is not None else 0
    state = FLOAT * (plan.params + plan.trainable_params * (1 + slots))
    per_sample = sum(_elements(layer.output_shape) for layer in plan.layers)
    activations = 2 * FLOAT * per_sample * spec.fit.batch_size
    data = sum(dataset_bytes.values())
    return PROCESS_BYTES + state + activations + data


def data_bytes(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    """Device bytes of each dataset as the engine holds it, at 4 bytes a value (float32
    inputs; int64 class indices are counted at half their size, a small share of a job)."""
    return {name: FLOAT * math.prod(shape) for name, shape in shapes.items()}
