"""Keras 3's `.keras` archive and `.weights.h5` file, as `keras/src/saving/saving_lib.py`
writes and reads them.

A `.keras` file is a zip of three stored (uncompressed) members, in this order:
`metadata.json` (`{"keras_version", "date_saved"}`), `config.json` (the model's JSON,
with its `compile_config` when compiled, see `keras_config`) and `model.weights.h5`
(`store.py`'s layout). `model.save_weights("m.weights.h5")` writes that HDF5 file alone.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from cornu.core.errors import SpecError
from cornu.core.spec.keras_config import KERAS_VERSION, Shapes, compile_config, snake_case
from cornu.core.spec.keras_config import to_keras as model_config
from cornu.core.spec.keras_files.common import (
    File,
    KerasModel,
    compile_from_config,
    compile_spec,
    model_from_config,
    optimizer_state,
    validated,
)
from cornu.core.spec.keras_files.layout import model_layout
from cornu.core.spec.keras_files.lookup import read_lookup_state, write_lookup_state
from cornu.core.spec.keras_files.safety import Budget, Limits, parse_json, zip_member
from cornu.core.spec.keras_files.store import checked_weights, read_store, write_store

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"


def _weights_file(spec: Any, weights: Mapping[str, Any], compile: Any, model_name: str) -> bytes:
    """The `model.weights.h5` bytes of a model (with its fresh optimizer when compiled)."""
    import h5py

    layouts = model_layout(spec)
    arrays = checked_weights(layouts, weights)
    compiled = compile_spec(compile)
    optimizer = None
    if compiled is not None:
        name = snake_case(compiled.optimizer.type)
        optimizer = (name, optimizer_state(compiled, layouts, arrays))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        write_store(h5, layouts, arrays, model_name, optimizer)
        write_lookup_state(h5, spec, layouts)
    return buffer.getvalue()


def write_keras(
    file: File,
    model: Any,
    weights: Mapping[str, Any],
    *,
    compile: Any = None,
    shapes: Shapes | None = None,
) -> None:
    """Save a model as Keras 3's `model.save("m.keras")` does.

    `model` is a native model spec (or its data), `weights` `{"<layer>/<weight>": array}`
    in Keras's layouts (`Model.keras_weights()`), `compile` CompileSpec data or None,
    `shapes` each layer's output shape by name (needed for a functional model). Raises
    SpecError when the spec is invalid or the weights are not exactly the model's.
    """
    spec = validated(model)
    config = model_config(spec, shapes)
    compiled = compile_spec(compile)
    if compiled is not None:
        config["compile_config"] = compile_config(compiled)
    data = _weights_file(spec, weights, compiled, config["config"]["name"])
    saved = datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(
            METADATA, json.dumps({"keras_version": KERAS_VERSION, "date_saved": saved})
        )
        archive.writestr(CONFIG, json.dumps(config))
        archive.writestr(WEIGHTS, data)


def write_weights(
    file: File, model: Any, weights: Mapping[str, Any], *, compile: Any = None
) -> None:
    """Save weights as Keras 3's `model.save_weights("m.weights.h5")` does (with a fresh
    optimizer's variables when `compile` is given, as a compiled model's file holds)."""
    spec = validated(model)
    name = spec.name or ("sequential" if spec.type == "sequential" else "functional")
    data = _weights_file(spec, weights, compile, name)
    if isinstance(file, str | os.PathLike):
        with open(file, "wb") as out:
            out.write(data)
    else:
        file.write(data)


def _config_order(config: dict[str, Any]) -> list[str]:
    """The names of `model.layers` in the order of the file's config (the order in which
    Keras numbered their groups when it saved them): Keras operations that are not layers
    (a mask's `NotEqual`) and a Sequential's InputLayer are not among them."""
    names = []
    sequential = config.get("class_name") == "Sequential"
    for obj in (config.get("config") or {}).get("layers") or []:
        if str(obj.get("module") or "").startswith("keras.src.ops"):
            continue
        if sequential and obj.get("class_name") == "InputLayer":
            continue
        names.append(str(obj.get("name") or (obj.get("config") or {}).get("name")))
    return names


def read_keras(file: File, *, limits: Limits | None = None) -> KerasModel:
    """A `.keras` file (any Keras 3's) as Cornu's model spec, compile data and weights.

    Raises SpecError for what is not a Keras model Cornu can run (Lambda layers, custom
    classes, unsupported layers …) and PayloadTooLarge past `limits`.
    """
    import h5py

    limits = limits or Limits()
    with _archive(file, limits) as archive:
        config = parse_json(zip_member(archive, CONFIG, limits.max_config_bytes, limits), CONFIG)
        model, spec = model_from_config(config, CONFIG)
        compiled = compile_from_config(config.get("compile_config"), spec, CONFIG)
        data = _weights_member(archive, limits)
        layouts = model_layout(spec, _config_order(config))
        try:
            with h5py.File(io.BytesIO(data), "r") as h5:
                budget = Budget(limits)
                weights = read_store(h5, layouts, budget)
                if read_lookup_state(model, spec, layouts, archive, h5, budget):
                    validated(model)  # the vocabularies an adapted IntegerLookup saved
        except OSError as exc:
            raise SpecError(f"{WEIGHTS} is not a readable HDF5 file: {exc}") from None
    return KerasModel(model, compiled, weights)


def _archive(file: File, limits: Limits) -> zipfile.ZipFile:
    """The `.keras` zip archive, of at most `limits.max_zip_members` members."""
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        raise SpecError("the file is not a .keras archive (not a zip file)") from None
    if len(archive.infolist()) > limits.max_zip_members:
        archive.close()
        raise SpecError(f"the archive has more than {limits.max_zip_members} members")
    return archive


def _weights_member(archive: zipfile.ZipFile, limits: Limits) -> bytes:
    names = archive.namelist()
    if WEIGHTS not in names:
        other = "; weights saved as .npz are not supported" if "model.weights.npz" in names else ""
        raise SpecError(f"the archive has no {WEIGHTS}{other}")
    return zip_member(archive, WEIGHTS, limits.max_file_bytes, limits)


def read_archive_weights(file: File, model: Any, limits: Limits) -> dict[str, np.ndarray]:
    """A `.keras` file's weights for `model` — found by its structure, not by the names
    of the model in the file, as Keras's `load_weights` finds them."""
    with _archive(file, limits) as archive:
        data = _weights_member(archive, limits)
    try:
        return read_weights_store(io.BytesIO(data), model, limits)
    except OSError as exc:
        raise SpecError(f"{WEIGHTS} is not a readable HDF5 file: {exc}") from None


def read_weights_store(file: File, model: Any, limits: Limits) -> dict[str, np.ndarray]:
    """A `.weights.h5` file's weights for `model`, found where Keras would load them."""
    import h5py

    spec = validated(model)
    with h5py.File(file, "r") as h5:
        return read_store(h5, model_layout(spec), Budget(limits))
