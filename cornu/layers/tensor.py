"""Keras's symbolic tensors: `layers.Input(shape=…)` and what layer calls return, from
which a functional model's graph is read."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cornu.core.errors import NotSupported
from cornu.naming import auto_name

if TYPE_CHECKING:
    from cornu.layers.layer import Layer
    from cornu.weights import Variable

_CREATED = itertools.count()  # layers and inputs, in the order they are made


def _user_code(what: str, instead: str) -> NotSupported:
    return NotSupported(f"{what}: {NotSupported.NEVER}; {instead}")


class KerasTensor:
    """A symbolic tensor of a functional model: an input, or an output of a layer call.

    `shape` (batch axis first, `None`) is inferred by the service the first time it is
    read; `dtype` is Keras's float type unless an Input says otherwise.
    """

    def __init__(
        self,
        source: Layer | Input,
        inputs: Sequence[KerasTensor] = (),
        index: int = 0,
        reverse: bool = False,
    ) -> None:
        self.source = source
        self.inputs = list(inputs)
        self.index = index
        self.reverse = reverse  # from a ReversibleEmbedding's `reverse=True` call
        self._shape: tuple[int | None, ...] | None = None

    @property
    def shape(self) -> tuple[int | None, ...]:
        if self._shape is None:
            from cornu.graph import tensor_shape

            self._shape = tensor_shape(self)
        return self._shape

    @property
    def dtype(self) -> str:
        return "float32"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        return self.source.name if self.index == 0 else f"{self.source.name}:{self.index}"

    def __repr__(self) -> str:
        return f"<KerasTensor from {self.source!r}, output {self.index}>"

    def _merge(self, kind: str, other: object, reverse: bool = False) -> KerasTensor:
        """`x + y`, `x - y`, `x * y` of two Keras tensors: Keras's Add, Subtract and
        Multiply layers, as Keras makes them for these operators."""
        if not isinstance(other, KerasTensor):
            return self._operator()
        pair = [other, self] if reverse else [self, other]
        from cornu.layers import layer_class

        out: KerasTensor = layer_class(kind)()(pair)
        return out

    def __add__(self, other: object) -> KerasTensor:
        return self._merge("Add", other)

    def __radd__(self, other: object) -> KerasTensor:
        return self._merge("Add", other, reverse=True)

    def __sub__(self, other: object) -> KerasTensor:
        return self._merge("Subtract", other)

    def __rsub__(self, other: object) -> KerasTensor:
        return self._merge("Subtract", other, reverse=True)

    def __mul__(self, other: object) -> KerasTensor:
        return self._merge("Multiply", other)

    def __rmul__(self, other: object) -> KerasTensor:
        return self._merge("Multiply", other, reverse=True)

    def _operator(self, *_: object) -> KerasTensor:
        raise _user_code(
            "arithmetic on Keras tensors with numbers, and keras.ops or tf.* calls "
            "(x * 2, x[:, 0], ops.mean(x)), make operation layers from Python code",
            "use layers that do it: Add, Subtract, Multiply, Average, Concatenate, "
            "Reshape, Permute, Cropping, Activation, Rescaling",
        )

    __truediv__ = __rtruediv__ = __matmul__ = __pow__ = __neg__ = __getitem__ = _operator


class Input(KerasTensor):
    """`layers.Input(shape=(784,))`: a model input (shape without the batch axis);
    Keras's `batch_shape=(None, 784)` works too."""

    type = "Input"

    def __init__(
        self,
        shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
        sparse: bool | None = None,
        batch_shape: Sequence[int | None] | None = None,
        name: str | None = None,
        tensor: Any = None,
        optional: bool = False,
    ) -> None:
        if shape is None and batch_shape is not None:
            shape = list(batch_shape)[1:]
        if shape is None:
            raise TypeError("Input needs a shape, e.g. Input(shape=(784,))")
        if sparse:
            raise _user_code("sparse inputs", "send dense arrays (numpy)")
        self.input_shape: list[int | None] = [None if d is None else int(d) for d in shape]
        self.input_name = name
        self._name = name or auto_name("input_layer")
        self._dtype = dtype
        self.created = next(_CREATED)
        self.trainable = False
        super().__init__(self)

    @property
    def name(self) -> str:
        return self._name

    @property
    def shape(self) -> tuple[int | None, ...]:
        return (None, *self.input_shape)

    @property
    def dtype(self) -> str:
        return self._dtype or "float32"

    def to_spec(self) -> dict[str, Any]:
        return {"type": "Input", "shape": self.input_shape}

    # An input layer has no weights: Keras's functional `model.layers` lists it.
    weights: list[Variable] = []
    trainable_weights: list[Variable] = []
    non_trainable_weights: list[Variable] = []

    def get_weights(self) -> list[np.ndarray]:
        return []

    def count_params(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"<Input name={self._name} shape={self.shape}>"


def InputLayer(  # noqa: N802  (Keras's class name, used as a constructor)
    input_shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    dtype: str | None = None,
    batch_input_shape: Sequence[int | None] | None = None,
    name: str | None = None,
    shape: Sequence[int | None] | None = None,
    batch_shape: Sequence[int | None] | None = None,
    **kwargs: Any,
) -> Input:
    """`layers.InputLayer(input_shape=…)`, tf.keras 2's first entry of a Sequential."""
    given = shape or input_shape
    full = batch_shape or batch_input_shape
    return Input(shape=given, batch_shape=full, dtype=dtype, name=name)
