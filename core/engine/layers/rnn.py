"""Keras's recurrent layers: SimpleRNN, LSTM, GRU, and RNN with cells (the wrappers are
in `wrappers.py`).

Weights are stored in torch's layout (`weight_ih` (gates·units, features), `weight_hh`
(gates·units, units), gates in torch's order) so that the usual case runs torch's fused
kernels (`torch.lstm`, `torch.gru`, `torch.rnn_tanh`: what `nn.LSTM` calls);
`keras_weights()` shows them in Keras's layout. Masks follow Keras: a masked step leaves
the state as it was and repeats the previous output. What the fused kernels cannot
compute (other activations, recurrent dropout, GRU `reset_after=False`) runs a step loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from cornu.core.engine import activations, initializers
from cornu.core.engine.layers.base import (
    LAYERS,
    Layer,
    Mask,
    Shape,
    ShapeError,
    Shapes,
    constrain,
    register,
)
from cornu.core.engine.layers.stateful import CarriedStates
from cornu.core.engine.layers.wrappers import Wrapper
from cornu.core.spec.layers import LAYER_SPECS
from cornu.core.spec.layers import rnn as spec

States = list[Tensor]
# The spec arguments (`<prefix>_initializer`, `_regularizer`, `_constraint`) of each weight.
_ARGUMENT_PREFIX = {"kernel": "kernel", "recurrent_kernel": "recurrent", "bias": "bias"}


# -- layouts: torch's storage and Keras's view of it -------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a weight stored for torch is shown in Keras's layout, and back."""

    to_keras: Callable[[Tensor], Tensor]
    from_keras: Callable[[Tensor], Tensor]


def _transpose(t: Tensor) -> Tensor:
    return t.T


def _swap_reset_update(t: Tensor) -> Tensor:
    """torch's GRU gate blocks r, z, n as Keras's z, r, h on the last axis (and back)."""
    r, z, n = t.chunk(3, -1)
    return torch.cat([z, r, n], -1)


TRANSPOSED = Layout(_transpose, _transpose)
"""Keras's `(in, gates·units)` kernels as torch's `(gates·units, in)`: a view both ways."""
GRU_KERNEL = Layout(
    lambda t: _swap_reset_update(t.T), lambda k: _swap_reset_update(k).T.contiguous()
)
"""GRU kernels: transposed, with the first two gate blocks swapped (a copy, not a view)."""
GRU_BIAS = Layout(_swap_reset_update, _swap_reset_update)
AS_STORED = Layout(lambda t: t, lambda t: t)


def _recurrent_projection(h: Tensor, weight: Tensor, keep: Tensor | None) -> Tensor:
    """`h · weightᵀ`; with recurrent dropout, each gate block sees its own mask of `h`."""
    if keep is None:
        return F.linear(h, weight)
    gates = keep.shape[1]
    masked = h.unsqueeze(1) * keep
    return torch.einsum("ngi,goi->ngo", masked, weight.view(gates, -1, h.shape[-1])).flatten(1)


# -- the recurrent layers -----------------------------------------------------------------


