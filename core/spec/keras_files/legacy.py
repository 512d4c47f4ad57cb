"""The legacy HDF5 format: what Keras 3's `model.save("m.h5")` writes
(`keras/src/legacy/saving/legacy_h5_format.py`), and what tf.keras 2 wrote.

```
attrs: keras_version, backend, model_config (JSON), training_config (JSON, if compiled)
model_weights/                      attrs: layer_names (every layer of model.layers),
                                           backend, keras_version
model_weights/<layer>/              attrs: weight_names (variable paths)
model_weights/<layer>/<path>        one dataset per weight, at its variable path
model_weights/top_level_model_weights   attrs: weight_names = []
```
`model_config` is the model's JSON in Keras's legacy form: its layers without `module`,
`registered_name` and `build_config`, a Sequential's `build_input_shape` in its config;
`training_config` the compile config without `optimizer`, objects without `module`, and
`optimizer_config: {"class_name", "config"}`. A layer's `weight_names` list its trainable
weights, then the others (`_legacy_weights`); Keras loads them by position: layers with
weights in `model.layers` order against `layer_names`, weights in `weight_names` order.
This reader finds each layer's group by its name, so tf.keras 2's files (`dense/kernel:0`)
read the same way. Cornu writes no `optimizer_weights` (Keras then starts the optimizer
afresh, without a warning).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cornu.core.errors import SpecError
from cornu.core.spec import registry
from cornu.core.spec.keras_config import KERAS_VERSION, Shapes, compile_config
from cornu.core.spec.keras_config import to_keras as model_config
from cornu.core.spec.keras_files.common import (
    File,
    KerasModel,
    Spec,
    check_size,
    compile_from_config,
    compile_spec,
    model_from_config,
    validated,
)
from cornu.core.spec.keras_files.layout import LayerLayout, model_layout
from cornu.core.spec.keras_files.safety import (
    Budget,
    Limits,
    h5_array,
    h5_group,
    h5_names,
    h5_text,
    parse_json,
)
from cornu.core.spec.keras_files.store import checked_weights
from cornu.core.spec.model import SequentialSpec

BACKEND = "torch"  # what Cornu's engine runs on; Keras reads the attribute and ignores it
_NOT_LEGACY = ("module", "registered_name", "build_config")  # a layer's keys it leaves out
_HEADER_LIMIT = 64512  # HDF5's object header: larger attributes are split in chunks
# Loss aliases that Keras 3.15 cannot load back from a legacy `.h5` (even from its own:
# `losses.deserialize` looks "mse" up as `keras.metrics.mse`): written by their full name.
_LOSS_NAMES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "huber_loss": "huber",
    "logcosh": "log_cosh",
    "kld": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
}


def _legacy_object(obj: Any) -> Any:
    """A Keras object as the legacy form writes it at the top: without `module` and
    `registered_name` (nested objects keep theirs)."""
    if isinstance(obj, dict) and "class_name" in obj:
        return {"class_name": obj["class_name"], "config": obj.get("config")}
    if isinstance(obj, list):
        return [_legacy_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _legacy_object(v) for k, v in obj.items()}
    return obj


def legacy_model_config(config: dict[str, Any]) -> dict[str, Any]:
    """`to_keras`'s JSON in the legacy form (`saving_options.use_legacy_config`).

    A layer's `class_name` is its Python class's name there (legacy `serialization.py`
    `get_registered_name`), not the name Keras exports it under: GroupedQueryAttention,
    not GroupQueryAttention, which Keras's legacy loader does not know.
    """
    layers = [
        {
            **{k: v for k, v in layer.items() if k not in _NOT_LEGACY},
            "class_name": registry.layer_class(layer["class_name"]) or layer["class_name"],
        }
        for layer in config["config"]["layers"]
    ]
    return {"class_name": config["class_name"], "config": {**config["config"], "layers": layers}}


def exported_class_names(config: Any) -> Any:
    """A legacy `model_config` with each layer's Python class name as the name Keras
    exports the class under (GroupedQueryAttention → GroupQueryAttention): the names
    the model's JSON uses, which `legacy_model_config` turned into class names."""
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(inner, dict) or not isinstance(layers, list):
        return config
    exported = {registry.layer_class(n): n for n in registry.keras_layer_names()}
    exported.update({n: n for n in registry.keras_layer_names()})  # a class's own name
    renamed = [
        {**layer, "class_name": exported.get(layer["class_name"], layer["class_name"])}
        if isinstance(layer, dict) and isinstance(layer.get("class_name"), str)
        else layer
        for layer in layers
    ]
    return {**config, "config": {**inner, "layers": renamed}}


def training_config(compiled: Any) -> dict[str, Any]:
    """The compile config as `saving_utils.model_metadata` writes it."""
    config = compile_config(compiled)
    optimizer = config.pop("optimizer")
    config["loss"] = full_loss_names(config["loss"])
    out = {k: _legacy_object(v) for k, v in config.items()}
    out["optimizer_config"] = {"class_name": optimizer["class_name"], "config": optimizer["config"]}
    return out


