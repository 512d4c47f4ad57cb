"""Keras's attention layers: MultiHeadAttention and GroupQueryAttention on torch's fused
scaled dot-product attention, and the dense Attention and AdditiveAttention."""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Mask, Shape, ShapeError, Shapes, register
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
        return kernel, self.add_bias(outputs, f"{name}/bias", f"{attr}_bias")

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


def _sequences(kind: str, input_shape: list[Shape]) -> None:
    """ShapeError unless called on `[query, value]` or `[query, value, key]` sequences
    whose value and key have the same number of steps."""
    if not isinstance(input_shape, list) or len(input_shape) not in (2, 3):
        raise ShapeError(
            f"{kind} is called on [query, value] or [query, value, key], got "
            f"{len(input_shape) if isinstance(input_shape, list) else 1} input(s)"
        )
    for role, shape in zip(("query", "value", "key"), input_shape, strict=False):
        if len(shape) != 2:
            raise ShapeError(
                f"{kind} needs (steps, features) inputs, but the {role} has {len(shape)} "
                "axes besides the batch; reshape it to a sequence first"
            )
    if len(input_shape) == 3 and input_shape[1][0] != input_shape[2][0]:
        raise ShapeError(
            f"the value has {input_shape[1][0]} steps and the key {input_shape[2][0]}; "
            "they need the same number"
        )


def _causal(query: Tensor, key: Tensor) -> Tensor:
    """Keras's causal mask `(Tq, Tk)`: query step i sees key steps j ≤ i."""
    steps = (query.shape[1], key.shape[1])
    return torch.ones(steps, dtype=torch.bool, device=query.device).tril()


