"""Keras's `Sequential`: a stack of layers, each taking the previous one's output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cornu.core.errors import NotSupported
from cornu.core.spec.layers import parse_layer
from cornu.layers import Input, KerasTensor, Layer
from cornu.models.model import Model


class Sequential(Model):
    """`Sequential([layers…])` or `Sequential()` then `add(layer)`, as in Keras. A model
    added to it adds its layers (shared, with their weights)."""

    default_name = "sequential"

    def __init__(
        self,
        layers: Sequence[Any] | None = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        self._refuse_user_code()
        self._start(name)
        self._stack: list[Layer] = []
        self._input: Input | None = None
        self._tensors: tuple[KerasTensor, list[KerasTensor]] | None = None
        for layer in layers or []:
            self.add(layer)
        if not trainable:
            self.trainable = False

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Add a layer on top (or an Input first; or another model's layers)."""
        if isinstance(layer, Input):
            if self._stack or self._input is not None:
                raise ValueError("an Input can only be the first entry of a Sequential")
            self._input = layer
        elif isinstance(layer, Model):
            if not isinstance(layer, Sequential) and not _is_chain(layer):
                raise NotSupported(
                    f"model {layer.name!r} is not a chain of layers (several inputs, outputs "
                    "or branches): call it on a tensor in a functional model instead"
                )
            if not self._stack and self._input is None:
                self._input = layer._input if isinstance(layer, Sequential) else layer.inputs[0]  # type: ignore[assignment]
            for inner in layer._layers():
                self.add(inner)
            return
        elif isinstance(layer, Layer):
            self._stack.append(layer)
            layer._owner = self
        else:
            raise TypeError(f"Sequential.add takes a layer, not {type(layer).__name__}")
        self._tensors = None

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove the top layer (Keras's `pop`)."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._tensors = None
        return layer

    @property
    def layers(self) -> list[Any]:
        """The layers, in order (an Input is not one: Keras 3 lists none)."""
        return list(self._stack)

    def _layers(self) -> list[Layer]:
        return list(self._stack)

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Give the model its input shape, batch axis first: `build((None, 784))`."""
        if input_shape is None:
            raise ValueError("build needs an input_shape, e.g. model.build((None, 784))")
        self._input = Input(shape=list(input_shape)[1:])
        self._tensors = None

    def _build_from(self, x: Any) -> None:
        if self._input is None and self._first_input_shape() is None:
            sample = x[0] if isinstance(x, list | tuple) and len(x) == 1 else x
            shape = np.shape(sample)[1:]
            self._input = Input(shape=list(shape))

    def _first_input_shape(self) -> list[int | None] | None:
        """The model's input shape if it knows one: an Input, or what its first layer
        declares (`input_shape`, `input_dim`, `batch_input_shape`, Embedding's
        `input_length`), as the service reads them."""
        if self._input is not None:
            return list(self._input.input_shape)
        if not self._stack:
            return None
        declared = parse_layer(self._stack[0].to_spec()).input_shape
        return None if declared is None else list(declared)

    @property
    def built(self) -> bool:
        return self._first_input_shape() is not None

    def model_spec(self) -> dict[str, Any]:
        if not self._stack:
            raise ValueError("the Sequential model has no layers; add some first")
        entries = [layer.to_spec() for layer in self._stack]
        if self._input is not None:
            entries.insert(0, self._input.to_spec())
        return {"type": "sequential", "name": self.name, "layers": entries}

    def _symbolic(self) -> None:
        self._tensors_built()

    def _tensors_built(self) -> tuple[KerasTensor, list[KerasTensor]]:
        """Its layers called on an input of its shape (Keras builds a Sequential so):
        what `model.input`, `layer.output` and feature-extraction models read."""
        if self._tensors is None:
            shape = self._first_input_shape()
            if shape is None:
                raise AttributeError(
                    f"Sequential model '{self.name}' has no defined input shape yet "
                    "(give the first layer input_shape, start with keras.Input, or build it)"
                )
            tensor: KerasTensor = self._input or Input(shape=shape)
            outputs = []
            for layer in self._stack:
                result = layer(tensor)
                tensor = result[0] if isinstance(result, list) else result
                outputs.append(tensor)
            self._tensors = (self._input or outputs[0].inputs[0], outputs)
        return self._tensors

    @property
    def _inputs(self) -> list[Any]:  # type: ignore[override]
        return [self._tensors_built()[0]]

    @property
    def _outputs(self) -> list[KerasTensor]:  # type: ignore[override]
        return [self._tensors_built()[1][-1]]

    @property
    def _output_keys(self) -> None:  # type: ignore[override]
        return None

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    @property
    def output_names(self) -> list[str]:
        return [self._stack[-1].name] if self._stack else ["output"]

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(inputs, KerasTensor):  # Keras's eager call on arrays
            return self.predict(inputs, verbose=0)
        tensor = inputs
        for layer in self._stack:
            result = layer(tensor, **kwargs)
            tensor = result[0] if isinstance(result, list) else result
        return tensor


def _is_chain(model: Model) -> bool:
    """Each layer takes the one before it: the model can join a Sequential."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    tensor: KerasTensor = model.outputs[0]
    count = 0
    while not isinstance(tensor, Input):
        if len(tensor.inputs) != 1 or tensor.index != 0:
            return False
        tensor, count = tensor.inputs[0], count + 1
    return count == len(model._layers())


__all__ = ["Sequential"]
