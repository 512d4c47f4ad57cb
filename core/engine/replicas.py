"""Data-parallel training on several devices of one host, with the meaning of Keras's
`MirroredStrategy` (keras.io/guides/distributed_training_with_tensorflow; TensorFlow's
`tf.distribute` guide):

- `batch_size` is the *global* batch: each of the N replicas trains on its contiguous
  part of every batch (as `tf.distribute` splits a batch), all replicas drawing the same
  shuffled order from the same seed;
- the gradient applied is the whole batch's: each replica scales its loss by its share of
  the batch's samples and the gradients are summed (`compute_average_loss` over the global
  batch size), so an uneven last batch weighs each sample as one device would;
- losses and metrics are reduced across replicas before they are reported (their states
  are sums: totals, counts, confusion counts);
- non-trainable state such as BatchNormalization's moving statistics is kept per replica
  and read as their mean (`VariableAggregation.MEAN`, synchronisation ON_READ);
- callbacks run once, on the first replica (rank 0, the one that writes checkpoints and
  holds the job's lease); what they decide (stop training, a new learning rate, stop the
  run) reaches the others at the next point where the replicas agree.

Replicas talk through `torch.distributed`: gradients over the default group (NCCL on
CUDA, gloo on the CPU), and the few numbers they agree on over a gloo group of their own,
so that agreeing never waits on a device queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
from torch import Tensor

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


@dataclass
class Replicas:
    """This process's place among the replicas of one job: its `rank` of `size`, the
    device it trains on, and the process group of the agreements (gloo)."""

    rank: int
    size: int
    device: torch.device
    control: dist.ProcessGroup | None = None

    @property
    def first(self) -> bool:
        """Whether this is rank 0: the one that runs callbacks and writes."""
        return self.rank == 0

    def part(self, samples: int) -> tuple[int, int]:
        """This replica's contiguous `[start, stop)` of a global batch of `samples`:
        the first `samples % size` replicas take one more (as `numpy.array_split`)."""
        base, extra = divmod(samples, self.size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)

    def agree(self, values: Sequence[float]) -> list[float]:
        """Rank 0's `values`, on every replica (the others' are ignored)."""
        buffer = torch.tensor(list(values), dtype=torch.float64)
        dist.broadcast(buffer, src=0, group=self.control)
        return buffer.tolist()

    def sum_gradients(self, parameters: Iterable[Tensor]) -> None:
        """Every trainable parameter's gradient summed over the replicas, in one
        collective (a parameter without a gradient on this replica contributes zeros)."""
        params = [p for p in parameters if p.requires_grad]
        if not params:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        offset = 0
        for p, g in zip(params, grads, strict=True):
            n = g.numel()
            p.grad = flat[offset : offset + n].view_as(p)
            offset += n

    def sum_to_first(self, vector: Tensor) -> Tensor:
        """`vector` (float64, this replica's) summed over the replicas, on rank 0 (what the
        others get back is undefined)."""
        dist.reduce(vector, dst=0, group=self.control)
        return vector

    def mean_buffers(self, module: torch.nn.Module) -> None:
        """Floating-point buffers (moving statistics) set to their mean over replicas."""
        buffers = [b for b in module.buffers() if b.is_floating_point()]
        if not buffers:
            return
        flat = torch.cat([b.detach().reshape(-1).to(torch.float64) for b in buffers])
        dist.all_reduce(flat)
        flat /= self.size
        offset = 0
        for b in buffers:
            n = b.numel()
            b.copy_(flat[offset : offset + n].view_as(b))
            offset += n

    def broadcast_bytes(self, tensor: Tensor) -> None:
        """Rank 0's `tensor` (on the host: a generator's state) into every replica's."""
        dist.broadcast(tensor, src=0, group=self.control)

    def broadcast_state(self, module: torch.nn.Module) -> None:
        """Rank 0's parameters and buffers on every replica (the same start)."""
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)
