"""Keras's layers, as the SDK builds them: `layers.Dense(32, activation="relu")`.

A layer holds its Keras arguments (checked at once, against the same argument models
the service uses) and nothing else: the computation happens on the service. Calling a
layer on tensors (`Dense(10)(x)`) records a functional graph, as in Keras; calling the
same layer twice shares its weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import ValidationError

from cornu.core.spec import spec_error
from cornu.core.spec.layers import LAYER_SPECS, parse_layer
from cornu.objects import missing

# Keras's positional arguments, in order, for the layers that take any.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "Dense": ("units", "activation"),
    "Activation": ("activation",),
    "Dropout": ("rate", "noise_shape", "seed"),
    "Reshape": ("target_shape",),
    "Permute": ("dims",),
    "RepeatVector": ("n",),
    "Conv1D": ("filters", "kernel_size", "strides", "padding"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding"),
    "Conv2DTranspose": ("filters", "kernel_size", "strides", "padding"),
    "SeparableConv2D": ("filters", "kernel_size", "strides", "padding"),
    "MaxPooling1D": ("pool_size", "strides", "padding"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling1D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "UpSampling2D": ("size",),
    "ZeroPadding2D": ("padding",),
    "Cropping2D": ("cropping",),
    "BatchNormalization": ("axis", "momentum", "epsilon"),
    "LayerNormalization": ("axis", "epsilon"),
    "Embedding": ("input_dim", "output_dim"),
    "SimpleRNN": ("units", "activation"),
    "LSTM": ("units", "activation", "recurrent_activation"),
    "GRU": ("units", "activation", "recurrent_activation"),
    "Bidirectional": ("layer", "merge_mode"),
    "TimeDistributed": ("layer",),
    "SpatialDropout1D": ("rate",),
    "SpatialDropout2D": ("rate",),
    "GaussianNoise": ("stddev",),
    "LeakyReLU": ("negative_slope",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "Softmax": ("axis",),
    "MultiHeadAttention": ("num_heads", "key_dim", "value_dim", "dropout"),
    "Concatenate": ("axis",),
    "Dot": ("axes", "normalize"),
}


def _jsonable(value: Any) -> Any:
    """Arguments as JSON: tuples become lists, layers their arguments, numpy numbers floats."""
    if isinstance(value, Layer):
        return value.spec()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_spec"):
        return value.to_spec()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


_CREATED = itertools.count()  # layers and inputs, in the order they are made


class KerasTensor:
    """A symbolic tensor of a functional model: an input, or an output of a layer call."""

    def __init__(
        self, source: Layer | Input, inputs: Sequence[KerasTensor] = (), index: int = 0
    ) -> None:
        self.source = source
        self.inputs = list(inputs)
        self.index = index

    def __repr__(self) -> str:
        return f"<KerasTensor from {self.source!r}, output {self.index}>"


class Layer:
    """One Keras layer's arguments; `type` is its Keras class name."""

    type: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        positional = POSITIONAL.get(self.type, ())
        if len(args) > len(positional):
            raise TypeError(
                f"{self.type} takes at most {len(positional)} positional arguments "
                f"({', '.join(positional) or 'none'}); give the others by name"
            )
        config = {**dict(zip(positional, args, strict=False)), **kwargs}
        self.config: dict[str, Any] = {k: _jsonable(v) for k, v in config.items()}
        self._check()  # a bad argument fails here, as in Keras, not on the service
        self.created = next(_CREATED)  # Keras numbers default names in creation order

    @property
    def name(self) -> str | None:
        name = self.config.get("name")
        return str(name) if name is not None else None

    def spec(self) -> dict[str, Any]:
        return {"type": self.type, **self.config}

    def _check(self) -> None:
        try:
            parse_layer(self.spec())
        except ValidationError as exc:
            raise spec_error(exc.errors()) from None

    def outputs(self) -> int:
        """How many tensors a call returns (several for an RNN with `return_state`)."""
        state = self.config.get("return_state", False)
        if self.type == "LSTM":
            return 3 if state else 1
        if self.type in ("GRU", "SimpleRNN"):
            return 2 if state else 1
        if (
            self.type == "Bidirectional"
            and "merge_mode" in self.config
            and self.config["merge_mode"] is None
        ):
            return 2
        return 1

    def __call__(
        self, inputs: KerasTensor | Sequence[KerasTensor], *more: KerasTensor, **call: Any
    ) -> Any:
        """Record a call: `layer(x)`, `merge([a, b])`, `attention(query, value[, key])`."""
        given = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        given += [*more, *(call.pop(k) for k in ("value", "key") if k in call)]
        for option in ("training", "mask"):
            if option in call:
                raise TypeError(
                    f"{self.type}: `{option}=` is decided by the service (fit trains, "
                    "evaluate and predict infer; masks come from Embedding(mask_zero=True))"
                )
        tensors = [t for t in given if isinstance(t, KerasTensor)]
        if len(tensors) != len(given):
            raise TypeError(
                f"{self.type} is called on Keras tensors (from layers.Input or other layers)"
            )
        if call:  # Keras call options (MultiHeadAttention's use_causal_mask): layer arguments here
            self.config.update({k: _jsonable(v) for k, v in call.items()})
            self._check()
        outputs = [KerasTensor(self, tensors, i) for i in range(self.outputs())]
        return outputs[0] if len(outputs) == 1 else outputs

    def __repr__(self) -> str:
        return f"<{self.type} {self.name or ''}>".replace(" >", ">")


class Input(KerasTensor):
    """`layers.Input(shape=(784,))`: a model input (shape without the batch axis)."""

    type = "Input"

    def __init__(
        self,
        shape: Sequence[int] | None = None,
        name: str | None = None,
        dtype: str | None = None,
        **kwargs: Any,
    ) -> None:
        if shape is None and "batch_shape" in kwargs:
            shape = list(kwargs.pop("batch_shape"))[1:]
        if kwargs:
            raise TypeError(f"Input got unexpected arguments: {', '.join(kwargs)}")
        if shape is None:
            raise TypeError("Input needs a shape, e.g. Input(shape=(784,))")
        self.shape = [int(d) for d in shape]
        self.input_name = name
        self.dtype = dtype
        self.created = next(_CREATED)
        super().__init__(self)

    def spec(self) -> dict[str, Any]:
        return {"type": "Input", "shape": self.shape}

    def __repr__(self) -> str:
        return f"<Input shape={tuple(self.shape)}>"


def _layer_class(name: str) -> type[Layer]:
    return type(name, (Layer,), {"type": name, "__doc__": f"`keras.layers.{name}`, run by Cornu."})


_CLASSES: dict[str, type[Layer]] = {
    name: _layer_class(name) for name in LAYER_SPECS if name != "Input"
}
globals().update(_CLASSES)


__getattr__ = missing("layer", [*_CLASSES, "Input"])


__all__ = ["Input", "KerasTensor", "Layer", *sorted(_CLASSES)]
