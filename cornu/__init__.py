"""Cornu's Python SDK: Keras's API, trained on a Cornu service. No torch needed.

    from cornu import models, layers, optimizers

    model = models.Sequential()
    model.add(layers.Dense(32, activation="relu", input_shape=(784,)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=optimizers.RMSprop(lr=0.001), loss="mse", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=128, epochs=10)  # runs on the service

Where it runs: `cornu.connect(url, api_key)`, or `CORNU_URL` and `CORNU_API_KEY` (or
the key file `cornu up` writes). `cornu.Client` is the HTTP contract itself.
"""

from __future__ import annotations

from cornu import callbacks, datasets, layers, losses, metrics, models, optimizers
from cornu.client import Client
from cornu.connection import connect
from cornu.core.errors import (
    Conflict,
    CornuError,
    DataError,
    InvalidDataset,
    JobFailed,
    NonFiniteLoss,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    SpecError,
    Unauthorized,
)
from cornu.layers import Input
from cornu.training import History, RemoteJob

__all__ = [
    "Client",
    "Conflict",
    "CornuError",
    "DataError",
    "History",
    "Input",
    "InvalidDataset",
    "JobFailed",
    "NonFiniteLoss",
    "NotFound",
    "PayloadTooLarge",
    "RemoteJob",
    "ServiceUnavailable",
    "SpecError",
    "Unauthorized",
    "callbacks",
    "connect",
    "datasets",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
]
