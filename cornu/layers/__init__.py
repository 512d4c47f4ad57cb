"""Keras's layers, as the SDK builds them: `layers.Dense(32, activation="relu")`.

A layer holds its Keras arguments (checked at once, against the same argument models
the service uses), its name (Keras's default names, counted across the session), and
its weights once it has some; the computation happens on the service. Calling a layer
on tensors (`Dense(10)(x)`) records a functional graph, as in Keras; calling the same
layer twice shares its weights. Keras's function forms (`layers.concatenate([a, b])`)
and the Keras 2 module paths (`keras.layers.merge`, `keras.layers.core`, …) are here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cornu.core.spec import registry
from cornu.core.spec.layers import LAYER_SPECS
from cornu.layers import lookup, preprocessing
from cornu.layers.layer import POSITIONAL, REFUSED, Layer
from cornu.layers.tensor import Input, InputLayer, KerasTensor
from cornu.naming import snake_case
from cornu.objects import missing


def _layer_class(name: str) -> type[Layer]:
    return type(
        name,
        (Layer,),
        {"type": name, "__doc__": f"`keras.layers.{name}`, run by Cornu.", "__module__": __name__},
    )


_CLASSES: dict[str, type[Layer]] = {
    name: _layer_class(name) for name in [*LAYER_SPECS, *REFUSED] if name != "Input"
}
_CLASSES["Normalization"] = preprocessing.Normalization  # with Keras's adapt()
_CLASSES["Discretization"] = lookup.Discretization  # with Keras's adapt()
_CLASSES["IntegerLookup"] = lookup.IntegerLookup  # with Keras's adapt()
# Keras's other names of a class are the class itself: `Convolution2D is Conv2D`.
_BY_CLASS = {registry.layer_class(name) or name: cls for name, cls in _CLASSES.items()}
_CLASSES |= {
    name: _BY_CLASS[target]
    for name in registry.keras_layer_names()
    if name not in _CLASSES and (target := registry.layer_class(name)) in _BY_CLASS
}
globals().update(_CLASSES)


def layer_class(name: str) -> type[Layer]:
    """The SDK's class of a Keras layer type (KeyError if the service lacks it)."""
    return _CLASSES[name]


# -- Keras's function forms of the merge layers ----------------------------------------


def _merge(kind: str, inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    out: KerasTensor = _CLASSES[kind](**kwargs)(list(inputs))
    return out


def concatenate(inputs: Sequence[KerasTensor], axis: int = -1, **kwargs: Any) -> KerasTensor:
    """`layers.concatenate([a, b])`: Concatenate(axis)([a, b])."""
    return _merge("Concatenate", inputs, axis=axis, **kwargs)


def add(inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    return _merge("Add", inputs, **kwargs)


def subtract(inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    return _merge("Subtract", inputs, **kwargs)


def multiply(inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    return _merge("Multiply", inputs, **kwargs)


def average(inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    return _merge("Average", inputs, **kwargs)


def maximum(inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    return _merge("Maximum", inputs, **kwargs)


def minimum(inputs: Sequence[KerasTensor], **kwargs: Any) -> KerasTensor:
    return _merge("Minimum", inputs, **kwargs)


def dot(
    inputs: Sequence[KerasTensor], axes: int | Sequence[int], normalize: bool = False, **kwargs: Any
) -> KerasTensor:
    return _merge("Dot", inputs, axes=axes, normalize=normalize, **kwargs)


FUNCTIONS = ("concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot")

# Keras layers Cornu does not have yet, and those it never will (user code).
_NOT_YET = "; Cornu's service does not have this layer yet (the valid ones are listed above)"

__getattr__ = missing("layer", [*_CLASSES, "Input", "InputLayer", *FUNCTIONS], _NOT_YET)

__all__ = [
    "FUNCTIONS",
    "POSITIONAL",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "layer_class",
    "snake_case",
    *FUNCTIONS,
    *sorted(_CLASSES),
]
