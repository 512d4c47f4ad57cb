"""Keras's recurrent layers (SimpleRNN, LSTM, GRU) and the wrappers Bidirectional and
TimeDistributed, whose `layer` is another layer's arguments."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, field_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import (
    Constraint,
    Initializer,
    Regularized,
    Regularizer,
    register,
)

Rate = Field(default=0.0, ge=0.0, lt=1.0)


class Recurrent(Regularized):
    """What Keras's `RNN` base gives SimpleRNN, LSTM and GRU (not a layer by itself).

    Accepts every key Keras 3's and tf.keras 2's `get_config()` write: `unroll` and
    `implementation` choose Keras's kernels and change nothing here; `stateful` and
    tf.keras 2's `time_major` are refused when set, since Cornu does neither.
    """

    units: PositiveInt
    activation: str | None = "tanh"
    use_bias: bool = True
    recurrent_initializer: Initializer = "orthogonal"
    recurrent_regularizer: Regularizer = None
    recurrent_constraint: Constraint = None
    dropout: float = Rate
    recurrent_dropout: float = Rate
    seed: int | None = None
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False
    time_major: bool = False

    @classmethod
    def keras_mapped(cls, data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
        """Keras 2.0's `implementation=0`, which Keras 2.1+ reads as 1 (with a warning)."""
        if data.get("implementation") == 0 and "implementation" in cls.model_fields:
            notes.append("implementation=0 is Keras 2.0's; Keras 2.1+ uses 1 in its place")
            data["implementation"] = 1
        return data

    @field_validator("stateful")
    @classmethod
    def _not_stateful(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError(
                "stateful",
                "stateful=True is not supported: Cornu shuffles and batches the data itself, "
                "so no state carries from one batch to the next; use stateful=False",
            )
        return value

    @field_validator("time_major")
    @classmethod
    def _batch_major(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError(
                "time_major",
                "time_major=True is not supported: sequences are (batch, timesteps, features) "
                "as in Keras 3; use time_major=False",
            )
        return value


@register
class SimpleRNN(Recurrent):
    """`h_t = activation(x_t · kernel + h_{t-1} · recurrent_kernel + bias)`."""

    type: Literal["SimpleRNN"] = "SimpleRNN"


@register
class LSTM(Recurrent):
    """Long short-term memory; `unit_forget_bias` starts the forget gate's bias at 1."""

    type: Literal["LSTM"] = "LSTM"
    recurrent_activation: str | None = "sigmoid"
    unit_forget_bias: bool = True
    implementation: Literal[1, 2] = 2
    use_cudnn: Literal["auto"] | bool = "auto"


@register
class GRU(Recurrent):
    """Gated recurrent unit; `reset_after=True` (Keras's default) is torch's formulation."""

    type: Literal["GRU"] = "GRU"
    recurrent_activation: str | None = "sigmoid"
    reset_after: bool = True
    implementation: Literal[1, 2] = 2
    use_cudnn: Literal["auto"] | bool = "auto"
