"""Keras's losses as objects (`losses.BinaryCrossentropy(from_logits=True)`) and as
functions (`losses.binary_crossentropy`, Keras 2's `losses.mse`), given to `compile`."""

from __future__ import annotations

from cornu.objects import family, functions, missing

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

# Keras 3's function forms, and the short names Keras 2 also exported.
FUNCTIONS = functions(
    (
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "cosine_similarity",
        "huber",
        "log_cosh",
        "kl_divergence",
        "poisson",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "binary_crossentropy",
        "binary_focal_crossentropy",
        "categorical_crossentropy",
        "categorical_focal_crossentropy",
        "sparse_categorical_crossentropy",
        "ctc",
        "dice",
        "tversky",
        "mse",
        "mae",
        "mape",
        "msle",
        "kld",
        "logcosh",
    ),
    "loss",
)
FUNCTIONS["kullback_leibler_divergence"] = FUNCTIONS["kl_divergence"]
globals().update(FUNCTIONS)


def get(identifier: object) -> object:
    """Keras's `losses.get`: a name or object as compile takes it."""
    return FUNCTIONS.get(identifier, identifier) if isinstance(identifier, str) else identifier


__getattr__ = missing("loss", [*_CLASSES, *FUNCTIONS])


__all__ = list(_CLASSES)
