"""Keras's Embedding: a lookup table from integer ids to vectors, with Keras's mask."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Mask, Shape, register
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
