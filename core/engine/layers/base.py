"""What every engine layer is: a torch module built from a Keras argument model.

A layer knows its output shape from its input shape without running (Keras's
`compute_output_shape`), so a whole model can be checked before anything trains.
Tensors are batch-first and channels-last at every layer boundary, as in Keras.

Weights are declared as in Keras, with `add_weight`: a Keras name (`kernel`, `bias`,
`moving_mean`, …), an initializer, a regularizer and a constraint. A layer may store a
weight in torch's layout for speed and give `to_keras` to present it in Keras's; every
`to_keras` only moves elements (transposes, permutes, reorders gate blocks), so its
inverse is derived, not written: `keras_index` applies it to the element indices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from cornu.core.engine import initializers
from cornu.core.spec.layers import ConstraintSpec, LayerSpec, RegularizerSpec

Shape = tuple[int, ...]
Shapes = Any  # a Shape, or a list of Shapes for layers with several inputs or outputs


def format_shape(shape: Sequence[int | None]) -> str:
    """One sample's shape as Python writes a tuple: `(5,)`, `(None, 3)` — what messages
    show of shapes."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


Mask = Tensor | None


# A dimension of unknown size (None) that no data gives takes one of these sizes: two
# builds with different ones tell which dimensions of each output follow it.
UNKNOWN_SIZES = (1009, 2003)


def same_size(a: int, b: int) -> int | None:
    """The size two inputs' axes agree on, as Keras checks shapes with unknown dimensions:
    equal sizes, or one of them unknown (a placeholder of `UNKNOWN_SIZES`), which takes
    the other (Keras: None is compatible with 10); None when they disagree."""
    if a == b:
        return a
    if a in UNKNOWN_SIZES:
        return b
    return a if b in UNKNOWN_SIZES else None


class ShapeError(ValueError):
    """A layer cannot take the input shape it was given; the message says why."""


@dataclass(frozen=True)
class Weight:
    """One Keras weight of a layer and how to read, penalise and constrain it."""

    name: str
    attr: str
    trainable: bool
    regularizer: RegularizerSpec | None = None
    constraint: ConstraintSpec | None = None
    to_keras: Callable[[Tensor], Tensor] | None = None


