"""Building a model from its spec: each layer made for the shapes it is given, wired as
the spec says, with Keras's names. On the `meta` device this allocates nothing: it is how
a spec is checked — every layer's shapes, every name, the parameter count — before
anything is queued, with the code that later builds the real model. Inputs whose shape
has dimensions of unknown size (None) are built at the data's sizes, or at
`UNKNOWN_SIZES` where no data gives one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cornu.core.engine.layers import LAYERS, Layer, Shape, ShapeError, Shapes
from cornu.core.engine.layers.base import UNKNOWN_SIZES
from cornu.core.engine.layers.embedding import ReversibleEmbedding
from cornu.core.engine.model import GraphNode, Model, Slot
from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec import FunctionalSpec, LayerSpec, ModelSpec, SequentialSpec
from cornu.core.spec.keras_config import keras_layer_order
from cornu.core.spec.model import Node, split_ref
from cornu.core.spec.names import layer_names


def fits(given: Sequence[int | None], declared: Sequence[int | None]) -> bool:
    """Whether samples of shape `given` fit an input declared `declared` (None: any size)."""
    return len(given) == len(declared) and all(
        d is None or d == g for g, d in zip(given, declared, strict=True)
    )


def rank_adjusted(
    given: Sequence[int | None], declared: Sequence[int | None]
) -> tuple[int | None, ...]:
    """`given` as Keras 3 feeds it to a model declared `declared`: a trailing axis of 1
    dropped when the data has one axis more, one added when it has one fewer and the
    input ends in 1 (keras/src/models/functional.py, `_adjust_input_rank`)."""
    if len(given) == len(declared) + 1 and given[-1] == 1:
        return tuple(given[:-1])
    if len(given) == len(declared) - 1 and declared and declared[-1] == 1:
        return (*given, 1)
    return tuple(given)


def fits_keras(given: Sequence[int | None], declared: Sequence[int | None]) -> bool:
    """`fits`, after Keras's rank adjustment (`rank_adjusted`)."""
    return fits(rank_adjusted(given, declared), declared)


def _fmt(shape: Shapes) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt(s) for s in shape) + "]"
    return "(" + ", ".join(["batch", *map(str, shape)]) + ")"


def _make(layer_spec: LayerSpec, shape: Shapes, where: str, loc: tuple[str | int, ...]) -> Layer:
    try:
        return LAYERS[layer_spec.type](layer_spec, shape)
    except ShapeError as exc:
        raise SpecError(f"{where}: input {_fmt(shape)}: {exc}", loc=loc) from None
    except SpecError as exc:
        raise SpecError([ErrorItem(loc, f"{where}: {e.msg}") for e in exc.errors]) from None
    except (TypeError, ValueError, OverflowError, RuntimeError) as exc:
        # torch refusing the sizes the arguments ask for (a dimension past 2**63, …)
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise SpecError(
            f"{where}: cannot be built on input {_fmt(shape)} with these arguments ({detail})",
            loc=loc,
        ) from None


def build_model(
    spec: ModelSpec,
    input_shapes: Sequence[Sequence[int | None] | None] | None = None,
    *,
    device: str | torch.device = "cpu",
    unknown: int = UNKNOWN_SIZES[0],
) -> Model:
    """Build `spec`; `input_shapes` (one sample's, per input: the data's) fill what the
    spec leaves open — a Sequential's missing input shape, dimensions of unknown size
    (None) — and those the data does not give take the size `unknown`.

    Raises SpecError naming the layer (index, name, type) and both shapes when a layer
    cannot take what it is given. `device="meta"` allocates no memory.
    """
    with torch.device(device):
        if isinstance(spec, SequentialSpec):
            return _sequential(spec, input_shapes, unknown)
        return _functional(spec, input_shapes, unknown)


def resolve_shape(
    declared: Sequence[int | None] | None, given: Sequence[int | None] | None, unknown: int
) -> Shape | None:
    """An input's shape for building: the data's where it fits what is declared (None
    matches any size), else the declared one with `unknown` for each None."""
    if declared is None:
        return None if given is None else tuple(unknown if d is None else d for d in given)
    if given is not None and fits_keras(given, declared):
        given = rank_adjusted(given, declared)
        return tuple(unknown if g is None else g for g in given)
    return tuple(unknown if d is None else d for d in declared)


