"""What every engine layer is: a torch module built from a Keras argument model.

A layer knows its output shape from its input shape without running (Keras's
`compute_output_shape`), so a whole model can be checked before anything trains.
Tensors are channels-last and batch-first at every layer boundary, as in Keras.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from torch import Tensor, nn

from core.spec.layers import LayerSpec

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A layer cannot take the input shape it was given; the message says why."""


class Layer(nn.Module):
    """Base of the engine's layers; subclasses set `spec_type` and register themselves."""

    spec_type: ClassVar[type[LayerSpec]]
    # Name of the activation that ends this layer, when the loss may fuse it
    # (softmax + cross-entropy); None when the layer has no separable activation.
    activation_name: str | None = None

    def __init__(self, spec: Any, input_shape: Shape) -> None:
        super().__init__()
        self.spec = spec
        self.input_shape = input_shape
        self.output_shape = self.compute_output_shape(spec, input_shape)

    @classmethod
    def compute_output_shape(cls, spec: Any, input_shape: Shape) -> Shape:
        return input_shape

    def pre_activation(self, x: Tensor) -> Tensor:
        """The output before `activation_name` is applied (the logits of a softmax head)."""
        raise NotImplementedError(f"{type(self).__name__} has no separable activation")

    def keras_weights(self) -> dict[str, Tensor]:
        """Weights under Keras's names and in Keras's layout (`kernel` is `(in, out)`)."""
        return dict(self.named_parameters(recurse=False)) | dict(self.named_buffers(recurse=False))


LAYERS: dict[str, type[Layer]] = {}


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make `cls` the builder for its spec's Keras name."""
    name = cls.spec_type.model_fields["type"].default
    if name in LAYERS:
        raise RuntimeError(f"layer {name!r} registered twice")
    LAYERS[name] = cls
    return cls


def snake_case(name: str) -> str:
    """Keras's default names: `Dense` → `dense`, `BatchNormalization` → `batch_normalization`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
