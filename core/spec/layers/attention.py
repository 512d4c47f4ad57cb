"""Keras's attention layers: MultiHeadAttention."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import Regularized, register


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
