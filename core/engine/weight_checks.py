"""`fit.initial_weights` against the model they are for: Keras's weights (by Keras's
names and layouts) or another job's state, checked shape for shape before queueing."""

from __future__ import annotations

from collections.abc import Mapping

from cornu.core.engine.layers import Shape
from cornu.core.engine.layers.base import format_shape
from cornu.core.engine.plan import Plan
from cornu.core.errors import SpecError


def _first_three(problems: list[str]) -> str:
    more = len(problems) - 3
    return "; ".join(problems[:3]) + (f"; and {more} more" if more > 0 else "")


def check_keras_weights(plan: Plan, shapes: Mapping[str, Shape]) -> None:
    """`fit.initial_weights` given as Keras's weights (`{"dense/kernel": shape}`), in
    Keras's layouts: all of a layer's weights or none of them (a layer left out starts
    from new weights, as a layer added to a trained Keras model does); nothing else."""
    ours = plan.keras_shapes
    given_layers = {k.split("/", 1)[0] for k in shapes}
    problems = [
        f"{k!r} is {format_shape(ours[k])} here but {format_shape(shapes[k])} in what you gave"
        for k in ours
        if k in shapes and tuple(shapes[k]) != ours[k] and not _scalar(ours[k], shapes[k])
    ]
    problems += [
        f"{k!r} is missing" for k in ours if k not in shapes and k.split("/", 1)[0] in given_layers
    ]
    problems += [f"{k!r} is not a weight of this model" for k in shapes if k not in ours]
    if problems:
        raise SpecError(
            f"initial_weights do not fit this model ({_first_three(problems)}); its weights are "
            f"{', '.join(f'{k} {format_shape(v)}' for k, v in list(ours.items())[:6])}"
            f"{' …' if len(ours) > 6 else ''} (Keras's names and layouts)",
            ("fit", "initial_weights"),
        )


def _scalar(ours: Shape, given: Shape) -> bool:
    """A scalar weight given as a dataset: one element on its (required) first axis."""
    return tuple(ours) == () and tuple(given) == (1,)


def check_initial_weights(plan: Plan, job_id: str, shapes: Mapping[str, Shape]) -> None:
    """`fit.initial_weights`: the weights `job_id` trained (`shapes`, its state_dict's)
    must be those of this model, name for name and shape for shape."""

    def weight(key: str) -> str:  # "layers.2.kernel" → "layer 'dense_1' (index 2): kernel"
        parts = key.split(".", 2)
        if len(parts) < 3 or parts[0] != "layers" or not parts[1].isdigit():
            return repr(key)
        index = int(parts[1])
        return f"layer {plan.layer_names[index]!r} (index {index}): {parts[2]}"

    ours = plan.state_shapes
    problems = [
        f"{weight(k)} is {format_shape(ours[k])} here but {format_shape(shapes[k])} in that job"
        for k in ours
        if k in shapes and tuple(shapes[k]) != ours[k] and not _scalar(ours[k], shapes[k])
    ]
    problems += [f"{weight(k)} is not in that job" for k in ours if k not in shapes]
    extra = sum(k not in ours for k in shapes)
    if extra:
        problems.append(f"that job has {extra} weight{'s' * (extra > 1)} this model lacks")
    if problems:
        raise SpecError(
            f"this model's weights differ from those job {job_id} trained "
            f"({_first_three(problems)}); "
            "initial_weights needs the same layers with the same shapes — "
            "leave it out to train from newly initialised weights",
            ("fit", "initial_weights"),
        )
