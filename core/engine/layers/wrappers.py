"""Keras's wrapper layers: Bidirectional (a recurrent layer both ways) and
TimeDistributed (a layer on every time step). Their inner layers' weights count as
theirs, under Keras's names (`forward_lstm/kernel`, `dense/kernel`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from cornu.core.engine.layers.base import (
    LAYERS,
    Layer,
    Mask,
    Shape,
    ShapeError,
    Shapes,
    register,
)
from cornu.core.spec.layers import KerasObject, LayerSpec
from cornu.core.spec.layers import wrappers as spec
from cornu.core.spec.layers.rnn import Recurrent
from cornu.core.spec.names import snake_case


class Wrapper(Layer):
    """A layer built around others; their weights count as its own, under Keras's names."""

    def wrapped(self) -> list[tuple[str, Layer]]:
        """Each wrapped layer with the prefix of its weights' Keras names."""
        raise NotImplementedError

    def keras_weights(self) -> dict[str, Tensor]:
        weights = super().keras_weights()
        for prefix, layer in self.wrapped():
            weights.update({prefix + k: v for k, v in layer.keras_weights().items()})
        return weights

    def count_params(self) -> tuple[int, int]:
        total, trainable = super().count_params()
        for _, layer in self.wrapped():
            more, more_trainable = layer.count_params()
            total, trainable = total + more, trainable + more_trainable
        return total, trainable

    def regularization_loss(self) -> Tensor | None:
        penalties = [super().regularization_loss()]
        penalties += [layer.regularization_loss() for _, layer in self.wrapped()]
        found = [p for p in penalties if p is not None]
        return torch.stack(found).sum() if found else None

    def apply_constraints(self) -> None:
        super().apply_constraints()
        for _, layer in self.wrapped():
            layer.apply_constraints()

    @property
    def has_constraints(self) -> bool:
        return super().has_constraints or any(w.has_constraints for _, w in self.wrapped())

    @property
    def has_regularizers(self) -> bool:
        return super().has_regularizers or any(w.has_regularizers for _, w in self.wrapped())


def _frozen_with(wrapper: LayerSpec, inner: LayerSpec, **update: Any) -> LayerSpec:
    """`inner` as the wrapper builds it: a wrapper with `trainable: false` freezes it."""
    if not wrapper.trainable:
        update["trainable"] = False
    return inner.model_copy(update=update) if update else inner


