"""Keras's wrapper layers: Bidirectional and TimeDistributed hold another layer's spec."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import PositiveInt, SerializeAsAny, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import LayerSpec, register
from cornu.core.spec.layers.parsing import parse_layer
from cornu.core.spec.layers.rnn import Recurrent


def _layer_spec(value: Any) -> LayerSpec:
    """Another layer's arguments, flat (`{"type": "LSTM", …}`) or as Keras nests them."""
    return parse_layer(value)


def _no_activity_regularizer(layer: LayerSpec, wrapper: str) -> None:
    if getattr(layer, "activity_regularizer", None) is not None:
        raise PydanticCustomError(
            "wrapped_activity_regularizer",
            "the {kind} inside {wrapper} has an activity_regularizer, which is not supported "
            "there; remove it or regularize the output of the {wrapper} layer instead",
            {"kind": layer.type, "wrapper": wrapper},
        )


@register
class Bidirectional(LayerSpec):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two.

    The backward copy is `layer` with `go_backwards=True` unless `backward_layer` is
    given; `merge_mode=None` returns both directions as two outputs.
    """

    type: Literal["Bidirectional"] = "Bidirectional"
    layer: SerializeAsAny[LayerSpec]
    merge_mode: Literal["concat", "sum", "mul", "ave"] | None = "concat"
    backward_layer: SerializeAsAny[LayerSpec] | None = None

    @field_validator("layer", "backward_layer", mode="before")
    @classmethod
    def _parse_layers(cls, value: Any) -> LayerSpec | None:
        return None if value is None else _layer_spec(value)

    @model_validator(mode="after")
    def _directions_match(self) -> Bidirectional:
        forward, backward = self.layer, self.backward
        for inner in (forward, backward):
            if not isinstance(inner, Recurrent):
                raise PydanticCustomError(
                    "bidirectional_layer",
                    "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU), not {kind}",
                    {"kind": inner.type},
                )
            _no_activity_regularizer(inner, "Bidirectional")
        assert isinstance(forward, Recurrent) and isinstance(backward, Recurrent)  # for mypy
        if forward.go_backwards == backward.go_backwards:
            raise PydanticCustomError(
                "bidirectional_directions",
                "Bidirectional's forward and backward layers both have go_backwards={value}; "
                "give the wrapped layer go_backwards=false (the backward copy gets true)",
                {"value": str(forward.go_backwards).lower()},
            )
        if (forward.return_sequences, forward.return_state) != (
            backward.return_sequences,
            backward.return_state,
        ):
            raise PydanticCustomError(
                "bidirectional_mismatch",
                "Bidirectional's forward and backward layers must agree on return_sequences "
                "and return_state",
            )
        return self

    @property
    def backward(self) -> LayerSpec:
        """The backward direction's arguments: `backward_layer`, or `layer` run backwards."""
        if self.backward_layer is not None:
            return self.backward_layer
        return self.layer.model_copy(update={"go_backwards": True})


@register
class TimeDistributed(LayerSpec):
    """Applies `layer` to every time step (axis 1) of its input, with shared weights."""

    type: Literal["TimeDistributed"] = "TimeDistributed"
    layer: SerializeAsAny[LayerSpec]

    @field_validator("layer", mode="before")
    @classmethod
    def _parse_layer(cls, value: Any) -> LayerSpec:
        layer = _layer_spec(value)
        if layer.type == "Input":
            raise PydanticCustomError(
                "time_distributed_layer", "TimeDistributed needs a layer, not an Input"
            )
        _no_activity_regularizer(layer, "TimeDistributed")
        return layer


# The layers whose weight SpectralNormalization normalizes: those with a `kernel` (or
# an Embedding's `embeddings`) attribute in Keras (its `build` refuses any other).
SPECTRAL_KERNELS = {
    "Dense": "kernel",
    "EinsumDense": "kernel",
    "Conv1D": "kernel",
    "Conv2D": "kernel",
    "Conv3D": "kernel",
    "Conv1DTranspose": "kernel",
    "Conv2DTranspose": "kernel",
    "Conv3DTranspose": "kernel",
    "DepthwiseConv1D": "kernel",
    "DepthwiseConv2D": "kernel",
    "Embedding": "embeddings",
    "ReversibleEmbedding": "embeddings",
}


@register
class SpectralNormalization(LayerSpec):
    """Divides `layer`'s kernel by its largest singular value, estimated by
    `power_iterations` steps of power iteration from a kept vector `vector_u`, at every
    training call (keras/src/layers/normalization/spectral_normalization.py)."""

    type: Literal["SpectralNormalization"] = "SpectralNormalization"
    layer: SerializeAsAny[LayerSpec]
    power_iterations: PositiveInt = 1

    @field_validator("layer", mode="before")
    @classmethod
    def _parse_layer(cls, value: Any) -> LayerSpec:
        layer = _layer_spec(value)
        if layer.type not in SPECTRAL_KERNELS:
            raise PydanticCustomError(
                "spectral_layer",
                "SpectralNormalization wraps a layer with a kernel or embeddings ({valid}), "
                "not {kind}",
                {"valid": ", ".join(SPECTRAL_KERNELS), "kind": layer.type},
            )
        _no_activity_regularizer(layer, "SpectralNormalization")
        return layer

    @property
    def kernel_name(self) -> str:
        """The wrapped layer's weight that is normalized: `kernel` or `embeddings`."""
        return SPECTRAL_KERNELS[self.layer.type]
