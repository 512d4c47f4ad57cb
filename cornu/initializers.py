"""Keras's initializers: `initializers.HeNormal()`, `initializers.RandomNormal(stddev=0.01)`,
or by name (`kernel_initializer="he_normal"`); the service draws the values."""

from __future__ import annotations

from typing import Any

from cornu.objects import family, missing

_POSITIONAL: dict[str, tuple[str, ...]] = {
    "Constant": ("value",),
    "RandomNormal": ("mean", "stddev", "seed"),
    "RandomUniform": ("minval", "maxval", "seed"),
    "TruncatedNormal": ("mean", "stddev", "seed"),
    "VarianceScaling": ("scale", "mode", "distribution", "seed"),
    "Orthogonal": ("gain", "seed"),
    "Identity": ("gain",),
    **dict.fromkeys(
        (
            "GlorotUniform",
            "GlorotNormal",
            "HeUniform",
            "HeNormal",
            "LecunUniform",
            "LecunNormal",
        ),
        ("seed",),
    ),
    "Zeros": (),
    "Ones": (),
}
_CLASSES = family(_POSITIONAL, __name__)
globals().update(_CLASSES)
# Keras's lower-case aliases of the classes (`initializers.he_normal()`).
_ALIASES = {
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
    "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform",
    "truncated_normal": "TruncatedNormal",
    "variance_scaling": "VarianceScaling",
    "orthogonal": "Orthogonal",
    "identity": "Identity",
    "constant": "Constant",
    "zeros": "Zeros",
    "ones": "Ones",
}
globals().update({alias: _CLASSES[name] for alias, name in _ALIASES.items()})
OrthogonalInitializer = _CLASSES["Orthogonal"]
IdentityInitializer = _CLASSES["Identity"]


def get(identifier: Any) -> Any:
    """Keras's `initializers.get`: an object, or a name as a layer takes it."""
    return identifier


__getattr__ = missing("initializer", [*_CLASSES, *_ALIASES])

__all__ = ["get", *_CLASSES, *_ALIASES]