def _sequential(
    spec: SequentialSpec, input_shapes: Sequence[Sequence[int | None] | None] | None, unknown: int
) -> Model:
    layer_specs = spec.stack
    offset = len(spec.layers) - len(layer_specs)  # a leading Input entry
    names = layer_names(layer_specs)
    shape = resolve_shape(spec.input_shape, input_shapes[0] if input_shapes else None, unknown)
    if shape is None:
        raise SpecError(
            "the first layer gives no input_shape and there is no data to take it from; "
            "add input_shape (one sample's shape, e.g. [784]) to the first layer",
            loc=("model", "layers", 0),
        )
    if not layer_specs:
        raise SpecError("the model has an Input but no layers", loc=("model", "layers"))
    input_shape: Shape = tuple(shape)
    built: list[Layer] = []
    nodes = [GraphNode("input_layer", None, source=0)]
    current: Shapes = input_shape
    for index, (layer_spec, name) in enumerate(zip(layer_specs, names, strict=True)):
        where = f"layer {index + offset} {name!r} ({layer_spec.type})"
        loc = ("model", "layers", index + offset)
        # A later layer's input_shape is ignored, as Keras ignores it (the spec notes it).
        layer = _make(layer_spec, current, where, loc)
        if layer.multiple_inputs:
            raise SpecError(f"{where}: takes several inputs; use a functional model", loc=loc)
        built.append(layer)
        nodes.append(GraphNode(name, index, (Slot(len(nodes) - 1),)))
        current = layer.output_shape
        if isinstance(current, list):  # several outputs: a Sequential passes the first on
            current = current[0]
    model = Model(
        built,
        names,
        nodes,
        ["input_layer"],
        [input_shape],
        [Slot(len(nodes) - 1)],
        [names[-1]],
        functional=False,
    )
    model.declared_shapes = [spec.input_shape or input_shape]
    return model


def _functional(
    spec: FunctionalSpec, input_shapes: Sequence[Sequence[int | None] | None] | None, unknown: int
) -> Model:
    data = list(input_shapes or [])
    resolved = [
        resolve_shape(i.shape, data[n] if n < len(data) else None, unknown)
        for n, i in enumerate(spec.inputs)
    ]
    nodes = [GraphNode(i.name, None, source=n) for n, i in enumerate(spec.inputs)]
    slot_of: dict[str, int] = {i.name: n for n, i in enumerate(spec.inputs)}
    layer_index: dict[str, int] = {}
    built: list[Layer] = []
    names: list[str] = []
    for index in spec.order():
        node_spec = spec.layers[index]
        loc = ("model", "layers", index)
        slots = tuple(_slot(ref, slot_of) for ref in node_spec.inputs)
        shapes = [_slot_shape(s, nodes, built, resolved) for s in slots]
        if node_spec.layer is not None:
            layer_spec = node_spec.layer
            where = f"layer {index} {node_spec.name!r} ({layer_spec.type})"
            takes_list = LAYERS[layer_spec.type].multiple_inputs
            layer = _make(layer_spec, shapes if takes_list else shapes[0], where, loc)
            if not layer.multiple_inputs and len(slots) > 1:
                _check_initial_state(layer, shapes, where, loc)
            layer_index[node_spec.name] = len(built)
            built.append(layer)
            names.append(node_spec.name)
            position = layer_index[node_spec.name]
        else:
            assert node_spec.call is not None
            position = layer_index[node_spec.call]
            layer = built[position]
            where = f"layer {index} {node_spec.name!r}"
            if not layer.multiple_inputs and len(slots) > 1:
                _check_initial_state(layer, shapes, where, loc)
            given: Shapes = shapes if layer.multiple_inputs else shapes[0]
            if given != layer.input_shape and not isinstance(layer, ReversibleEmbedding):
                raise SpecError(
                    f"{where} calls {node_spec.call!r} on "
                    f"{_fmt(given)}, but that layer was built for {_fmt(layer.input_shape)}",
                    loc=loc,
                )
        kwargs, shape = _call_of(layer, node_spec, shapes, where, loc)
        slot_of[node_spec.name] = len(nodes)
        nodes.append(GraphNode(node_spec.name, position, slots, kwargs=kwargs, output_shape=shape))
    outputs = [_slot(ref, slot_of) for ref in spec.outputs]
    for number, slot in enumerate(outputs):  # `b:7` must name an output `b` has
        try:
            _slot_shape(slot, nodes, built, resolved)
        except SpecError as exc:
            raise exc.at("model", "outputs", number) from None
    model = Model(
        built,
        names,
        nodes,
        [i.name for i in spec.inputs],
        [s for s in resolved if s is not None],
        outputs,
        spec.output_names(),
        functional=True,
        keras_order=[name for name in keras_layer_order(spec) if name in layer_index],
    )
    model.declared_shapes = [tuple(i.shape) for i in spec.inputs]
    return model


