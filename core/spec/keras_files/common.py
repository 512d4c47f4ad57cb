"""What the three formats share: the model and weights a writer is given, and the model
a reader finds in a file's config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from cornu.core.errors import PayloadTooLarge, SpecError
from cornu.core.spec import spec_error
from cornu.core.spec.job import CompileSpec
from cornu.core.spec.keras_config import compile_from_keras, from_keras, layer_names, model_spec
from cornu.core.spec.keras_files.layout import LayerLayout
from cornu.core.spec.keras_files.optimizer import optimizer_variables
from cornu.core.spec.keras_files.safety import Limits, refuse_code
from cornu.core.spec.model import FunctionalSpec, SequentialSpec

File = str | os.PathLike[str] | IO[bytes]
"""A path, or a seekable binary file object (`io.BytesIO`, `open(path, "w+b")`)."""
Spec = SequentialSpec | FunctionalSpec


@dataclass(frozen=True)
class KerasModel:
    """What a Keras model file holds, in Cornu's terms."""

    model: dict[str, Any]
    """The native model spec, as data (what `keras_config.from_keras` gives)."""
    compile: dict[str, Any] | None
    """CompileSpec data, or None for a model saved without compiling."""
    weights: dict[str, np.ndarray]
    """`{"<layer>/<weight>": array}` in Keras's layouts and `get_weights()` order."""


def validated(model: Any) -> Spec:
    """A native spec from any accepted form, or a SpecError saying what is wrong."""
    try:
        return model_spec(model)
    except ValidationError as exc:
        raise spec_error([{**e, "loc": ("model", *e["loc"])} for e in exc.errors()]) from None


def compile_spec(compile: Any) -> CompileSpec | None:
    if compile is None or isinstance(compile, CompileSpec):
        return compile
    try:
        return CompileSpec.model_validate(compile)
    except ValidationError as exc:
        raise spec_error([{**e, "loc": ("compile", *e["loc"])} for e in exc.errors()]) from None


def output_names(spec: Spec) -> list[str]:
    if isinstance(spec, FunctionalSpec):
        return spec.output_names()
    return [layer_names(spec.stack)[-1]]  # Keras names an output after its layer


def model_from_config(config: Any, where: str) -> tuple[dict[str, Any], Spec]:
    """The native spec of a Keras model config, refusing code and custom classes first."""
    if not isinstance(config, dict):
        raise SpecError(f"{where} is not a Keras model config")
    refuse_code(config, where)
    try:
        data = from_keras(config)
    except PydanticCustomError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return data, validated(data)


def compile_from_config(config: Any, spec: Spec, where: str) -> dict[str, Any] | None:
    refuse_code(config, where)
    return compile_from_keras(config, output_names(spec))


def optimizer_state(
    compiled: CompileSpec, layouts: list[LayerLayout], arrays: Mapping[str, np.ndarray]
) -> list[np.ndarray]:
    """The optimizer's variables as Keras builds them for the model's trainable weights."""
    shapes = [arrays[w].shape for layout in layouts for w in layout.trainable]
    return optimizer_variables(compiled.optimizer, shapes)


def file_size(file: File) -> int | None:
    """The size of a file or seekable file object, when it can be told without reading."""
    if isinstance(file, str | os.PathLike):
        return os.path.getsize(file)
    try:
        here = file.tell()
        size = file.seek(0, os.SEEK_END)
        file.seek(here)
        return size
    except (OSError, ValueError):
        return None


def check_size(file: File, limits: Limits) -> None:
    size = file_size(file)
    if size is not None and size > limits.max_file_bytes:
        raise PayloadTooLarge(
            f"the file holds {size} bytes, more than the limit of {limits.max_file_bytes}"
        )
