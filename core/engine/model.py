"""Building a model from its spec, with shape inference and Keras's layer names.

`build_model` on the `meta` device allocates nothing: it is how a spec is checked
(every layer's input and output shape, every name, the parameter count) before
anything is queued, with exactly the code that later builds the real model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.engine.layers import LAYERS, Layer, Shape, ShapeError, snake_case
from core.errors import ErrorItem, SpecError
from core.spec import ModelSpec
from core.spec.layers import LayerSpec

# Output activations whose cross-entropy the losses compute from the logits.
FUSABLE_ACTIVATIONS = frozenset({"softmax", "sigmoid"})


@dataclass(frozen=True)
class LayerInfo:
    name: str
    type: str
    output_shape: Shape
    params: int
    trainable_params: int


class Model(nn.Module):
    """A built Sequential model: layers in order, each with its Keras name."""

    def __init__(self, layers: list[Layer], names: list[str]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.stack: list[Layer] = layers  # the same modules, typed
        self.names = names
        self.input_shape = layers[0].input_shape
        self.output_shape = layers[-1].output_shape
        head = layers[-1]
        self.output_activation = head.activation_name

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_logits(self, x: Tensor) -> Tensor:
        """The output before the last layer's activation (see `output_activation`)."""
        *body, head = self.stack
        for layer in body:
            x = layer(x)
        return head.pre_activation(x)

    def summary(self) -> list[LayerInfo]:
        return [
            LayerInfo(
                name=name,
                type=type(layer).__name__,
                output_shape=layer.output_shape,
                params=sum(p.numel() for p in layer.parameters()),
                trainable_params=sum(p.numel() for p in layer.parameters() if p.requires_grad),
            )
            for name, layer in zip(self.names, self.stack, strict=True)
        ]

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def keras_weights(self) -> dict[str, Tensor]:
        """`{"dense/kernel": …, "dense/bias": …}` in Keras's layouts, ready for safetensors."""
        return {
            f"{name}/{weight}": tensor
            for name, layer in zip(self.names, self.stack, strict=True)
            for weight, tensor in layer.keras_weights().items()
        }


def layer_names(layers: Sequence[LayerSpec]) -> list[str]:
    """Each layer's given name, or Keras's default: `dense`, `dense_1`, … per type."""
    taken = {layer.name for layer in layers if layer.name}
    counts: Counter[str] = Counter()
    names = []
    for layer in layers:
        if layer.name:
            names.append(layer.name)
            continue
        base = snake_case(layer.type)
        while True:
            n = counts[base]
            counts[base] += 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in taken:
                break
        taken.add(candidate)
        names.append(candidate)
    return names


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join(["batch", *map(str, shape)]) + ")"


def build_model(spec: ModelSpec, input_shape: Shape | None = None, *, device: str = "cpu") -> Model:
    """Build `spec`; `input_shape` (one sample's) is used when the first layer gives none.

    Raises SpecError naming the layer (index, name, type) and both shapes when a layer
    cannot take what the previous one outputs. `device="meta"` allocates no memory.
    """
    names = layer_names(spec.layers)
    first = spec.layers[0].input_shape
    if first is not None:
        input_shape = first
    if input_shape is None:
        raise SpecError(
            "the first layer gives no input_shape and there is no data to take it from; "
            "add input_shape (one sample's shape, e.g. [784]) to the first layer",
            loc=("model", "layers", 0),
        )
    built: list[Layer] = []
    shape: Shape = tuple(input_shape)
    with torch.device(device):
        for index, (layer_spec, name) in enumerate(zip(spec.layers, names, strict=True)):
            where = f"layer {index} {name!r} ({layer_spec.type})"
            loc = ("model", "layers", index)
            if index > 0 and layer_spec.input_shape is not None and layer_spec.input_shape != shape:
                raise SpecError(
                    f"{where}: declares input_shape {_fmt(layer_spec.input_shape)} but the "
                    f"previous layer outputs {_fmt(shape)}; only the first layer names its input",
                    loc=loc,
                )
            try:
                layer = LAYERS[layer_spec.type](layer_spec, shape)
            except ShapeError as exc:
                raise SpecError(f"{where}: input {_fmt(shape)}: {exc}", loc=loc) from None
            except SpecError as exc:
                raise SpecError([ErrorItem(loc, f"{where}: {e.msg}") for e in exc.errors]) from None
            built.append(layer)
            shape = layer.output_shape
    return Model(built, names)
