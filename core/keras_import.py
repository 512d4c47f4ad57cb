"""A Keras model file taken in: a model trained on a laptop continues on the service.

`POST /v1/models/import` reads a `.keras` archive or a legacy `.h5` file (Keras 3's or
tf.keras 2's) without Keras and without running anything it holds (`core.spec.keras_files`
refuses Lambda layers, custom classes and non-numeric data, and bounds every size), and
gives back the native model spec, its compile arguments, and its weights stored as the
tenant's datasets, one per weight, under Keras's names: the `fit.initial_weights` of a job
that fine-tunes it.
"""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

import numpy as np

from cornu.core.config import Settings
from cornu.core.datasets import upload_dataset
from cornu.core.engine.summary import summarize
from cornu.core.spec import ImportedModel, keras_files
from cornu.core.store import Store


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def import_keras_file(
    store: Store, tenant: str, file: BinaryIO, settings: Settings
) -> ImportedModel:
    """The model in `file` (a seekable `.keras` or `.h5`; told apart by its first bytes),
    with its weights uploaded as datasets.

    Raises SpecError for a file that is neither format, a model Cornu cannot train (the
    layer and the reason) or weights that are not exactly the model's; PayloadTooLarge
    past `settings.max_upload_bytes`.
    """
    limits = keras_files.Limits(max_file_bytes=settings.max_upload_bytes)
    kind = "keras" if zipfile.is_zipfile(file) else "h5"
    file.seek(0)
    loaded = keras_files.load_model(file, format=kind, limits=limits)
    summary = summarize(loaded.model)  # the model as it will train: shapes and warnings
    weights: dict[str, str] = {}
    for name, array in loaded.weights.items():
        data = npy_bytes(np.ascontiguousarray(array, dtype=np.float32))
        dataset, _ = upload_dataset(store, tenant, [data], settings.max_upload_bytes)
        weights[name] = dataset.id
    return ImportedModel(
        format=kind,
        model=loaded.model,
        compile=loaded.compile,
        initial_weights=weights,
        summary=summary,
    )
