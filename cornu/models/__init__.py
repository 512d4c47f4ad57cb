"""Keras's models, trained by Cornu: `models.Sequential()`, `models.Model(inputs, outputs)`,
`models.load_model(path)`, `models.model_from_json(text)`.

Everything Keras's `Model` offers is here — `compile`, `fit` (with a progress bar fed
live by the service), `evaluate`, `predict`, `summary`, layers and weights, `save` and
`load_weights` in Keras's own file formats — and runs on the service the SDK is
connected to (`cornu.connect`, or `CORNU_URL` / `CORNU_API_KEY`). No torch needed.
"""

from __future__ import annotations

from typing import Any

from cornu.models.model import Model
from cornu.models.sequential import Sequential
from cornu.remote_job import RemoteJob
from cornu.saving import load_model, model_from_json, model_from_spec, save_model


def clone_model(model: Model, **kwargs: Any) -> Model:
    """Keras's `clone_model`: the same architecture with new layers (and new weights)."""
    return model_from_spec(model.model_spec(), fresh_names=True)


__all__ = [
    "Model",
    "RemoteJob",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]
