"""Cornu's Python SDK: Keras's API, trained on a Cornu service. No torch needed.

    import cornu as keras                       # instead of `import keras`
    from cornu import layers, models, optimizers

    model = models.Sequential()
    model.add(layers.Dense(32, activation="relu", input_shape=(784,)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=optimizers.RMSprop(lr=0.001), loss="mse", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=128, epochs=10)  # runs on the service

Where it runs: `cornu.connect(url, api_key)`, or `CORNU_URL` and `CORNU_API_KEY` (or
the key file `cornu up` writes). `cornu.Client` is the HTTP contract itself.
"""

from __future__ import annotations

from cornu import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    regularizers,
    saving,
    utils,
)
from cornu.callbacks import History
from cornu.client import Client
from cornu.connection import connect
from cornu.core.errors import (
    Conflict,
    CornuError,
    DataError,
    Forbidden,
    InUse,
    InvalidDataset,
    JobFailed,
    NonFiniteLoss,
    NotFound,
    NotSupported,
    PayloadTooLarge,
    ServiceUnavailable,
    SpecError,
    Unauthorized,
)
from cornu.layers import Input, KerasTensor, Layer
from cornu.models import Model, RemoteJob, Sequential
from cornu.optimizers import Optimizer
from cornu.utils import PyDataset

__version__ = "3.15.1"  # the Keras whose API the SDK follows (programs print keras.__version__)

__all__ = [
    "Client",
    "Conflict",
    "CornuError",
    "DataError",
    "History",
    "InUse",
    "Input",
    "InvalidDataset",
    "JobFailed",
    "KerasTensor",
    "Layer",
    "Model",
    "NonFiniteLoss",
    "NotFound",
    "NotSupported",
    "Optimizer",
    "PayloadTooLarge",
    "PyDataset",
    "RemoteJob",
    "Sequential",
    "ServiceUnavailable",
    "SpecError",
    "Unauthorized",
    "Forbidden",
    "activations",
    "backend",
    "callbacks",
    "config",
    "connect",
    "constraints",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "regularizers",
    "saving",
    "utils",
]
