"""Keras's losses as objects (`losses.BinaryCrossentropy(from_logits=True)`) and as
functions (`losses.binary_crossentropy`, Keras 2's `losses.mse`), given to `compile`.
The names are the service's (`cornu.core.spec.losses`), checked against the same
argument models when the model is compiled."""

from __future__ import annotations

from cornu.core.spec.losses import LOSS_SPECS, loss_names
from cornu.objects import family, functions, missing

_CLASSES = family(dict.fromkeys(LOSS_SPECS, ()), __name__)
globals().update(_CLASSES)

# Keras 3's function forms, and the short names Keras 2 also exported (`mse`, `kld`, …).
FUNCTIONS = functions(tuple(loss_names()), "loss")
globals().update(FUNCTIONS)


def get(identifier: object) -> object:
    """Keras's `losses.get`: a name or object as compile takes it."""
    return FUNCTIONS.get(identifier, identifier) if isinstance(identifier, str) else identifier


__getattr__ = missing("loss", [*_CLASSES, *FUNCTIONS])


__all__ = list(_CLASSES)
