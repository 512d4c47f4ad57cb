"""Keras's losses as objects (`losses.BinaryCrossentropy(from_logits=True)`); a loss may
also be given by name in `compile(loss="mse")`."""

from __future__ import annotations

from cornu.objects import family, missing

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


__getattr__ = missing("loss", _CLASSES)


__all__ = list(_CLASSES)