class Layer(nn.Module):
    """Base of the engine's layers; subclasses set `spec_type` and register themselves.

    Class flags tell the model how to call a layer:
    - `multiple_inputs`: `forward` takes a list of tensors (merge layers, attention);
    - `uses_mask`: `forward` takes `mask=` (RNNs, pooling over time, attention);
    - `supports_masking`: the layer passes its input's mask on unchanged;
    - `input_dtype`: what the model's inputs feeding only this layer are cast to.
    """

    spec_type: ClassVar[type[LayerSpec]]
    multiple_inputs: ClassVar[bool] = False
    uses_mask: ClassVar[bool] = False
    supports_masking: ClassVar[bool] = False
    input_dtype: ClassVar[torch.dtype] = torch.float32
    # Name of the activation that ends this layer, when the loss may fuse it
    # (softmax + cross-entropy); None when the layer has no separable activation.
    activation_name: str | None = None

    def __init__(self, spec: Any, input_shape: Shapes) -> None:
        super().__init__()
        self.spec = spec
        self.input_shape = input_shape
        self.output_shape = self.compute_output_shape(spec, input_shape)
        self.weights_info: list[Weight] = []
        self.activity_regularizer: RegularizerSpec | None = getattr(
            spec, "activity_regularizer", None
        )

    @classmethod
    def compute_output_shape(cls, spec: Any, input_shape: Shapes) -> Shapes:
        return input_shape

    def compute_mask(self, inputs: Any, mask: Any) -> Mask:
        """The mask of this layer's output (Keras's `compute_mask`)."""
        return mask if self.supports_masking else None

    def pre_activation(self, x: Tensor) -> Tensor:
        """The output before `activation_name` is applied (the logits of a softmax head)."""
        raise NotImplementedError(f"{type(self).__name__} has no separable activation")

    # -- weights ---------------------------------------------------------------------

    def add_weight(
        self,
        name: str,
        shape: tuple[int, ...],
        initializer: Any = "zeros",
        *,
        trainable: bool = True,
        regularizer: RegularizerSpec | None = None,
        constraint: ConstraintSpec | None = None,
        keras_shape: tuple[int, ...] | None = None,
        to_keras: Callable[[Tensor], Tensor] | None = None,
        attr: str | None = None,
    ) -> Tensor:
        """Create, initialise and register a weight; returns it.

        `trainable=False` weights (moving statistics) are buffers that the optimizer
        never sees; a layer built with `trainable: false` freezes its parameters.
        `keras_shape` is the weight's shape in Keras's layout, from which the
        initializer computes its fans.
        """
        attr = attr or name
        tensor = torch.empty(shape)
        initializers.get(initializer)(tensor, keras_shape or shape)
        if trainable:
            setattr(self, attr, nn.Parameter(tensor, requires_grad=bool(self.spec.trainable)))
        else:
            self.register_buffer(attr, tensor)
        self.weights_info.append(
            Weight(name, attr, trainable and self.spec.trainable, regularizer, constraint, to_keras)
        )
        weight: Tensor = getattr(self, attr)
        return weight

    def add_bias(
        self, shape: tuple[int, ...], name: str = "bias", attr: str | None = None
    ) -> Tensor | None:
        """Keras's optional bias: the weight `name` of `shape`, with the spec's
        `bias_initializer`, `bias_regularizer` and `bias_constraint`, when the spec's
        `use_bias` is true; None otherwise."""
        s: Any = self.spec
        if not s.use_bias:
            return None
        return self.add_weight(
            name,
            shape,
            s.bias_initializer,
            regularizer=s.bias_regularizer,
            constraint=s.bias_constraint,
            attr=attr,
        )

    def keras_weights(self) -> dict[str, Tensor]:
        """Weights under Keras's names and in Keras's layouts (a Dense kernel is `(in, out)`)."""
        out = {}
        for w in self.weights_info:
            tensor = getattr(self, w.attr)
            out[w.name] = w.to_keras(tensor) if w.to_keras else tensor
        return out

    def keras_shape(self, weight: Weight) -> tuple[int, ...]:
        """The weight's shape in Keras's layout (found on the meta device: no memory)."""
        stored = getattr(self, weight.attr)
        if weight.to_keras is None:
            return tuple(stored.shape)
        return tuple(weight.to_keras(torch.empty(stored.shape, device="meta")).shape)

    def keras_index(self, weight: Weight) -> Tensor:
        """For each element of a rearranged weight in Keras's layout, its position in the
        stored tensor: `to_keras` applied to `arange(n)` in the stored shape, the
        permutation that `load_keras_weight` inverts (each layout is one: a test checks
        them all, not every load)."""
        stored = getattr(self, weight.attr)
        positions = torch.arange(stored.numel()).reshape(stored.shape)
        return weight.to_keras(positions) if weight.to_keras else positions

    @torch.no_grad()
    def load_keras_weight(self, weight: Weight, value: Tensor) -> None:
        """Set `weight` from `value`, given in Keras's layout (`keras_shape(weight)`)."""
        stored = getattr(self, weight.attr)
        if weight.to_keras is None:
            stored.copy_(value.detach().reshape(stored.shape))
            return
        flat = torch.empty(stored.numel(), dtype=stored.dtype)
        flat[self.keras_index(weight).flatten()] = value.detach().to("cpu", stored.dtype).flatten()
        stored.copy_(flat.view(stored.shape))

    def count_params(self) -> tuple[int, int]:
        """(all, trainable) weight sizes, counted as Keras counts them."""
        total = trainable = 0
        for w in self.weights_info:
            size = getattr(self, w.attr).numel()
            total += size
            trainable += size if w.trainable else 0
        return total, trainable

    def regularization_loss(self) -> Tensor | None:
        """Sum of the weights' penalties (`l1 * Σ|w| + l2 * Σw²`), or None without any."""
        total: Tensor | None = None
        for w in self.weights_info:
            if w.regularizer is not None:
                penalty = penalty_of(w.regularizer, getattr(self, w.attr))
                total = penalty if total is None else total + penalty
        return total

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Project constrained weights back into their set, after an optimizer step."""
        for w in self.weights_info:
            if w.constraint is not None:
                tensor = getattr(self, w.attr)
                view = w.to_keras(tensor) if w.to_keras else tensor
                view.copy_(constrain(w.constraint, view))

    @property
    def has_constraints(self) -> bool:
        return any(w.constraint is not None for w in self.weights_info)

    @property
    def has_regularizers(self) -> bool:
        return any(w.regularizer is not None for w in self.weights_info)


def penalty_of(regularizer: RegularizerSpec, x: Tensor) -> Tensor:
    penalty = x.new_zeros(())
    if regularizer.l1:
        penalty = penalty + regularizer.l1 * x.abs().sum()
    if regularizer.l2:
        penalty = penalty + regularizer.l2 * x.square().sum()
    return penalty


def constrain(c: ConstraintSpec, w: Tensor) -> Tensor:
    """Keras's MaxNorm, MinMaxNorm, UnitNorm (norms over `axis`) and NonNeg."""
    if c.type == "non_neg":
        return w * (w >= 0).to(w.dtype)
    dims = [c.axis] if isinstance(c.axis, int) else list(c.axis)
    norms = w.square().sum(dim=dims, keepdim=True).sqrt()
    epsilon = 1e-7
    if c.type == "unit_norm":
        return w / (epsilon + norms)
    if c.type == "max_norm":
        return w * (norms.clamp(0, c.max_value) / (epsilon + norms))
    desired = c.rate * norms.clamp(c.min_value, c.max_value) + (1 - c.rate) * norms
    return w * (desired / (epsilon + norms))


LAYERS: dict[str, type[Layer]] = {}


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make `cls` the builder for its spec's Keras name."""
    name = cls.spec_type.model_fields["type"].default
    if name in LAYERS:
        raise RuntimeError(f"layer {name!r} registered twice")
    LAYERS[name] = cls
    return cls


def channels_first(x: Tensor) -> Tensor:
    """`(N, *spatial, C)` as a `(N, C, *spatial)` view: no copy, torch's channels-last format."""
    return x.movedim(-1, 1)


def channels_last(x: Tensor) -> Tensor:
    """The inverse of `channels_first`, also a view."""
    return x.movedim(1, -1)