def _call_of(
    layer: Layer, node: Node, shapes: list[Shape], where: str, loc: tuple[str | int, ...]
) -> tuple[dict[str, Any], Shapes | None]:
    """A call's keyword arguments and, where they make it differ from the layer's first
    call, its output shape. Each call of a ReversibleEmbedding has its own: forwards on
    ids `(…)` → `(…, output_dim)`, or in reverse (`reverse=True`) on hidden states
    `(…, output_dim)` → `(…, input_dim)`; its first call's is the layer's (the summary's)."""
    if not isinstance(layer, ReversibleEmbedding):
        return {}, None
    if not node.reverse:
        return {}, type(layer).compute_output_shape(layer.spec, shapes[0])
    try:
        shape = layer.reverse_output_shape(shapes[0])
    except ShapeError as exc:
        raise SpecError(
            f"{where} (reverse=true): input {_fmt(shapes[0])}: {exc}", loc=loc
        ) from None
    if node.layer is not None:  # its first call
        layer.output_shape = shape
    return {"reverse": True}, shape


def _check_initial_state(
    layer: Layer, shapes: list[Shapes], where: str, loc: tuple[str | int, ...]
) -> None:
    """A layer called on several tensors that takes one: a recurrent layer's sequence and
    its `initial_state` (Keras's call argument), one `(units,)` tensor per state."""
    count = getattr(layer, "state_count", 0) if getattr(layer, "takes_initial_state", False) else 0
    if not count:
        raise SpecError(f"{where}: takes one input, got {len(shapes)}", loc=loc)
    units = getattr(layer, "units")  # noqa: B009  (every recurrent layer has it)
    wanted = [(units,)] * count
    if [tuple(s) for s in shapes[1:]] != wanted:
        raise SpecError(
            f"{where}: takes its sequence and, as initial_state, {count} state(s) of shape "
            f"{_fmt((units,))}; got {', '.join(_fmt(s) for s in shapes)}",
            loc=loc,
        )


def _slot(ref: str, slot_of: dict[str, int]) -> Slot:
    name, index = split_ref(ref)
    return Slot(slot_of[name], index)


def _slot_shape(
    slot: Slot, nodes: list[GraphNode], built: list[Layer], inputs: list[Shape | None]
) -> Shape:
    node = nodes[slot.node]
    if node.layer is None:
        if slot.index:
            raise SpecError(
                f"input {node.name!r} has one tensor; '{node.name}:{slot.index}' does not exist"
            )
        shape = inputs[node.source]
        assert shape is not None, "a functional input always declares its shape"
        return shape
    shape = node.output_shape or built[node.layer].output_shape
    if isinstance(shape, list):
        if slot.index >= len(shape):
            raise SpecError(
                f"layer {node.name!r} has {len(shape)} outputs; "
                f"'{node.name}:{slot.index}' does not exist"
            )
        return tuple(shape[slot.index])
    if slot.index:
        raise SpecError(
            f"layer {node.name!r} has one output; '{node.name}:{slot.index}' does not exist"
        )
    return tuple(shape)


def check_known_weights(first: Model, second: Model) -> None:
    """Refuse a model whose weights' shapes follow a dimension of unknown size (Keras:
    "the last dimension of the inputs to a Dense layer should be defined"): `first` and
    `second` are it built with each of `UNKNOWN_SIZES` for those dimensions."""
    for name, a, b in zip(first.names, first.stack, second.stack, strict=True):
        shapes_a = {k: tuple(v.shape) for k, v in a.keras_weights().items()}
        shapes_b = {k: tuple(v.shape) for k, v in b.keras_weights().items()}
        if shapes_a != shapes_b:
            raise SpecError(
                f"layer {name!r} ({a.spec.type}): its weights depend on a dimension of "
                f"unknown size (None) in the model's input (input {_fmt(a.input_shape)} "
                f"when that dimension is {UNKNOWN_SIZES[0]} long): give that dimension a "
                "size, or pool it away before this layer (e.g. GlobalAveragePooling1D "
                "instead of Flatten)",
                ("model",),
            )
