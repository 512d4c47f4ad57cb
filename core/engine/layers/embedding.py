"""Keras's Embedding: a lookup table from integer ids to vectors, with Keras's mask."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Mask, Shape, ShapeError, register, same_size
from cornu.core.spec.layers import embedding as spec


@register
class Embedding(Layer):
    """Rows of `embeddings` (stored `(input_dim, output_dim)`, as Keras) picked by id.

    The model feeds this layer int64 ids (`input_dtype`); a float tensor from a previous
    layer is truncated to ids, as Keras casts it.
    """

    spec_type = spec.Embedding
    input_dtype = torch.long

    def __init__(self, s: spec.Embedding, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.embeddings = self.add_weight(
            "embeddings",
            (s.input_dim, s.output_dim),
            s.embeddings_initializer,
            regularizer=s.embeddings_regularizer,
            constraint=s.embeddings_constraint,
        )

    @classmethod
    def compute_output_shape(cls, s: spec.Embedding, input_shape: Shape) -> Shape:
        return (*input_shape, s.output_dim)

    def compute_mask(self, inputs: Tensor, mask: Mask) -> Mask:
        """With `mask_zero`, id 0 is padding: the mask is `ids != 0`; otherwise none."""
        return inputs != 0 if self.spec.mask_zero else None

    def forward(self, x: Tensor) -> Tensor:
        return F.embedding(x.long(), self.embeddings)


_FLOATS = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


@register
class ReversibleEmbedding(Embedding):
    """An Embedding that a `reverse=True` call turns into the projection back to the
    vocabulary: `h @ embeddings.T` (tied) or `h @ reverse_embeddings` (untied, stored
    `(output_dim, input_dim)` as Keras), soft-capped as `tanh(logits / cap) * cap`.

    With `reverse_dtype`, the projection runs in that float type as in Keras, and its
    logits come back as float32, the type every other layer here computes in.
    """

    spec_type = spec.ReversibleEmbedding

    def __init__(self, s: spec.ReversibleEmbedding, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        if not s.tie_weights:
            self.reverse_embeddings = self.add_weight(
                "reverse_embeddings", (s.output_dim, s.input_dim), s.embeddings_initializer
            )

    def reverse_output_shape(self, input_shape: Shape) -> Shape:
        """`(…, output_dim)` hidden states give `(…, input_dim)` logits (Keras's
        `compute_output_shape(input_shape, reverse=True)`)."""
        dim = self.spec.output_dim
        if not input_shape or same_size(input_shape[-1], dim) is None:
            raise ShapeError(
                f"a reverse call projects hidden states of shape (…, {dim}) (output_dim) "
                f"back to the {self.spec.input_dim} ids; got {tuple(input_shape)}"
            )
        return (*input_shape[:-1], self.spec.input_dim)

    def compute_mask(self, inputs: Tensor, mask: Mask, reverse: bool = False) -> Mask:
        """The ids' padding mask on the embeddings; none on the logits (Keras's reverse
        call sets none, and its `compute_mask` returns None)."""
        return None if reverse else super().compute_mask(inputs, mask)

    def forward(self, x: Tensor, reverse: bool = False) -> Tensor:
        if not reverse:
            return super().forward(x)
        s = self.spec
        kernel = self.embeddings.t() if s.tie_weights else self.reverse_embeddings
        dtype = _FLOATS[s.reverse_dtype] if s.reverse_dtype is not None else x.dtype
        logits = torch.matmul(x.to(dtype), kernel.to(dtype))
        if s.logit_soft_cap is not None:
            logits = torch.tanh(logits / s.logit_soft_cap) * s.logit_soft_cap
        return logits.to(x.dtype)
