"""Keras's model files, made and read by the SDK: `model.save("m.keras")` / `.h5`,
`save_weights("m.weights.h5")`, `load_weights`, `models.load_model`,
`models.model_from_json` — in Keras 3's own formats, which Keras itself loads.

The files are written from the model's spec, its weights as the service trained them
(Keras's names, layouts and order), and its compile arguments, by the same code the
service uses for Keras's formats (`cornu.core.spec.keras_files`); nothing in a file is
ever run or unpickled. A model read from a file gets SDK layers holding its weights, so
it predicts, trains on and saves again like any other.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from cornu.core.spec import FunctionalSpec, ModelSpec, keras_files, spec_error
from cornu.core.spec.keras_config import to_keras
from cornu.core.spec.model import split_ref
from cornu.layers import Input, KerasTensor, Layer, layer_class

if TYPE_CHECKING:
    from cornu.models import Model

_MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)


def _shapes(model: Model) -> dict[str, Any]:
    """Each layer's output shape by name (the service's summary), for Keras's configs."""
    summary = model._summary()
    return {row.name: row.output_shape for row in summary.layers}


def _weights(model: Model) -> dict[str, np.ndarray]:
    """The model's weights `{"<layer>/<weight>": array}` in Keras's order."""
    return {variable.path: variable.numpy() for variable in model.weights}


def keras_json(model: Model) -> dict[str, Any]:
    """The model as Keras 3's `model.to_json()` object."""
    return to_keras(model.model_spec(), _shapes(model))


def save_model(model: Model, filepath: str | Path, overwrite: bool = True, **kwargs: Any) -> None:
    """Keras's `model.save` / `keras.saving.save_model`: `.keras` or `.h5` by suffix."""
    path = _writable(filepath, overwrite)
    if path.name.endswith(".weights.h5"):
        raise ValueError(
            "The filename must end in `.keras` or `.h5` to save a model; use "
            "save_weights for a `.weights.h5` file (Keras)"
        )
    kind = _format(path)
    if kind is None:  # tf.keras 2 wrote TensorFlow's SavedModel here; Keras 3 refuses it
        warnings.warn(
            f"{path} has no .keras or .h5 extension: tf.keras 2 would write TensorFlow's "
            "SavedModel there, which needs TensorFlow; Cornu writes Keras 3's .keras format "
            "(load_model reads it back)",
            stacklevel=3,
        )
        kind = "keras"
    keras_files.save_model(
        path,
        model.model_spec(),
        _weights(model),
        compile=model._compile_now(),
        shapes=_shapes(model),
        format=kind,
    )


def save_weights(model: Model, filepath: str | Path, overwrite: bool = True) -> None:
    """Keras's `save_weights`: `.weights.h5` (or a safetensors file for `.safetensors`)."""
    path = _writable(filepath, overwrite)
    if path.suffix == ".safetensors":
        model.client.download_weights(model._weights_job(), path)
        return
    if "." not in path.name:  # tf.keras 2 wrote a TensorFlow checkpoint here
        warnings.warn(
            f"{path} has no .weights.h5 extension: tf.keras 2 would write a TensorFlow "
            "checkpoint there, which needs TensorFlow; Cornu writes Keras 3's .weights.h5 "
            "format (load_weights reads it back)",
            stacklevel=3,
        )
    elif not path.name.endswith((".weights.h5", ".h5")):
        raise ValueError(
            f"The filename must end in `.weights.h5` to save weights (Keras); got {path.name!r}"
        )
    keras_files.save_model(path, model.model_spec(), _weights(model), format="weights.h5")


def load_weights(model: Model, filepath: str | Path, skip_mismatch: bool = False) -> None:
    """Keras's `load_weights`: the model's layers take the file's weights."""
    path = Path(filepath)
    if not path.exists():
        raise FileNotFoundError(f"no weights file at {path}")
    if path.suffix == ".safetensors":
        import safetensors.numpy

        arrays = safetensors.numpy.load_file(path)
    else:  # .weights.h5, .keras or legacy .h5: by the model's structure, as Keras
        arrays = keras_files.read_weights(path, model.model_spec())
    _give_layers(model._layers(), arrays, strict=not skip_mismatch)


def _give_layers(layers: list[Layer], arrays: dict[str, np.ndarray], *, strict: bool) -> None:
    """Each layer takes the arrays under its name (`dense/kernel` → dense's `kernel`)."""
    taken = set()
    for layer in layers:
        prefix = f"{layer.name}/"
        mine = {
            k.removeprefix(prefix): np.asarray(v) for k, v in arrays.items() if k.startswith(prefix)
        }
        if mine:
            layer._weights = mine
            taken |= {prefix + k for k in mine}
    left = sorted(set(arrays) - taken)
    if left and strict:
        raise ValueError(
            f"the file has weights for layers the model does not have: {', '.join(left[:5])}"
        )