@register
class Bidirectional(Wrapper):
    """Runs `layer` forwards and its backward copy, and merges the two by `merge_mode`.

    As in Keras, both directions output zeros at masked steps when they return
    sequences (`zero_output_for_mask`), and the backward sequence is flipped back to
    align in time with the forward one.
    """

    spec_type = spec.Bidirectional
    uses_mask = True

    def __init__(self, s: spec.Bidirectional, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        forward, backward = self.directions(s)
        self.forward_layer = LAYERS[forward.type](forward, input_shape)
        self.backward_layer = LAYERS[backward.type](backward, input_shape)
        base = s.layer.name or snake_case(s.layer.type)
        self.forward_name = "forward_" + base.removeprefix("forward_")
        if s.backward_layer is None:
            self.backward_name = "backward_" + base.removeprefix("backward_")
        else:
            self.backward_name = s.backward_layer.name or f"backward_{snake_case(backward.type)}"

    @staticmethod
    def directions(
        s: spec.Bidirectional,
    ) -> tuple[Recurrent, Recurrent]:
        """Both directions' arguments; Keras zeroes their outputs at masked steps when
        they return sequences (`zero_output_for_mask`)."""
        forward, backward = s.layer, s.backward
        assert isinstance(forward, Recurrent) and isinstance(backward, Recurrent)
        zero = {"zero_output_for_mask": forward.return_sequences}
        return _frozen_with(s, forward, **zero), _frozen_with(s, backward, **zero)  # type: ignore[return-value]

    def wrapped(self) -> list[tuple[str, Layer]]:
        return [
            (f"{self.forward_name}/", self.forward_layer),
            (f"{self.backward_name}/", self.backward_layer),
        ]

    @classmethod
    def compute_output_shape(cls, s: spec.Bidirectional, input_shape: Shapes) -> Shapes:
        shapes = [LAYERS[d.type].compute_output_shape(d, input_shape) for d in cls.directions(s)]
        (out, *states), (back_out, *back_states) = [
            x if isinstance(x, list) else [x] for x in shapes
        ]
        if s.merge_mode is None:
            outputs = [out, back_out]
        elif s.merge_mode == "concat":
            outputs = [(*out[:-1], out[-1] + back_out[-1])]
        elif out == back_out:
            outputs = [out]
        else:
            raise ShapeError(
                f"merge_mode={s.merge_mode!r} needs both directions to output the same shape, "
                f"got {out} and {back_out}; give the backward layer the same units or use concat"
            )
        every = outputs + states + back_states
        return every if len(every) > 1 else every[0]

    def compute_mask(self, inputs: Tensor, mask: Mask) -> Any:
        """The input mask for sequence outputs, None for last outputs and states (Keras)."""
        forward = self.forward_layer.spec
        output_mask = mask if forward.return_sequences else None
        outputs = 2 if self.spec.merge_mode is None else 1
        count = len(self.output_shape) if isinstance(self.output_shape, list) else 1
        masks = (output_mask,) * outputs + (None,) * (count - outputs)
        return masks if len(masks) > 1 else masks[0]

    def forward(self, x: Tensor, mask: Mask = None) -> Tensor | tuple[Tensor, ...]:
        forward = self.forward_layer.spec
        y, y_back = self.forward_layer(x, mask=mask), self.backward_layer(x, mask=mask)
        states: list[Tensor] = []
        if forward.return_state:
            (y, *states), (y_back, *back_states) = y, y_back
            states += back_states
        if forward.return_sequences:
            y_back = y_back.flip(1)
        every = (*self._merge(y, y_back), *states)
        return every if len(every) > 1 else every[0]

    def _merge(self, y: Tensor, y_back: Tensor) -> tuple[Tensor, ...]:
        mode = self.spec.merge_mode
        if mode is None:
            return y, y_back
        if mode == "concat":
            return (torch.cat([y, y_back], -1),)
        if mode == "sum":
            return (y + y_back,)
        if mode == "ave":
            return ((y + y_back) / 2,)
        return (y * y_back,)


@register
class TimeDistributed(Wrapper):
    """Applies `layer` to each time step: the steps are folded into the batch and back.

    Keras calls the layer once per step; folding computes the same for every layer whose
    training-time behaviour does not mix samples (BatchNormalization's batch statistics
    would span all steps here, one step at a time in Keras).
    """

    spec_type = spec.TimeDistributed
    uses_mask = True
    supports_masking = True

    def __init__(self, s: spec.TimeDistributed, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        inner = _frozen_with(s, s.layer)
        self.layer = LAYERS[inner.type](inner, input_shape[1:])

    def wrapped(self) -> list[tuple[str, Layer]]:
        return [(f"{self.spec.layer.name or snake_case(self.spec.layer.type)}/", self.layer)]

    @classmethod
    def compute_output_shape(cls, s: spec.TimeDistributed, input_shape: Shapes) -> Shapes:
        if isinstance(input_shape, list) or len(input_shape) < 2:
            raise ShapeError(
                f"TimeDistributed needs inputs of shape (timesteps, …) with at least one axis "
                f"after time, got {input_shape}"
            )
        inner = LAYERS[s.layer.type]
        if inner.multiple_inputs:
            raise ShapeError(
                f"TimeDistributed cannot wrap {s.layer.type}, which takes several inputs"
            )
        step = inner.compute_output_shape(s.layer, tuple(input_shape[1:]))
        if isinstance(step, list):
            raise ShapeError(
                f"TimeDistributed needs a layer with one output; this {s.layer.type} returns "
                f"{len(step)} (set return_state=false)"
            )
        return (input_shape[0], *step)

    def forward(self, x: Tensor, mask: Mask = None) -> Tensor:
        batch, steps = x.shape[:2]
        folded = x.reshape(batch * steps, *x.shape[2:])
        if self.layer.uses_mask:  # Keras gives the layer each step's slice of the mask
            y = self.layer(folded, mask=None if mask is None else mask.flatten(0, 1))
        else:
            y = self.layer(folded)
        return y.reshape(batch, steps, *y.shape[1:])


@register
class SpectralNormalization(Wrapper):
    """Runs `layer` on the input; while training, first divides its kernel in place by
    its spectral norm (estimated by power iteration from `vector_u`, which is updated),
    as Keras's call does (keras/src/layers/normalization/spectral_normalization.py):
    the kernel *variable* is assigned the normalized value (an all-zero kernel is left
    as it is), so gradients reach the kernel as the layer used it, not through the
    normalization. At inference the layer runs on the kernel as it stands.
    """

    spec_type = spec.SpectralNormalization

    def __init__(self, s: spec.SpectralNormalization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        inner = _frozen_with(s, s.layer)
        self.layer = LAYERS[inner.type](inner, input_shape)
        self.inner_name = s.layer.name or snake_case(s.layer.type)
        self.kernel_weight = next(w for w in self.layer.weights_info if w.name == s.kernel_name)
        units = self.layer.keras_shape(self.kernel_weight)[-1]
        self.vector_u = self.add_weight(
            "vector_u", (1, units), _VECTOR_U_INITIALIZER, trainable=False
        )

    def wrapped(self) -> list[tuple[str, Layer]]:
        return [(f"{self.inner_name}/", self.layer)]

    def keras_weights(self) -> dict[str, Tensor]:
        """Keras's `get_weights()` order: the kernel (Keras's wrapper tracks it as its
        own trainable variable), `vector_u`, then the wrapped layer's other weights."""
        inner = {self.inner_name + "/" + k: v for k, v in self.layer.keras_weights().items()}
        kernel = f"{self.inner_name}/{self.kernel_weight.name}"
        return {kernel: inner.pop(kernel), "vector_u": self.vector_u, **inner}

    @classmethod
    def compute_output_shape(cls, s: spec.SpectralNormalization, input_shape: Shapes) -> Shapes:
        return LAYERS[s.layer.type].compute_output_shape(s.layer, input_shape)

    @torch.no_grad()
    def normalize_kernel(self) -> None:
        """Keras's `normalized_weights`, assigned: `power_iterations` steps from
        `vector_u`, then the kernel divided by `sigma = v W uᵀ` and `vector_u` kept."""
        stored = getattr(self.layer, self.kernel_weight.attr)
        if not bool(stored.any()):  # Keras's `ops.cond(all(kernel == 0), …)`
            return
        to_keras = self.kernel_weight.to_keras
        kernel = to_keras(stored) if to_keras else stored
        weights = kernel.reshape(-1, kernel.shape[-1])
        vector_u = self.vector_u
        for _ in range(self.spec.power_iterations):
            vector_v = _l2_normalize(vector_u @ weights.t())
            vector_u = _l2_normalize(vector_v @ weights)
        sigma = (vector_v @ weights) @ vector_u.t()
        self.vector_u.copy_(vector_u)
        stored.div_(sigma.reshape(()))  # the same elements, in whichever layout it is kept

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            self.normalize_kernel()
        return self.layer(x)


# Keras's `TruncatedNormal(stddev=0.02)` for `vector_u`.
_VECTOR_U_INITIALIZER = KerasObject(type="TruncatedNormal", stddev=0.02)


def _l2_normalize(x: Tensor) -> Tensor:
    """Keras's `ops.normalize(x, axis=None)`: `x * min(rsqrt(Σx²), 1 / epsilon)`."""
    return x * torch.clamp(torch.rsqrt(x.square().sum()), max=1.0 / 1e-7)
