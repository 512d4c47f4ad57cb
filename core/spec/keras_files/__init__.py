"""Keras's own model files, written and read without Keras (numpy and h5py only).

| format | Keras 3.15 | write | read |
|---|---|---|---|
| `.keras` | `model.save("m.keras")`, `keras.models.load_model` | `write_keras` | `read_keras` |
| `.h5` | `model.save("m.h5")` (legacy; also tf.keras 2's) | `write_h5` | `read_h5` |
| `.weights.h5` | `model.save_weights` / `model.load_weights` | `write_weights` | `read_weights` |

`save_model` / `load_model` choose by the file name's suffix. A model is Cornu's native
spec (validated, or as data), its weights `{"<layer>/<weight>": array}` in Keras's layouts
and `get_weights()` order (what `Model.keras_weights()` gives and the service's weights
file holds), its compile arguments CompileSpec data. Reading gives the same three back
(`KerasModel`); a `.weights.h5` file needs the model to name its weights. Writing a
functional model also needs `shapes`, each layer's output shape by name as its summary
lists them (`{row.name: row.output_shape for row in summary.layers}`), which Keras's JSON
records.

Nothing a file holds is ever run or unpickled: Lambda layers, custom classes and
non-numeric data are refused with the reason, and every size read is capped (`Limits`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from cornu.core.errors import SpecError
from cornu.core.spec.keras_config import Shapes
from cornu.core.spec.keras_files.archive import (
    read_archive_weights,
    read_keras,
    read_weights_store,
    write_keras,
    write_weights,
)
from cornu.core.spec.keras_files.common import File, KerasModel, check_size, validated
from cornu.core.spec.keras_files.layout import model_layout, weight_names
from cornu.core.spec.keras_files.legacy import read_h5, read_weights_group, write_h5
from cornu.core.spec.keras_files.safety import Limits

__all__ = [
    "File",
    "KerasModel",
    "Limits",
    "load_model",
    "model_layout",
    "read_h5",
    "read_keras",
    "read_weights",
    "save_model",
    "weight_names",
    "write_h5",
    "write_keras",
    "write_weights",
]


def read_weights(file: File, model: Any, *, limits: Limits | None = None) -> dict[str, np.ndarray]:
    """A weights file's weights for `model`, in its `get_weights()` order: Keras 3's
    `.weights.h5` or `.keras`, or a legacy `.h5` (`save_weights("m.h5")`, or a whole
    model's file). Found by the model's structure, as Keras's `load_weights` does."""
    import h5py

    limits = limits or Limits()
    check_size(file, limits)
    spec = validated(model)
    if zipfile.is_zipfile(file):
        if not isinstance(file, str | os.PathLike):
            file.seek(0)
        return read_archive_weights(file, spec, limits)
    try:
        h5 = h5py.File(file, "r")
    except OSError as exc:
        raise SpecError(f"the file is not an HDF5 file: {exc}") from None
    with h5:
        legacy = "layer_names" in h5.attrs or "model_weights" in h5
        if legacy:
            group = h5["model_weights"] if "model_weights" in h5 else h5
            return read_weights_group(group, spec, limits)
    if not isinstance(file, str | os.PathLike):
        file.seek(0)
    return read_weights_store(file, spec, limits)


def _format(file: File, format: str | None) -> str:
    if format is not None:
        return format
    name = os.fspath(file) if isinstance(file, str | os.PathLike) else ""
    for suffix in (".weights.h5", ".keras", ".h5", ".hdf5"):
        if name.endswith(suffix):
            return {".hdf5": "h5"}.get(suffix, suffix.lstrip("."))
    raise SpecError(
        f"cannot tell the format of {name or 'a file object'!r}: name it .keras, .h5 or "
        ".weights.h5, or give format='keras', 'h5' or 'weights.h5'"
    )


def save_model(
    file: File,
    model: Any,
    weights: Mapping[str, Any],
    *,
    compile: Any = None,
    shapes: Shapes | None = None,
    format: str | None = None,
) -> None:
    """`write_keras`, `write_h5` or `write_weights`, by `format` or the file's suffix."""
    kind = _format(file, format)
    if kind == "weights.h5":
        write_weights(file, model, weights, compile=compile)
    elif kind == "h5":
        write_h5(file, model, weights, compile=compile, shapes=shapes)
    else:
        write_keras(file, model, weights, compile=compile, shapes=shapes)


def load_model(
    file: File, *, format: str | None = None, limits: Limits | None = None
) -> KerasModel:
    """`read_keras` or `read_h5`, by `format` or the file's suffix."""
    kind = _format(file, format)
    if kind == "weights.h5":
        raise SpecError("a .weights.h5 file holds no model; read it with read_weights(file, model)")
    return read_h5(file, limits=limits) if kind == "h5" else read_keras(file, limits=limits)
