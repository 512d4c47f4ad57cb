"""Keras's MultiHeadAttention on torch's fused scaled dot-product attention."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Mask, Shape, ShapeError, register
from cornu.core.spec.layers import attention as spec


@register
class MultiHeadAttention(Layer):
    """`softmax(q·kᵀ / sqrt(key_dim)) · v` per head, between learned projections.

    Called on `[query, value]` or `[query, value, key]`, each `(batch, steps, features)`.
    Weights are Keras's, in its layout: `query/kernel` `(features, num_heads, key_dim)`,
    `query/bias` `(num_heads, key_dim)`, likewise `key/…` and `value/…` (with
    `value_dim`), and `attention_output/kernel` `(num_heads, value_dim, *output_shape)`
    with its bias. As in Keras, the query's mask (on its steps) and the value's and key's
    masks (on theirs) combine into the attention mask, and the output keeps the query's.
    """

    spec_type = spec.MultiHeadAttention
    multiple_inputs = True
    uses_mask = True
    supports_masking = True

    def __init__(self, s: spec.MultiHeadAttention, input_shape: list[Shape]) -> None:
        super().__init__(s, input_shape)
        query_shape, value_shape = input_shape[0], input_shape[1]
        key_shape = input_shape[2] if len(input_shape) == 3 else value_shape
        heads, value_dim = s.num_heads, s.value_size
        self.output_size = s.output_shape or (query_shape[-1],)
        self.query_kernel, self.query_bias = self._add_dense(
            "query", query_shape[-1], (heads, s.key_dim)
        )
        self.key_kernel, self.key_bias = self._add_dense("key", key_shape[-1], (heads, s.key_dim))
        self.value_kernel, self.value_bias = self._add_dense(
            "value", value_shape[-1], (heads, value_dim)
        )
        self.output_kernel, self.output_bias = self._add_dense(
            "attention_output", heads * value_dim, self.output_size, (heads, value_dim)
        )

    def _add_dense(
        self, name: str, inputs: int, outputs: Shape, input_axes: Shape | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """One of Keras's EinsumDense projections: `{name}/kernel` and `{name}/bias`.

        The kernel is `(*input_axes, *outputs)`; initializers see it as an
        `(inputs, outputs)` matrix, which gives the fans Keras 3 computes for it.
        """
        s = self.spec
        attr = name.replace("attention_", "")
        kernel = self.add_weight(
            f"{name}/kernel",
            (*(input_axes or (inputs,)), *outputs),
            s.kernel_initializer,
            regularizer=s.kernel_regularizer,
            constraint=s.kernel_constraint,
            keras_shape=(inputs, math.prod(outputs)),
            attr=f"{attr}_kernel",
        )
        if not s.use_bias:
            return kernel, None
        bias = self.add_weight(
            f"{name}/bias",
            outputs,
            s.bias_initializer,
            regularizer=s.bias_regularizer,
            constraint=s.bias_constraint,
            attr=f"{attr}_bias",
        )
        return kernel, bias

    @classmethod
    def compute_output_shape(cls, s: spec.MultiHeadAttention, input_shape: list[Shape]) -> Shape:
        if len(input_shape) not in (2, 3):
            raise ShapeError(
                f"MultiHeadAttention is called on [query, value] or [query, value, key], "
                f"got {len(input_shape)} inputs"
            )
        for role, shape in zip(("query", "value", "key"), input_shape, strict=False):
            if len(shape) != 2:
                raise ShapeError(
                    f"MultiHeadAttention needs (steps, features) inputs, but the {role} has "
                    f"{len(shape)} axes besides the batch; reshape it to a sequence first"
                )
        if len(input_shape) == 3 and input_shape[1][0] != input_shape[2][0]:
            raise ShapeError(
                f"the value has {input_shape[1][0]} steps and the key {input_shape[2][0]}; "
                "they need the same number"
            )
        rank = 3  # (batch, steps, features): Keras's attention axes count the batch
        if s.attention_axes is not None and {a % rank for a in s.attention_axes} != {1}:
            raise ShapeError(
                f"attention_axes={list(s.attention_axes)} is not supported: attention runs "
                "over the steps axis only (leave attention_axes unset, or give [1])"
            )
        return (input_shape[0][0], *(s.output_shape or (input_shape[0][-1],)))

    def compute_mask(self, inputs: list[Tensor], mask: list[Mask] | None) -> Mask:
        return mask[0] if mask else None

    def forward(self, inputs: list[Tensor], mask: list[Mask] | None = None) -> Tensor:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        q = _heads(query, self.query_kernel, self.query_bias)
        k = _heads(key, self.key_kernel, self.key_bias)
        v = _heads(value, self.value_kernel, self.value_bias)
        allowed = self._attention_mask(query, value, mask)
        attended = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=None if allowed is None else _additive(allowed, q.dtype),
            dropout_p=self.spec.dropout if self.training else 0.0,
            is_causal=self.spec.use_causal_mask and allowed is None,
            scale=1.0 / math.sqrt(self.spec.key_dim),
        )
        if allowed is not None and self.spec.dropout > 0:
            # With dropout, Keras takes a masked softmax that gives a query whose keys are
            # all masked zero weights (without, its fused path gives them uniform weights).
            attended = attended * allowed.any(-1, keepdim=True)
        batch, steps = query.shape[0], query.shape[1]
        merged = attended.transpose(1, 2).reshape(batch, steps, -1)
        out = merged @ self.output_kernel.reshape(merged.shape[-1], -1)
        if self.output_bias is not None:
            out = out + self.output_bias.reshape(-1)
        return out.reshape(batch, steps, *self.output_size)

    def _attention_mask(self, query: Tensor, value: Tensor, mask: list[Mask] | None) -> Mask:
        """Keras's `_compute_attention_mask`: which (query step, key step) pairs may attend,
        `(batch, 1, T, S)`; None when no input is masked."""
        masks = list(mask or [])
        pieces = []
        if masks and masks[0] is not None:
            pieces.append(masks[0].bool()[:, :, None])
        pieces += [m.bool()[:, None, :] for m in masks[1:] if m is not None]
        if not pieces:
            return None  # a causal mask alone goes to the fused kernel as `is_causal`
        if self.spec.use_causal_mask:
            steps = (query.shape[1], value.shape[1])
            pieces.append(torch.ones(steps, dtype=torch.bool, device=query.device).tril())
        return functools.reduce(torch.logical_and, pieces).unsqueeze(1)


def _heads(x: Tensor, kernel: Tensor, bias: Tensor | None) -> Tensor:
    """Projects `(batch, steps, features)` to `(batch, heads, steps, head_size)`."""
    out = x @ kernel.reshape(kernel.shape[0], -1)
    if bias is not None:
        out = out + bias.reshape(-1)
    return out.unflatten(-1, kernel.shape[1:]).transpose(1, 2)


def _additive(allowed: Tensor, dtype: torch.dtype) -> Tensor:
    """The mask as Keras's torch backend gives it to the kernel: 0 where allowed, a large
    finite negative elsewhere, so a fully masked query gets uniform weights, not NaN."""
    blocked = torch.full((), -0.7 * torch.finfo(dtype).max, dtype=dtype, device=allowed.device)
    return torch.zeros((), dtype=dtype, device=allowed.device).where(allowed, blocked)
