"""Keras's serialized objects: `{"module", "class_name", "config", "registered_name"}`, and
the initializers, regularizers and constraints of a layer in that form.

What Keras 3.15 writes for each (`keras/src/initializers/*.py`, `regularizers.py`,
`constraints.py` `get_config`): an initializer named by a string is written as its class
with the full default config, as `keras.initializers.serialize(keras.initializers.get(name))`
gives it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from cornu.core.spec.layers import KerasObject
from cornu.core.spec.layers.base import ConstraintSpec, RegularizerSpec

Json = dict[str, Any]

_VARIANCE: Json = {"seed": None, "input_axes": None, "output_axes": None}
_VARIANCE_SCALING: Json = {"seed": None, "scale": 1.0, "mode": "fan_in"}
_VARIANCE_SCALING |= {"distribution": "truncated_normal", "input_axes": None, "output_axes": None}
_NORMAL: Json = {"seed": None, "mean": 0.0, "stddev": 0.05}
_UNIFORM: Json = {"seed": None, "minval": -0.05, "maxval": 0.05}
# Keras 3's initializer classes with the config each writes by default, keyed by the
# name without underscores in lower case (Keras accepts `"glorot_uniform"` and `"GlorotUniform"`).
_INITIALIZERS: dict[str, tuple[str, Json]] = {
    "glorotuniform": ("GlorotUniform", _VARIANCE),
    "glorotnormal": ("GlorotNormal", _VARIANCE),
    "heuniform": ("HeUniform", _VARIANCE),
    "henormal": ("HeNormal", _VARIANCE),
    "lecununiform": ("LecunUniform", _VARIANCE),
    "lecunnormal": ("LecunNormal", _VARIANCE),
    "variancescaling": ("VarianceScaling", _VARIANCE_SCALING),
    "zeros": ("Zeros", {}),
    "ones": ("Ones", {}),
    "constant": ("Constant", {"value": 0.0}),
    "randomnormal": ("RandomNormal", _NORMAL),
    "normal": ("RandomNormal", _NORMAL),
    "randomuniform": ("RandomUniform", _UNIFORM),
    "uniform": ("RandomUniform", _UNIFORM),
    "truncatednormal": ("TruncatedNormal", _NORMAL),
    "orthogonal": ("Orthogonal", {"seed": None, "gain": 1.0}),
    "identity": ("Identity", {}),
}
_REGULARIZERS = {"l1": ("L1", ("l1",)), "l2": ("L2", ("l2",)), "l1_l2": ("L1L2", ("l1", "l2"))}
_CONSTRAINTS = {
    "max_norm": ("MaxNorm", ("max_value", "axis")),
    "non_neg": ("NonNeg", ()),
    "unit_norm": ("UnitNorm", ("axis",)),
    "min_max_norm": ("MinMaxNorm", ("min_value", "max_value", "rate", "axis")),
}


def keras_object(module: str, class_name: str, config: Json) -> Json:
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def plain(value: Any) -> Any:
    """Tuples as lists, pydantic models as their fields: what `json.dumps` writes."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    return value


def initializer(value: str | KerasObject) -> Json:
    """`"glorot_uniform"` or `{"type": "RandomNormal", …}` as Keras serializes it."""
    name, args = (value, {}) if isinstance(value, str) else (value.type, value.args)
    found = _INITIALIZERS.get(name.replace("_", "").lower())
    if found is None:
        return keras_object("keras.initializers", name, plain(args))
    class_name, defaults = found
    return keras_object("keras.initializers", class_name, {**defaults, **plain(args)})


def regularizer(value: RegularizerSpec | None) -> Json | None:
    """`L1`, `L2` or `L1L2` with its factors."""
    if value is None:
        return None
    class_name, keys = _REGULARIZERS[value.type]
    return keras_object("keras.regularizers", class_name, {k: getattr(value, k) for k in keys})


def constraint(value: ConstraintSpec | None) -> Json | None:
    """`MaxNorm`, `NonNeg`, `UnitNorm` or `MinMaxNorm` with the arguments each writes."""
    if value is None:
        return None
    class_name, keys = _CONSTRAINTS[value.type]
    config = {k: plain(getattr(value, k)) for k in keys}
    return keras_object("keras.constraints", class_name, config)
