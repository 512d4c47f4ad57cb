"""Keras's losses as objects (`losses.BinaryCrossentropy(from_logits=True)`); a loss may
also be given by name in `compile(loss="mse")`."""

from __future__ import annotations

from typing import Any

from cornu.objects import family

_CLASSES = family(
    dict.fromkeys(
        (
            "MeanSquaredError",
            "MeanAbsoluteError",
            "MeanAbsolutePercentageError",
            "MeanSquaredLogarithmicError",
            "CosineSimilarity",
            "Huber",
            "LogCosh",
            "KLDivergence",
            "Poisson",
            "Hinge",
            "SquaredHinge",
            "CategoricalHinge",
            "BinaryCrossentropy",
            "BinaryFocalCrossentropy",
            "CategoricalCrossentropy",
            "CategoricalFocalCrossentropy",
            "SparseCategoricalCrossentropy",
            "CTC",
            "Dice",
            "Tversky",
        ),
        (),
    ),
    __name__,
)
globals().update(_CLASSES)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"cornu.losses has no {name!r} (it has {', '.join(_CLASSES)})")


__all__ = list(_CLASSES)
