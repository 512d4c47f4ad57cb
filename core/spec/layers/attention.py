"""Keras's attention layers: MultiHeadAttention, GroupQueryAttention, Attention and
AdditiveAttention."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import LayerSpec, Regularized, register


@register
class MultiHeadAttention(Regularized):
    """Scaled dot-product attention with `num_heads` heads, called on `[query, value]` or
    `[query, value, key]` (the key defaults to the value), each `(steps, features)`.

    `use_causal_mask` is a call argument in Keras; Keras's model JSON records it on the
    call, and Cornu keeps it with the layer. `flash_attention` and `seed` are accepted:
    torch chooses the attention kernel itself, and runs are seeded by the job.
    tf.keras 2 also records the shapes it was built for (`query_shape`, `key_shape`,
    `value_shape`); the model's graph gives them, so they are not used.
    """

    type: Literal["MultiHeadAttention"] = "MultiHeadAttention"
    num_heads: PositiveInt
    key_dim: PositiveInt
    value_dim: PositiveInt | None = None
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    use_bias: bool = True
    output_shape: tuple[PositiveInt, ...] | None = None
    attention_axes: tuple[int, ...] | None = None
    use_causal_mask: bool = False
    flash_attention: bool | None = None
    sliding_window: int | None = None
    use_gate: bool = False
    seed: int | None = None
    query_shape: list[int | None] | None = None
    key_shape: list[int | None] | None = None
    value_shape: list[int | None] | None = None

    @field_validator("output_shape", "attention_axes", mode="before")
    @classmethod
    def _int_or_list(cls, value: Any) -> Any:
        """Keras takes `output_shape=10` for `(10,)`, and treats an empty one as none."""
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
        if isinstance(value, list | tuple) and not value:
            return None
        return value

    @field_validator("sliding_window")
    @classmethod
    def _no_sliding_window(cls, value: int | None) -> int | None:
        if value is not None:
            raise PydanticCustomError(
                "unsupported_option",
                "sliding_window is not supported; remove it (every query attends to every key)",
            )
        return value

    @field_validator("use_gate")
    @classmethod
    def _no_gate(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError(
                "unsupported_option", "use_gate=True is not supported; use use_gate=False"
            )
        return value

    @model_validator(mode="after")
    def _flash_without_dropout(self) -> MultiHeadAttention:
        if self.flash_attention and self.dropout > 0:
            raise PydanticCustomError(
                "flash_dropout",
                "flash_attention=True does not allow dropout (as in Keras); set dropout=0 "
                "or leave flash_attention unset",
            )
        return self

    @property
    def value_size(self) -> int:
        """Keras's `value_dim`: the value heads' size, `key_dim` unless given."""
        return self.value_dim or self.key_dim


def _causal_of_tf_keras(data: Any) -> Any:
    """tf.keras 2's early Attention layers took `causal=True` in the constructor; Keras 3
    takes it in the call, as `use_causal_mask`."""
    if isinstance(data, dict) and "causal" in data:
        data = dict(data)
        causal = data.pop("causal")
        data["use_causal_mask"] = bool(data.get("use_causal_mask")) or bool(causal)
    return data


class DenseAttention(LayerSpec):
    """What Attention and AdditiveAttention share, called on `[query, value]` or
    `[query, value, key]`, each `(steps, features)`.

    `use_causal_mask` and `return_attention_scores` are call arguments in Keras; its
    model JSON records them on the call, and Cornu keeps them with the layer. With
    `return_attention_scores` the layer has two outputs: the attended values and the
    attention weights `(query steps, value steps)`.
    """

    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    seed: int | None = None
    use_causal_mask: bool = False
    return_attention_scores: bool = False

    @model_validator(mode="before")
    @classmethod
    def _tf_keras_causal(cls, data: Any) -> Any:
        return _causal_of_tf_keras(data)


@register
class Attention(DenseAttention):
    """Luong-style attention: scores `query · keyᵀ` (`score_mode="dot"`, times a learned
    `scale` with `use_scale`) or `concat_score_weight · Σ tanh(scale·(query + key))`
    (`score_mode="concat"`), softmax over the value steps, weights times the value."""

    type: Literal["Attention"] = "Attention"
    use_scale: bool = False
    score_mode: Literal["dot", "concat"] = "dot"


@register
class AdditiveAttention(DenseAttention):
    """Bahdanau-style attention: scores `Σ scale · tanh(query + key)` over the features,
    with a learned `scale` per feature (`use_scale`, Keras's default)."""

    type: Literal["AdditiveAttention"] = "AdditiveAttention"
    use_scale: bool = True


@register
class GroupQueryAttention(Regularized):
    """Grouped-query attention: `num_query_heads` query heads of size `head_dim` share
    `num_key_value_heads` key and value heads (each serves
    `num_query_heads / num_key_value_heads` query heads); called on `[query, value]` or
    `[query, value, key]`, each `(steps, features)`, with the output of the query's
    size. `sliding_window` lets a query step attend only to key steps less than that
    far away; `use_gate` multiplies the heads' output by `sigmoid` of a projection of
    the query before the output projection. `use_causal_mask` and
    `return_attention_scores` are call arguments Keras's JSON records on the call.
    """

    type: Literal["GroupQueryAttention"] = "GroupQueryAttention"
    head_dim: PositiveInt
    num_query_heads: PositiveInt
    num_key_value_heads: PositiveInt
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    use_bias: bool = True
    sliding_window: PositiveInt | None = None
    flash_attention: bool | None = None
    use_gate: bool = False
    seed: int | None = None
    use_causal_mask: bool = False
    return_attention_scores: bool = False

    @field_validator("activity_regularizer")
    @classmethod
    def _no_activity_regularizer(cls, value: Any) -> Any:
        if value is not None:
            raise PydanticCustomError(
                "unsupported_option",
                "activity_regularizer is not supported on GroupQueryAttention (Keras "
                "penalises each of its projections' outputs); add an "
                "ActivityRegularization layer after it instead",
            )
        return value

    @model_validator(mode="after")
    def _heads_and_flash(self) -> GroupQueryAttention:
        if self.num_query_heads % self.num_key_value_heads:
            raise PydanticCustomError(
                "query_heads",
                "num_query_heads ({query}) must be a multiple of num_key_value_heads "
                "({kv}): each key/value head serves the same number of query heads",
                {"query": self.num_query_heads, "kv": self.num_key_value_heads},
            )
        if self.flash_attention and self.dropout > 0:
            raise PydanticCustomError(
                "flash_dropout",
                "flash_attention=True does not allow dropout (as in Keras); set dropout=0 "
                "or leave flash_attention unset",
            )
        if self.flash_attention and self.return_attention_scores:
            raise PydanticCustomError(
                "flash_scores",
                "flash_attention=True cannot return attention scores (as in Keras); leave "
                "flash_attention unset",
            )
        return self
