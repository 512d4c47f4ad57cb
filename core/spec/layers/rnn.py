"""Keras's recurrent layers (SimpleRNN, LSTM, GRU), and its RNN layer with cells
(SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells). The wrappers Bidirectional and
TimeDistributed are in `wrappers.py`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, PositiveInt, field_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import (
    Constraint,
    Initializer,
    LayerSpec,
    Regularized,
    Regularizer,
    keras_object,
    register,
)
from cornu.core.spec.names import fresh_name, snake_case

Rate = Field(default=0.0, ge=0.0, lt=1.0)


class RecurrentStep(Regularized):
    """The arguments of a recurrent step (not a layer by itself): its activation, its
    recurrent kernel's initializer, regularizer and constraint, and the dropouts — what
    SimpleRNN, LSTM and GRU, their cells, and the ConvLSTMs share."""

    activation: str | None = "tanh"
    use_bias: bool = True
    recurrent_initializer: Initializer = "orthogonal"
    recurrent_regularizer: Regularizer = None
    recurrent_constraint: Constraint = None
    dropout: float = Rate
    recurrent_dropout: float = Rate
    seed: int | None = None


class OverSequences(BaseModel):
    """What Keras's `RNN` base takes to run a step over a sequence. `unroll` chooses
    Keras's kernels and changes nothing here; `stateful=True` carries the states from
    one batch to the next (`core.engine.layers.stateful`), with the model's fixed batch
    size (`core.engine.plan` checks the batches)."""

    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False


class Recurrent(RecurrentStep, OverSequences):
    """What Keras's `RNN` base gives SimpleRNN, LSTM and GRU (not a layer by itself).

    Accepts every key Keras 3's and tf.keras 2's `get_config()` write: `implementation`
    chooses Keras's kernels and changes nothing here; tf.keras 2's `time_major` is
    refused when set.
    """

    units: PositiveInt
    time_major: bool = False

    @classmethod
    def keras_mapped(cls, data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
        """Keras 2.0's `implementation=0`, which Keras 2.1+ reads as 1 (with a warning)."""
        if data.get("implementation") == 0 and "implementation" in cls.model_fields:
            notes.append("implementation=0 is Keras 2.0's; Keras 2.1+ uses 1 in its place")
            data["implementation"] = 1
        return data

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


# -- Keras's RNN layer with cells: RNN(LSTMCell(…)), RNN([cell, cell]), StackedRNNCells -----

_CELL_RUNTIME_KEYS = ("dtype", "autocast", "build_config")


def _cell_arguments(value: Any) -> Any:
    """A cell as Keras nests it (`{"class_name": "LSTMCell", "config": {…}}`) or flat,
    without the keys that describe Keras's runtime (`dtype`)."""
    data = keras_object(value)
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k not in _CELL_RUNTIME_KEYS}
    return data


class RecurrentCell(RecurrentStep):
    """A cell's arguments: one step of SimpleRNN, LSTM or GRU, for Keras's `RNN` layer
    (not a layer by itself). `activity_regularizer` is refused: Keras would apply it to
    the cell's output at every step."""

    units: PositiveInt

    @field_validator("activity_regularizer")
    @classmethod
    def _no_activity_regularizer(cls, value: Any) -> Any:
        if value is not None:
            raise PydanticCustomError(
                "unsupported_option",
                "a recurrent cell's activity_regularizer is not supported; add an "
                "ActivityRegularization layer after the RNN instead",
            )
        return value

    @property
    def layer_type(self) -> str:
        """The recurrent layer that runs this cell over a sequence (`LSTMCell` → LSTM)."""
        return self.type.removesuffix("Cell")


@register
class SimpleRNNCell(RecurrentCell):
    """SimpleRNN's step, for `RNN(SimpleRNNCell(units))`."""

    type: Literal["SimpleRNNCell"] = "SimpleRNNCell"


@register
class LSTMCell(RecurrentCell):
    """LSTM's step, for `RNN(LSTMCell(units))`."""

    type: Literal["LSTMCell"] = "LSTMCell"
    recurrent_activation: str | None = "sigmoid"
    unit_forget_bias: bool = True
    implementation: Literal[1, 2] = 2


@register
class GRUCell(RecurrentCell):
    """GRU's step, for `RNN(GRUCell(units))`."""

    type: Literal["GRUCell"] = "GRUCell"
    recurrent_activation: str | None = "sigmoid"
    reset_after: bool = True
    implementation: Literal[1, 2] = 2


AnyCell = Annotated[
    SimpleRNNCell | LSTMCell | GRUCell,
    Field(discriminator="type"),
    BeforeValidator(_cell_arguments),
]


@register
class StackedRNNCells(LayerSpec):
    """Cells run one after the other at each step, for `RNN(StackedRNNCells([…]))`: each
    cell's output is the next one's input; the last one's is the output."""

    type: Literal["StackedRNNCells"] = "StackedRNNCells"
    cells: list[AnyCell] = Field(min_length=1)


def _rnn_cell(value: Any) -> Any:
    """`cell` as Keras takes it: one cell, a list of cells (a StackedRNNCells), or a
    StackedRNNCells, each flat or as Keras nests it."""
    if isinstance(value, list | tuple):
        return {"type": "StackedRNNCells", "cells": list(value)}
    data = keras_object(value)
    if isinstance(data, dict) and data.get("type") == "StackedRNNCells":
        return {k: v for k, v in data.items() if k not in _CELL_RUNTIME_KEYS}
    return value


@register
class RNN(LayerSpec):
    """Keras's `RNN` layer: a cell (SimpleRNNCell, LSTMCell, GRUCell) or a stack of them
    run over the steps of `(timesteps, features)` sequences. `RNN(LSTMCell(n))` computes
    what `LSTM(n)` computes; older code and tf.keras 2's JSON use this form.

    `return_sequences`, `return_state`, `go_backwards` and `zero_output_for_mask` are
    the recurrent layers'; with `return_state` the states of every cell follow the
    output, in the cells' order. `unroll` changes nothing here; `stateful` carries each
    cell's states as LSTM's; tf.keras 2's `time_major` is refused when set, as for LSTM.
    """

    type: Literal["RNN"] = "RNN"
    cell: Annotated[AnyCell | StackedRNNCells, BeforeValidator(_rnn_cell)]
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False
    time_major: bool = False

    _batch_major = field_validator("time_major")(Recurrent._batch_major.__func__)  # type: ignore[attr-defined]

    @property
    def cells(self) -> list[RecurrentCell]:
        """The cells in the order they run."""
        return list(self.cell.cells) if isinstance(self.cell, StackedRNNCells) else [self.cell]

    @property
    def cell_names(self) -> list[str]:
        """Each cell's Keras name: its own, else Keras's default (`lstm_cell`), numbered
        within the stack when repeated (`lstm_cell_1`)."""
        taken: set[str] = set()
        return [fresh_name(cell.name or snake_case(cell.type), taken, 1) for cell in self.cells]