def full_loss_names(loss: Any) -> Any:
    """Loss names (one, a list or a map by output) with Keras's aliases spelled out."""
    if isinstance(loss, str):
        return _LOSS_NAMES.get(loss, loss)
    if isinstance(loss, list):
        return [full_loss_names(v) for v in loss]
    if isinstance(loss, dict) and "class_name" not in loss:
        return {k: full_loss_names(v) for k, v in loss.items()}
    return loss


def _names_attribute(group: Any, name: str, values: Sequence[str]) -> None:
    """`save_attributes_to_hdf5_group`: split into `name0`, `name1` … past the header size."""
    data = [v.encode("utf8") for v in values]
    array = np.asarray(data)
    chunks = 1
    while any(c.nbytes > _HEADER_LIMIT for c in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
        return
    for i, chunk in enumerate(np.array_split(array, chunks)):
        group.attrs[f"{name}{i}"] = chunk


def _write_weights_group(
    group: Any,
    layouts: Sequence[LayerLayout],
    arrays: Mapping[str, np.ndarray],
    prefix: tuple[str, ...],
) -> None:
    """`save_weights_to_hdf5_group`: layer groups created in name order, as Keras does."""
    _names_attribute(group, "layer_names", [layout.name for layout in layouts])
    group.attrs["backend"] = BACKEND.encode("utf8")
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for layout in sorted(layouts, key=lambda layout: layout.name):
        layer_group = group.create_group(layout.name)
        paths = [layout.legacy_path(w, prefix) for w in layout.legacy_order]
        _names_attribute(layer_group, "weight_names", paths)
        for path, weight in zip(paths, layout.legacy_order, strict=True):
            layer_group.create_dataset(path, data=layout.keras_value(weight, arrays[weight]))
    _names_attribute(group.create_group("top_level_model_weights"), "weight_names", [])


def write_h5(
    file: File,
    model: Any,
    weights: Mapping[str, Any],
    *,
    compile: Any = None,
    shapes: Shapes | None = None,
) -> None:
    """Save a model as Keras 3's `model.save("m.h5")` does (arguments as `write_keras`)."""
    import h5py

    spec = validated(model)
    config = model_config(spec, shapes)
    layouts = model_layout(spec)
    arrays = checked_weights(layouts, weights)
    compiled = compile_spec(compile)
    prefix = (config["config"]["name"],) if isinstance(spec, SequentialSpec) else ()
    with h5py.File(file, "w") as h5:
        h5.attrs["keras_version"] = KERAS_VERSION
        h5.attrs["backend"] = BACKEND
        h5.attrs["model_config"] = json.dumps(legacy_model_config(config)).encode("utf8")
        if compiled is not None:
            h5.attrs["training_config"] = json.dumps(training_config(compiled)).encode("utf8")
        _write_weights_group(h5.create_group("model_weights"), layouts, arrays, prefix)


def read_weights_group(group: Any, spec: Spec, limits: Limits) -> dict[str, np.ndarray]:
    """Every weight of `spec` from a legacy weights group (`model_weights`, or the root of
    a tf.keras 2 `save_weights("m.h5")` file), matched to the model by layer name."""
    budget = Budget(limits)
    saved = set(h5_names(group, "layer_names", limits))
    found: dict[str, np.ndarray] = {}
    for layout in model_layout(spec):
        expected = layout.legacy_order
        if not expected:
            continue
        if layout.name not in saved:
            raise SpecError(f"layer {layout.name!r}: the file holds no weights for it")
        layer_group = h5_group(group, layout.name)
        paths = h5_names(layer_group, "weight_names", limits)
        if len(paths) != len(expected):
            raise SpecError(
                f"layer {layout.name!r}: the file holds {len(paths)} weights for it, the model "
                f"has {len(expected)} ({', '.join(w.partition('/')[2] for w in expected)})"
            )
        for path, weight in zip(paths, expected, strict=True):
            found[weight] = h5_array(layer_group, path, budget)
    return {w: found[w] for layout in model_layout(spec) for w in layout.weights}


def read_h5(file: File, *, limits: Limits | None = None) -> KerasModel:
    """A legacy `.h5` model (Keras 3's or tf.keras 2's) as Cornu's spec, compile data and
    weights. Raises SpecError for what Cornu cannot run, PayloadTooLarge past `limits`."""
    import h5py

    limits = limits or Limits()
    check_size(file, limits)
    try:
        h5 = h5py.File(file, "r")
    except OSError as exc:
        raise SpecError(f"the file is not an HDF5 file: {exc}") from None
    with h5:
        text = h5_text(h5, "model_config", limits)
        if text is None:
            raise SpecError(
                "the .h5 file holds weights only (no model_config); read it with a model"
            )
        config = exported_class_names(parse_json(text, "model_config"))
        model, spec = model_from_config(config, "model_config")
        training = h5_text(h5, "training_config", limits)
        compiled = None
        if training is not None:
            compiled = compile_from_config(
                parse_json(training, "training_config"), spec, "training_config"
            )
        group = h5_group(h5, "model_weights") if "model_weights" in h5 else h5
        weights = read_weights_group(group, spec, limits)
    return KerasModel(model, compiled, weights)