class Recurrent(Layer):
    """What Keras's `RNN` gives SimpleRNN, LSTM and GRU: shapes, masks, dropout, the loops.

    Subclasses declare their weights, set `fused` to torch's kernel when their arguments
    allow it, and give `_step`: one step of the loop, in torch's gate order.
    """

    uses_mask = True
    gates: ClassVar[int]
    state_count: ClassVar[int] = 1
    fused: Callable[..., Any] | None = None
    weight_ih: Tensor
    weight_hh: Tensor
    zero_bias: Tensor

    def __init__(self, s: spec.Recurrent, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.units = s.units
        self.features = input_shape[-1]
        self.activation = activations.get(s.activation)
        self.layouts: dict[str, Layout] = {}
        self.bias: Tensor | None = None
        # Keras draws dropout masks per gate block when it runs its per-gate cell
        # ("implementation 1", forced by recurrent dropout), else one for all gates.
        self.mask_per_gate = s.recurrent_dropout > 0 or getattr(s, "implementation", 2) == 1
        self.carried = CarriedStates(self.state_count, s.name or s.type) if s.stateful else None

    def add_keras_weight(
        self, name: str, keras_shape: tuple[int, ...], layout: Layout, attr: str | None = None
    ) -> Tensor:
        """`add_weight` for a weight stored in torch's layout, drawn in Keras's.

        Its initializer, regularizer and constraint are the spec's `kernel_…`,
        `recurrent_…` or `bias_…` arguments. Drawing in Keras's layout and converting
        gives what Keras gives for initializers that depend on the layout: `orthogonal`
        makes the rows of the Keras `(units, gates·units)` matrix orthonormal.
        """
        argument = _ARGUMENT_PREFIX[name]
        initializer = getattr(self.spec, f"{argument}_initializer")
        values = torch.empty(keras_shape)
        initializers.get(initializer)(values, keras_shape)
        stored = layout.from_keras(values)
        weight = self.add_weight(
            name,
            tuple(stored.shape),
            "zeros",
            regularizer=getattr(self.spec, f"{argument}_regularizer"),
            constraint=getattr(self.spec, f"{argument}_constraint"),
            keras_shape=keras_shape,
            to_keras=layout.to_keras,
            attr=attr,
        )
        with torch.no_grad():
            weight.copy_(stored)
        self.layouts[name] = layout
        return weight

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Constrain in Keras's layout and store back: GRU's Keras view is a copy."""
        for w in self.weights_info:
            if w.constraint is not None:
                stored, layout = getattr(self, w.attr), self.layouts[w.name]
                stored.copy_(layout.from_keras(constrain(w.constraint, layout.to_keras(stored))))

    @classmethod
    def compute_output_shape(cls, s: spec.Recurrent, input_shape: Shapes) -> Shapes:
        if isinstance(input_shape, list) or len(input_shape) != 2:
            raise ShapeError(
                f"{s.type} needs (timesteps, features) inputs, got {input_shape}; add a "
                "Reshape to (timesteps, features) before it, or use Dense for flat inputs"
            )
        output = (input_shape[0], s.units) if s.return_sequences else (s.units,)
        if s.return_state:
            return [output] + [(s.units,)] * cls.state_count
        return output

    def compute_mask(self, inputs: Tensor, mask: Mask) -> Any:
        """The input mask for the sequence output (None for the last output and states)."""
        output_mask = mask if self.spec.return_sequences else None
        if self.spec.return_state:
            return (output_mask,) + (None,) * self.state_count
        return output_mask

    takes_initial_state = True

    def forward(
        self, x: Tensor, mask: Mask = None, initial_state: States | None = None
    ) -> Tensor | tuple[Tensor, ...]:
        """The output (and with `return_state` the final states) for `(batch, steps,
        features)` inputs; `initial_state` (Keras's call argument: `[h]`, or LSTM's
        `[h, c]`, each `(batch, units)`) starts the loop instead of zeros."""
        s = self.spec
        if mask is not None:
            mask = mask.bool()
        if s.go_backwards:  # Keras returns the outputs in the order it computed them
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        start = self._start(x, initial_state)
        recurrent_dropout = self.training and s.recurrent_dropout > 0
        if self.fused is not None and not recurrent_dropout:
            keep = self._dropout_mask(x, s.dropout, self.features, per_gate=False)
            sequence, states = self._run_fused(x if keep is None else x * keep, mask, start)
        else:
            sequence, states = self._run_loop(x, mask, start)
        if self.carried is not None:
            self.carried.store(states)
        output = sequence if s.return_sequences else sequence[:, -1]
        return (output, *states) if s.return_state else output

    def _start(self, x: Tensor, initial_state: States | None) -> States:
        """The states the loop starts from: the given ones, else the carried ones of a
        stateful layer (Keras: `initial_state` wins), else zeros."""
        if initial_state is None:
            zeros = [x.new_zeros(x.shape[0], self.units) for _ in range(self.state_count)]
            return zeros if self.carried is None else self.carried.start(zeros)
        return [state.to(x.dtype) for state in initial_state]

    def _dropout_mask(self, x: Tensor, rate: float, size: int, per_gate: bool) -> Tensor | None:
        """Keras 3's RNN dropout: one mask per sample, the same at every step.

        Shaped `(batch, 1, size)`, or `(batch, gates, size)` with one mask per gate block.
        """
        if not self.training or rate == 0:
            return None
        groups = self.gates if per_gate else 1
        keep = x.new_empty(x.shape[0], groups, size).bernoulli_(1 - rate)
        return keep / (1 - rate)

    # -- fused kernels ---------------------------------------------------------------

    def _kernel(
        self, x: Tensor, batch_sizes: Tensor | None, start: States
    ) -> tuple[Tensor, States]:
        """torch's fused kernel on a padded batch (`batch_sizes` None) or a packed one,
        from the states `start` (`(batch, units)` each, in the batch's order)."""
        assert self.fused is not None
        states = [state.unsqueeze(0).contiguous() for state in start]
        hx = states if self.state_count > 1 else states[0]
        args = (hx, self.kernel_params(), self.spec.use_bias, 1, 0.0, self.training, False)
        if batch_sizes is None:
            result = self.fused(x, *args, True)  # batch_first
        else:
            result = self.fused(x, batch_sizes, *args)
        return result[0], [state[0] for state in result[1:]]

    def add_single_bias(self, size: int) -> None:
        """Keras's one bias. torch's kernels take an input and a recurrent bias: the
        second is a zero buffer, not a weight, so parameter counts stay Keras's."""
        self.bias = self.add_keras_weight("bias", (size,), AS_STORED)
        self.register_buffer("zero_bias", torch.zeros(size), persistent=False)

    def kernel_params(self) -> list[Tensor]:
        """`weight_ih, weight_hh[, bias_ih, bias_hh]` as torch's kernels take them."""
        if self.bias is None:
            return [self.weight_ih, self.weight_hh]
        return [self.weight_ih, self.weight_hh, self.bias, self.zero_bias]

    def _run_fused(self, x: Tensor, mask: Mask, start: States) -> tuple[Tensor, States]:
        """The output sequence (Keras's masked form) and final states, from the kernel.

        With a mask, each sequence's valid steps are gathered to its front (in order) and
        run packed, so masked steps never touch the state: Keras's step skipping, for any
        mask. Each step's output is then the latest valid output at or before it.
        """
        if mask is None:
            return self._kernel(x, None, start)
        steps, lengths = x.shape[1], mask.sum(1)
        order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
        valid_first = x.gather(1, order.unsqueeze(-1).expand_as(x))
        packed = pack_padded_sequence(
            valid_first, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        by_length = packed.sorted_indices
        assert by_length is not None  # set by enforce_sorted=False
        data, states = self._kernel(
            packed.data, packed.batch_sizes, [state.index_select(0, by_length) for state in start]
        )
        compact, _ = pad_packed_sequence(
            PackedSequence(
                data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
            ),
            batch_first=True,
            total_length=steps,
        )
        started = (lengths > 0).unsqueeze(-1)  # a sequence without valid steps keeps its start
        unsorted = packed.unsorted_indices
        assert unsorted is not None  # set by enforce_sorted=False
        states = [
            torch.where(started, state.index_select(0, unsorted), first)
            for state, first in zip(states, start, strict=True)
        ]
        latest = mask.cumsum(1) - 1  # index among the valid steps of the latest one so far
        sequence = compact.gather(1, latest.clamp(min=0).unsqueeze(-1).expand(-1, -1, self.units))
        shown = mask if self.spec.zero_output_for_mask else latest >= 0
        return sequence * shown.unsqueeze(-1), states

    # -- the step loop ---------------------------------------------------------------

    def input_bias(self) -> Tensor | None:
        """The bias added to the input projection (all of it but GRU's recurrent half)."""
        return self.bias

    def _step(self, inputs: Tensor, states: States, keep: Tensor | None) -> tuple[Tensor, States]:
        """One step from the projected inputs `x_t · kernel + bias`: (output, new states)."""
        raise NotImplementedError

    def _run_loop(self, x: Tensor, mask: Mask, start: States) -> tuple[Tensor, States]:
        """Keras's step loop: masked steps keep the states and repeat the last output."""
        s = self.spec
        keep = self._dropout_mask(x, s.dropout, self.features, self.mask_per_gate)
        recurrent_keep = self._dropout_mask(x, s.recurrent_dropout, self.units, self.mask_per_gate)
        if keep is None:
            inputs = F.linear(x, self.weight_ih, self.input_bias())
        else:  # (batch, steps, groups, features) against each group's kernel rows
            masked = x.unsqueeze(2) * keep.unsqueeze(1)
            kernels = self.weight_ih.view(keep.shape[1], -1, self.features)
            inputs = torch.einsum("ntgf,guf->ntgu", masked, kernels).flatten(2)
            bias = self.input_bias()
            inputs = inputs if bias is None else inputs + bias
        if recurrent_keep is not None and recurrent_keep.shape[1] == 1:
            recurrent_keep = recurrent_keep.expand(-1, self.gates, -1)
        batch = x.shape[0]
        states = list(start)
        output = zeros = x.new_zeros(batch, self.units)
        outputs = []
        for t in range(x.shape[1]):
            new_output, new_states = self._step(inputs[:, t], states, recurrent_keep)
            if mask is not None:
                valid = mask[:, t, None]
                new_states = [
                    torch.where(valid, a, b) for a, b in zip(new_states, states, strict=True)
                ]
                skipped = zeros if s.zero_output_for_mask else output
                new_output = torch.where(valid, new_output, skipped)
            output, states = new_output, new_states
            outputs.append(output)
        return torch.stack(outputs, 1), states


@register
class SimpleRNN(Recurrent):
    """`h_t = activation(x_t · kernel + h_{t-1} · recurrent_kernel + bias)`; tanh and relu
    run torch's fused kernels."""

    spec_type = spec.SimpleRNN
    gates = 1

    def __init__(self, s: spec.SimpleRNN, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        units = s.units
        if self.activation is torch.tanh:
            self.fused = torch.rnn_tanh
        elif self.activation is torch.relu:
            self.fused = torch.rnn_relu
        self.weight_ih = self.add_keras_weight(
            "kernel", (self.features, units), TRANSPOSED, "weight_ih"
        )
        self.weight_hh = self.add_keras_weight(
            "recurrent_kernel", (units, units), TRANSPOSED, "weight_hh"
        )
        if s.use_bias:
            self.add_single_bias(units)

    def _step(self, inputs: Tensor, states: States, keep: Tensor | None) -> tuple[Tensor, States]:
        h = self.activation(inputs + _recurrent_projection(states[0], self.weight_hh, keep))
        return h, [h]


@register
class LSTM(Recurrent):
    """Keras's LSTM; its gates i, f, c, o are torch's i, f, g, o, in the same order, so
    Keras's kernels are views of torch's."""

    spec_type = spec.LSTM
    gates = 4
    state_count = 2

    def __init__(self, s: spec.LSTM, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        units = s.units
        self.recurrent_activation = activations.get(s.recurrent_activation)
        if self.activation is torch.tanh and self.recurrent_activation is torch.sigmoid:
            self.fused = torch.lstm
        self.weight_ih = self.add_keras_weight(
            "kernel", (self.features, 4 * units), TRANSPOSED, "weight_ih"
        )
        self.weight_hh = self.add_keras_weight(
            "recurrent_kernel", (units, 4 * units), TRANSPOSED, "weight_hh"
        )
        if s.use_bias:
            self.add_single_bias(4 * units)
            if s.unit_forget_bias:  # Keras: bias_initializer(u), ones(u), bias_initializer(2u)
                init, bias = initializers.get(s.bias_initializer), self.bias
                assert bias is not None
                with torch.no_grad():
                    init(bias[:units], (units,))
                    bias[units : 2 * units].fill_(1.0)
                    init(bias[2 * units :], (2 * units,))

    def _step(self, inputs: Tensor, states: States, keep: Tensor | None) -> tuple[Tensor, States]:
        h, c = states
        z = inputs + _recurrent_projection(h, self.weight_hh, keep)
        i, f, g, o = z.chunk(4, 1)
        gate = self.recurrent_activation
        c = gate(f) * c + gate(i) * self.activation(g)
        h = gate(o) * self.activation(c)
        return h, [h, c]


@register
class GRU(Recurrent):
    """Keras's GRU. Keras packs its gates z, r, h; torch r, z, n: the weights are stored in
    torch's order, so `keras_weights()` gives reordered copies, and constraints are
    applied in Keras's layout and written back (`apply_constraints`).

    `reset_after=True` (Keras's default) is torch's formulation, with Keras's bias
    `(2, 3·units)` as torch's input and recurrent biases; `reset_after=False` applies
    the reset gate before the recurrent product and runs the step loop.
    """

    spec_type = spec.GRU
    gates = 3

    def __init__(self, s: spec.GRU, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        units = s.units
        self.recurrent_activation = activations.get(s.recurrent_activation)
        tanh_sigmoid = self.activation is torch.tanh and self.recurrent_activation is torch.sigmoid
        if tanh_sigmoid and s.reset_after:
            self.fused = torch.gru
        self.weight_ih = self.add_keras_weight(
            "kernel", (self.features, 3 * units), GRU_KERNEL, "weight_ih"
        )
        self.weight_hh = self.add_keras_weight(
            "recurrent_kernel", (units, 3 * units), GRU_KERNEL, "weight_hh"
        )
        if s.use_bias:
            shape = (2, 3 * units) if s.reset_after else (3 * units,)
            self.bias = self.add_keras_weight("bias", shape, GRU_BIAS)

    def kernel_params(self) -> list[Tensor]:
        if self.bias is None:
            return [self.weight_ih, self.weight_hh]
        return [self.weight_ih, self.weight_hh, self.bias[0], self.bias[1]]

    def input_bias(self) -> Tensor | None:
        if self.bias is None or not self.spec.reset_after:
            return self.bias
        return self.bias[0]

    def _step(self, inputs: Tensor, states: States, keep: Tensor | None) -> tuple[Tensor, States]:
        (h,) = states
        u, gate = self.units, self.recurrent_activation
        x_r, x_z, x_n = inputs.chunk(3, 1)
        if self.spec.reset_after:
            recurrent = _recurrent_projection(h, self.weight_hh, keep)
            if self.bias is not None:
                recurrent = recurrent + self.bias[1]
            h_r, h_z, h_n = recurrent.chunk(3, 1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            candidate = self.activation(x_n + r * h_n)
        else:
            gates_keep = None if keep is None else keep[:, :2]
            h_r, h_z = _recurrent_projection(h, self.weight_hh[: 2 * u], gates_keep).chunk(2, 1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            reset = r * (h if keep is None else h * keep[:, 2])
            candidate = self.activation(x_n + F.linear(reset, self.weight_hh[2 * u :]))
        h = z * h + (1 - z) * candidate
        return h, [h]


# -- Keras's RNN layer with cells ---------------------------------------------------------


def _cell_as_layer(rnn: spec.RNN, cell: spec.RecurrentCell, last: bool) -> spec.Recurrent:
    """The recurrent layer's arguments that run `cell` over a whole sequence, returning
    its sequence and states (the RNN picks what it returns); only the last cell zeroes
    masked steps' outputs when the RNN does (`zero_output_for_mask`)."""
    layer_spec = LAYER_SPECS[cell.layer_type]
    fields = type(cell).model_fields
    shared = {k: getattr(cell, k) for k in fields if k in layer_spec.model_fields}
    shared |= {
        "type": cell.layer_type,
        "name": None,
        "trainable": rnn.trainable and cell.trainable,
        "return_sequences": True,
        "return_state": True,
        "stateful": rnn.stateful,
        "zero_output_for_mask": rnn.zero_output_for_mask and last,
    }
    built = layer_spec.model_validate(shared)
    assert isinstance(built, spec.Recurrent)
    return built


@register
class RNN(Wrapper):
    """Keras's `RNN(cell)`: each cell runs as its recurrent layer (`LSTMCell` as LSTM,
    with the same weights, masks and dropout), the cells of a stack one after the other
    on the sequence, which computes what Keras's step-by-step stack computes: a masked
    step leaves every cell's state as it was.

    Weights are Keras's `kernel`, `recurrent_kernel` and `bias` for one cell (the cell's
    name left out, as for LSTM), and `<cell name>/kernel` … for a stack; `go_backwards`
    reverses the sequence once for the whole stack, and the output is in that order.
    """

    spec_type = spec.RNN
    uses_mask = True

    def __init__(self, s: spec.RNN, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        self.cell_names = s.cell_names
        layers: list[Layer] = []
        shape = input_shape
        for i, cell in enumerate(s.cells):
            layer_spec = _cell_as_layer(s, cell, last=i == len(s.cells) - 1)
            layers.append(LAYERS[layer_spec.type](layer_spec, shape))
            shape = (shape[0], cell.units)
        self.cells = nn.ModuleList(layers)

    def wrapped(self) -> list[tuple[str, Layer]]:
        layers: list[Layer] = list(self.cells)  # type: ignore[arg-type]
        if len(layers) == 1 and not isinstance(self.spec.cell, spec.StackedRNNCells):
            return [("", layers[0])]
        return [(f"{name}/", layer) for name, layer in zip(self.cell_names, layers, strict=True)]

    @classmethod
    def compute_output_shape(cls, s: spec.RNN, input_shape: Shapes) -> Shapes:
        if isinstance(input_shape, list) or len(input_shape) != 2:
            raise ShapeError(
                f"RNN needs (timesteps, features) inputs, got {input_shape}; add a Reshape to "
                "(timesteps, features) before it"
            )
        units = s.cells[-1].units
        output = (input_shape[0], units) if s.return_sequences else (units,)
        if not s.return_state:
            return output
        states = [(c.units,) for c in s.cells for _ in range(2 if c.type == "LSTMCell" else 1)]
        return [output, *states]

    def compute_mask(self, inputs: Tensor, mask: Mask) -> Any:
        output_mask = mask if self.spec.return_sequences else None
        if self.spec.return_state:
            return (output_mask,) + (None,) * (len(self.output_shape) - 1)
        return output_mask

    def forward(self, x: Tensor, mask: Mask = None) -> Tensor | tuple[Tensor, ...]:
        s: spec.RNN = self.spec
        if s.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        states: list[Tensor] = []
        for layer in self.cells:
            x, *cell_states = layer(x, mask=mask)
            states += cell_states
        output = x if s.return_sequences else x[:, -1]
        return (output, *states) if s.return_state else output


class _Cell(Layer):
    """A cell alone: Keras runs it one step at a time inside an RNN, never as a layer."""

    @classmethod
    def compute_output_shape(cls, s: Any, input_shape: Shapes) -> Shapes:
        kind = s.type
        layer = "the layers it holds" if kind == "StackedRNNCells" else kind.removesuffix("Cell")
        raise ShapeError(
            f"{kind} is one step of a recurrent layer and cannot be a layer of a model: wrap "
            f"it as RNN({kind}(…)), or use {layer} directly"
        )


for _spec in (spec.SimpleRNNCell, spec.LSTMCell, spec.GRUCell, spec.StackedRNNCells):
    register(type(_spec.__name__, (_Cell,), {"spec_type": _spec, "__module__": __name__}))