class _DenseAttention(Layer):
    """Keras's `Attention` base (`keras/src/layers/attention/attention.py`): scores
    between each query step and each key step, a softmax over the steps the value's mask
    and the causal mask allow (the others get `score - 1e9`), weights times the value;
    query steps the query's mask hides give zeros. The key's own mask is not used, as in
    Keras. Called on `[query, value(, key)]`; the output keeps the query's mask.
    """

    multiple_inputs = True
    uses_mask = True
    supports_masking = True

    @classmethod
    def compute_output_shape(cls, s: spec.DenseAttention, input_shape: list[Shape]) -> Shapes:
        _sequences(s.type, input_shape)
        query, value = input_shape[0], input_shape[1]
        key = input_shape[2] if len(input_shape) == 3 else value
        if query[-1] != key[-1]:
            raise ShapeError(
                f"{s.type} compares query and key features: the query has {query[-1]} and "
                f"the key {key[-1]}; they need the same number"
            )
        output = (query[0], value[-1])
        return [output, (query[0], key[0])] if s.return_attention_scores else output

    def compute_mask(self, inputs: list[Tensor], mask: list[Mask] | None) -> Any:
        query_mask = mask[0] if mask else None
        return (query_mask, None) if self.spec.return_attention_scores else query_mask

    def scores(self, query: Tensor, key: Tensor) -> Tensor:
        """`(batch, Tq, Tk)` scores before the softmax."""
        raise NotImplementedError

    def forward(
        self, inputs: list[Tensor], mask: list[Mask] | None = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        query_mask = mask[0] if mask else None
        value_mask = mask[1] if mask else None
        scores = self.scores(query, key)
        allowed = None if value_mask is None else value_mask.bool()[:, None, :]
        if self.spec.use_causal_mask:
            causal = _causal(query, key)
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            # Keras subtracts a large number rather than setting -inf: a query whose every
            # step is masked gets uniform weights, not NaN.
            large = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = torch.where(allowed, scores, scores - large)
        weights = torch.softmax(scores, dim=-1)
        if self.training and self.spec.dropout > 0:
            weights = F.dropout(weights, self.spec.dropout, True)
        out = weights @ value
        if query_mask is not None:
            out = torch.where(query_mask.bool()[..., None], out, out.new_zeros(()))
        return (out, weights) if self.spec.return_attention_scores else out


@register
class Attention(_DenseAttention):
    """Keras's Attention: `score_mode="dot"` scores are `query · keyᵀ` (times the scalar
    weight `scale` with `use_scale`); `"concat"` scores are
    `concat_score_weight · Σ_features tanh(scale · (query + key))`."""

    spec_type = spec.Attention

    def __init__(self, s: spec.Attention, input_shape: list[Shape]) -> None:
        super().__init__(s, input_shape)
        self.scale: Tensor | None = None
        self.concat_score_weight: Tensor | None = None
        if s.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if s.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")

    def scores(self, query: Tensor, key: Tensor) -> Tensor:
        if self.concat_score_weight is None:
            scores = query @ key.transpose(-2, -1)
            return scores if self.scale is None else scores * self.scale
        pairs = query.unsqueeze(-2) + key.unsqueeze(-3)  # (batch, Tq, Tk, features)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(-1)


@register
class AdditiveAttention(_DenseAttention):
    """Keras's AdditiveAttention: scores `Σ_features scale · tanh(query + key)`, with
    `scale` a learned weight per feature (glorot_uniform) or 1 without `use_scale`."""

    spec_type = spec.AdditiveAttention

    def __init__(self, s: spec.AdditiveAttention, input_shape: list[Shape]) -> None:
        super().__init__(s, input_shape)
        self.scale: Tensor | None = None
        if s.use_scale:
            self.scale = self.add_weight("scale", (input_shape[0][-1],), "glorot_uniform")

    def scores(self, query: Tensor, key: Tensor) -> Tensor:
        pairs = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is None:
            return pairs.sum(-1)
        return pairs @ self.scale


@register
class GroupQueryAttention(MultiHeadAttention):
    """Keras's GroupQueryAttention (`keras/src/layers/attention/grouped_query_attention.py`).

    Weights, in Keras's order and layouts: `query/kernel` `(features, num_query_heads,
    head_dim)` and its bias `(num_query_heads, head_dim)`; `key/…` and `value/…` with
    `num_key_value_heads`; with `use_gate`, `gate/…` as the query's (built after the
    key); `attention_output/kernel` `(num_query_heads, head_dim, features)` and its bias.
    Each key/value head is repeated for its group of consecutive query heads. Masks
    combine as in MultiHeadAttention, with the sliding window's band.
    """

    spec_type = spec.GroupQueryAttention  # type: ignore[assignment]

    def __init__(self, s: spec.GroupQueryAttention, input_shape: list[Shape]) -> None:
        Layer.__init__(self, s, input_shape)
        query_shape, value_shape = input_shape[0], input_shape[1]
        key_shape = input_shape[2] if len(input_shape) == 3 else value_shape
        features = query_shape[-1]
        self.output_size = (features,)
        self.repeats = s.num_query_heads // s.num_key_value_heads
        query_heads, kv_heads = (s.num_query_heads, s.head_dim), (s.num_key_value_heads, s.head_dim)
        self.query_kernel, self.query_bias = self._add_dense("query", features, query_heads)
        self.key_kernel, self.key_bias = self._add_dense("key", key_shape[-1], kv_heads)
        self.gate_kernel: Tensor | None = None
        self.gate_bias: Tensor | None = None
        if s.use_gate:
            self.gate_kernel, self.gate_bias = self._add_dense("gate", features, query_heads)
        self.value_kernel, self.value_bias = self._add_dense("value", value_shape[-1], kv_heads)
        self.output_kernel, self.output_bias = self._add_dense(
            "attention_output", s.num_query_heads * s.head_dim, (features,), query_heads
        )

    @classmethod
    def compute_output_shape(  # type: ignore[override]
        cls, s: spec.GroupQueryAttention, input_shape: list[Shape]
    ) -> Shapes:
        _sequences("GroupQueryAttention", input_shape)
        query, value = input_shape[0], input_shape[1]
        if query[-1] != value[-1]:
            raise ShapeError(
                f"GroupQueryAttention needs query and value of the same features (Keras's "
                f"rule); the query has {query[-1]} and the value {value[-1]}"
            )
        key = input_shape[2] if len(input_shape) == 3 else value
        if s.return_attention_scores:
            return [query, (s.num_query_heads, query[0], key[0])]
        return query

    def compute_mask(self, inputs: list[Tensor], mask: list[Mask] | None) -> Any:
        query_mask = mask[0] if mask else None
        return (query_mask, None) if self.spec.return_attention_scores else query_mask

    def forward(  # type: ignore[override]
        self, inputs: list[Tensor], mask: list[Mask] | None = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        s: spec.GroupQueryAttention = self.spec
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        q = _heads(query, self.query_kernel, self.query_bias)
        k = _heads(key, self.key_kernel, self.key_bias).repeat_interleave(self.repeats, 1)
        v = _heads(value, self.value_kernel, self.value_bias).repeat_interleave(self.repeats, 1)
        allowed = self._attention_mask(query, value, mask)
        if s.sliding_window is not None:
            positions = torch.arange(query.shape[1], device=query.device)
            band = (positions[:, None] - torch.arange(key.shape[1], device=key.device)).abs()
            window = band < s.sliding_window
            if s.use_causal_mask:
                window = window & _causal(query, key)
            allowed = window[None, None] if allowed is None else allowed & window
        scale = 1.0 / math.sqrt(s.head_dim)
        weights = None
        if s.return_attention_scores or s.dropout > 0:
            # Keras's explicit path (dropout, scores): its Softmax layer with the mask
            # sets masked scores to -1e9 and their weights to 0 after the softmax, so a
            # query whose keys are all masked gets zero weights.
            scores = (q * scale) @ k.transpose(-2, -1)
            if allowed is None and s.use_causal_mask:
                allowed = _causal(query, key)[None, None]
            if allowed is not None:
                large = -3e4 if scores.dtype == torch.float16 else -1e9
                scores = torch.where(allowed, scores, scores.new_full((), large))
            weights = torch.softmax(scores, -1)
            if allowed is not None:
                weights = torch.where(allowed, weights, weights.new_zeros(()))
            dropped = F.dropout(weights, s.dropout, True) if self.training else weights
            attended = dropped @ v
        else:
            attended = F.scaled_dot_product_attention(
                q,
                k,
                v,
                attn_mask=None if allowed is None else _additive(allowed, q.dtype),
                is_causal=s.use_causal_mask and allowed is None,
                scale=scale,
            )
        merged = attended.transpose(1, 2)  # (batch, steps, heads, head_dim)
        if self.gate_kernel is not None:
            gate = _heads(query, self.gate_kernel, self.gate_bias).transpose(1, 2)
            merged = merged * torch.sigmoid(gate)
        batch, steps = query.shape[0], query.shape[1]
        out = merged.reshape(batch, steps, -1) @ self.output_kernel.reshape(-1, query.shape[-1])
        if self.output_bias is not None:
            out = out + self.output_bias
        return (out, weights) if weights is not None and s.return_attention_scores else out
