"""Keras's Embedding: integer ids looked up in a trainable `(input_dim, output_dim)` table."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import Constraint, Initializer, LayerSpec, Regularizer, register

# Keras's short names for these initializers (`Embedding`'s default is "uniform").
_INITIALIZER_ALIASES = {"uniform": "random_uniform", "normal": "random_normal"}


@register
class Embedding(LayerSpec):
    """Maps each id in `[0, input_dim)` to a row of the embeddings table.

    `mask_zero=True` makes id 0 padding: the layer outputs the mask `ids != 0`, which the
    recurrent layers after it use to skip those steps.
    """

    type: Literal["Embedding"] = "Embedding"
    input_dim: PositiveInt
    output_dim: PositiveInt
    embeddings_initializer: Initializer = "random_uniform"  # uniform in [-0.05, 0.05]
    embeddings_regularizer: Regularizer = None
    activity_regularizer: Regularizer = None
    embeddings_constraint: Constraint = None
    mask_zero: bool = False

    @model_validator(mode="before")
    @classmethod
    def _keras_input_forms(cls, data: Any) -> Any:
        """Overrides LayerSpec's: `input_dim` is the vocabulary size here, not the input.

        The input is `input_shape`, `batch_input_shape`, or tf.keras 2's `input_length`
        (which Keras 3 ignores; tf.keras 2 used it as the input shape when none was given).
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        length = data.pop("input_length", None)
        if "batch_input_shape" in data:
            if "input_shape" in data:
                raise PydanticCustomError(
                    "input_forms", "give only one of input_shape, batch_input_shape"
                )
            batch_shape = data.pop("batch_input_shape")
            if not isinstance(batch_shape, list | tuple) or not batch_shape:
                raise PydanticCustomError(
                    "batch_input_shape", "batch_input_shape must be a list like [null, 200]"
                )
            data["input_shape"] = list(batch_shape[1:])
        if length is not None and data.get("input_shape") is None:
            data["input_shape"] = [length]
        return data

    @field_validator("embeddings_initializer", mode="before")
    @classmethod
    def _keras_alias(cls, value: Any) -> Any:
        return _INITIALIZER_ALIASES.get(value, value) if isinstance(value, str) else value


# The float types a reverse projection may run in (Keras's `reverse_dtype`).
ReverseDtype = Literal["float16", "bfloat16", "float32", "float64"]


@register
class ReversibleEmbedding(Embedding):
    """An Embedding that can also be called in reverse (`emb(h, reverse=True)`, a node's
    `reverse: true`): hidden states `(…, output_dim)` projected back to vocabulary logits
    `(…, input_dim)` by the transposed `embeddings` (`tie_weights`, the default) or by a
    separate `reverse_embeddings` `(output_dim, input_dim)`; `logit_soft_cap` scales the
    logits as `tanh(logits / cap) * cap` (keras/src/layers/core/reversible_embedding.py).
    """

    type: Literal["ReversibleEmbedding"] = "ReversibleEmbedding"  # type: ignore[assignment]
    tie_weights: bool = True
    reverse_dtype: ReverseDtype | None = None
    logit_soft_cap: float | None = None

    @field_validator("logit_soft_cap")
    @classmethod
    def _nonzero_cap(cls, value: float | None) -> float | None:
        if value == 0:
            raise PydanticCustomError(
                "logit_soft_cap",
                "logit_soft_cap must not be 0 (Keras divides the logits by it); give a "
                "positive cap such as 30.0, or null for none",
            )
        return value
