"""`stateful=True` recurrent layers: the states one batch ends with start the next.

Keras (`keras/src/layers/rnn/rnn.py`) keeps them in non-trainable variables that are
not tracked as weights: they are not in `model.weights` and not saved in .keras/.h5
files. They start as zeros, carry across every call of the layer — training batches,
validation, `evaluate` and `predict` alike, which never reset them — and go back to zeros
only on `layer.reset_state()`. Each batch starts from the values the previous one left,
so no gradient flows from one batch into the next. The batch size is fixed by the
model's input; a batch of another size is an error, as in Keras.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CarriedStates(nn.Module):
    """A recurrent layer's states between calls: buffers of the layer, left out of its
    `state_dict` as Keras leaves them out of its weights."""

    def __init__(self, count: int, owner: str) -> None:
        super().__init__()
        self.count, self.owner = count, owner
        for i in range(count):
            self.register_buffer(f"state_{i}", None, persistent=False)

    def values(self) -> list[Tensor] | None:
        """The carried states, or None before the first call and after a reset."""
        states = [self._buffers[f"state_{i}"] for i in range(self.count)]
        if states[0] is None:
            return None
        return [state for state in states if state is not None]

    def start(self, zeros: list[Tensor]) -> list[Tensor]:
        """The states a batch starts from: the carried ones, or `zeros` (shaped for this
        batch) the first time; a batch of another size than the carried states' fails
        as Keras's RNN does."""
        carried = self.values()
        if carried is None:
            return zeros
        expected, received = carried[0].shape[0], zeros[0].shape[0]
        if expected != received:
            raise ValueError(
                f"layer {self.owner!r} is stateful: the batch size of its inputs must be the "
                f"batch size of its states (expected {expected}, received {received})"
            )
        if not torch.is_inference_mode_enabled():  # states a predict left, used to train
            carried = [state.clone() if state.is_inference() else state for state in carried]
        return [state.to(zero.dtype) for state, zero in zip(carried, zeros, strict=True)]

    def store(self, states: list[Tensor]) -> None:
        """Keep the states a batch ended with, as values (no gradient history)."""
        for i, state in enumerate(states):
            setattr(self, f"state_{i}", state.detach().clone())

    def reset(self) -> None:
        """Keras's `layer.reset_state()`: the next batch starts from zeros."""
        carried = self.values()
        for i, state in enumerate(carried or []):
            setattr(self, f"state_{i}", torch.zeros_like(state))


def reset_states(model: nn.Module) -> None:
    """Every stateful layer's `reset_state()` (Keras 3 has no model-wide call: a loop
    over the layers)."""
    for module in model.modules():
        if isinstance(module, CarriedStates):
            module.reset()


def carried_states(model: nn.Module) -> dict[str, Tensor]:
    """The stateful layers' current states by buffer name (for a training checkpoint)."""
    return {
        f"{name}.{key}": value.detach().clone()
        for name, module in model.named_modules()
        if isinstance(module, CarriedStates)
        for key, value in module.named_buffers(recurse=False)
    }


@torch.no_grad()
def load_carried_states(model: nn.Module, states: dict[str, Tensor]) -> None:
    """Put back what `carried_states` took."""
    modules = dict(model.named_modules())
    device = next((p.device for p in model.parameters()), None)
    for path, value in states.items():
        name, _, key = path.rpartition(".")
        setattr(modules[name], key, value if device is None else value.to(device))