def load_model(filepath: str | Path, custom_objects: Any = None, compile: bool = True,
               safe_mode: bool = True) -> Model:  # fmt: skip
    """Keras's `keras.models.load_model`: a `.keras` or `.h5` file (Keras 3's, or tf.keras
    2's `.h5`) as a model whose layers hold the file's weights, compiled as it was saved."""
    path = Path(filepath)
    if not path.exists():
        raise ValueError(
            f"File not found: filepath={path}. Please ensure the file is an accessible "
            "`.keras` zip file."
        )
    saved = keras_files.load_model(path, format=_format(path) or _sniffed(path))
    model = model_from_spec(saved.model)
    _give_layers(model._layers(), saved.weights, strict=True)
    if compile and saved.compile:
        model._compile = saved.compile
        model._compiled_trainable = {id(layer): layer.trainable for layer in model._layers()}
        from cornu.optimizers import optimizer_object

        model.optimizer = optimizer_object(saved.compile.get("optimizer"))
        model.loss = saved.compile.get("loss")
    return model


def model_from_json(json_string: str | dict[str, Any], custom_objects: Any = None) -> Model:
    """Keras's `model_from_json`: Keras's JSON (Keras 3 or tf.keras 2's `to_json()`) or
    Cornu's own spec, as an SDK model with new layers (and no weights yet)."""
    return model_from_spec(json.loads(json_string) if isinstance(json_string, str) else json_string)


def model_from_spec(model: Any, *, fresh_names: bool = False) -> Model:
    """SDK layers and a model for any accepted model form (native, or Keras's JSON)."""
    from cornu.models import Model, Sequential

    try:
        spec = _MODEL.validate_python(model)
    except ValidationError as exc:
        raise spec_error(exc.errors()) from None
    data = spec.model_dump(mode="json", exclude_unset=True)

    def make(entry: dict[str, Any]) -> Layer:
        entry = dict(entry)
        kind = entry.pop("type")
        if fresh_names:
            entry.pop("name", None)
        return layer_class(kind)(**entry)

    if not isinstance(spec, FunctionalSpec):
        sequential = Sequential(name=None if fresh_names else spec.name)
        for entry in data["layers"]:
            if entry["type"] == "Input":
                sequential.add(Input(shape=entry["shape"]))
            else:
                sequential.add(make(entry))
        return sequential
    tensors: dict[str, list[KerasTensor]] = {}
    inputs = [Input(shape=i["shape"], name=i["name"]) for i in data["inputs"]]
    for spec_input, tensor in zip(data["inputs"], inputs, strict=True):
        tensors[spec_input["name"]] = [tensor]
    made: dict[str, Layer] = {}
    for index in spec.order():
        node = data["layers"][index]
        args = [tensors[name][i] for name, i in map(split_ref, node["inputs"])]
        if node.get("call"):
            layer = made[node["call"]]
        else:
            entry = {**node["layer"], "name": node["name"]}
            layer = made.setdefault(node["name"], make(entry))
        result = layer(args if len(args) > 1 else args[0])
        tensors[node["name"]] = result if isinstance(result, list) else [result]
    outputs = [tensors[name][i] for name, i in map(split_ref, data["outputs"])]
    return Model(inputs, outputs, name=None if fresh_names else spec.name)


def _format(path: Path) -> str | None:
    """The Keras format a file name says (None when it says none)."""
    name = path.name
    for suffix, kind in ((".weights.h5", "weights.h5"), (".keras", "keras"), (".h5", "h5"),
                         (".hdf5", "h5")):  # fmt: skip
        if name.endswith(suffix):
            return kind
    return None


def _sniffed(path: Path) -> str:
    """The format of a file whose name says none, from its first bytes (zip or HDF5)."""
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder: TensorFlow's SavedModel, which needs TensorFlow; save the "
            "model as .keras or .h5 to load it here"
        )
    with path.open("rb") as file:
        head = file.read(8)
    if head.startswith(b"PK"):
        return "keras"
    if head == b"\x89HDF\r\n\x1a\n":
        return "h5"
    raise ValueError(f"{path} is neither a .keras (zip) nor an .h5 (HDF5) file")


def _writable(filepath: str | Path, overwrite: bool) -> Path:
    path = Path(filepath)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite is False")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Any:
    """Keras's decorator for classes of one's own: accepted here, but such a class
    (a layer, loss or model with code of its own) cannot run on the service."""

    def register(cls: Any) -> Any:
        return cls

    return register


__all__ = [
    "load_model",
    "load_weights",
    "model_from_json",
    "register_keras_serializable",
    "save_model",
    "save_weights",
]
