"""What the Keras-file tests share: models trained on the engine, Keras 3.15 loading and
predicting, HDF5 trees compared as Keras lays them out, and files Keras and tf.keras 2
wrote.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cornu.core.engine.build import build_model
from cornu.core.engine.model import Model
from cornu.core.spec import keras_files as files
from cornu.core.spec.keras_config import model_spec, to_keras
from tests.core.engine.test_keras_weights import trained_looking
from tests.core.spec.keras_zoo import (
    Spec,
    fun,
    inp,
    keras_or_skip,
    node,
    seq,
    shapes_of,
    spec_of,
    without_masks,
    without_pipeline_builds,
)

# Keras 3.15 cannot load a legacy .h5 of a LayerNormalization over several axes, even
# one it saved itself: it builds it over the last axis only.
LEGACY_H5_FAILS_IN_KERAS = {"layer_normalization_axes"}


FORMATS = ["keras", "h5", "weights.h5"]


COMPILE = {"optimizer": {"type": "Adam", "learning_rate": 0.002}, "loss": "mse", "metrics": ["mae"]}


COMPILES = {  # each optimizer's variables are in the files, as Keras builds them
    "mlp": {"optimizer": {"type": "RMSprop", "momentum": 0.5, "centered": True}, "loss": "mse"},
    "convnet": {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
    "embedding_lstm": {"optimizer": {"type": "Nadam"}, "loss": "binary_crossentropy"},
    "gru": {"optimizer": {"type": "SGD", "momentum": 0.9}, "loss": "mae"},
    "bidirectional": {"optimizer": {"type": "Adagrad"}, "loss": "mse"},
    "two_inputs_two_outputs": {
        "optimizer": {"type": "Adam", "amsgrad": True},
        "loss": {"cls": "categorical_crossentropy", "reg": "mse"},
        "loss_weights": {"cls": 1.0, "reg": 0.5},
        "metrics": {"cls": ["accuracy"], "reg": ["mae"]},
    },
    "attention": {"optimizer": {"type": "Adadelta"}, "loss": ["mse", "mae"]},
    "frozen": {"optimizer": {"type": "Adamax"}, "loss": "mse"},
    "conv1d": {  # no learning_rate variable when it follows a schedule
        "optimizer": {
            "type": "Adam",
            "learning_rate": {
                "type": "CosineDecay",
                "initial_learning_rate": 0.1,
                "decay_steps": 9,
            },
        },
        "loss": "mse",
    },
    "masked_functional": {"optimizer": {"type": "AdamW"}, "loss": ["mse", "mse"]},
}


_FROZEN = {"trainable": False}
# Layouts the zoo does not hold: layers holding others (RNN and its cells, wrappers,
# attention) frozen, whose sublayers' variables Keras 3.15 still trains, and a gated
# GroupQueryAttention (its `_gate_dense` is built between key and value).
LAYOUT_CASES: dict[str, dict[str, Any]] = {
    "frozen_containers": seq(
        inp(5, 4),
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3, "return_sequences": True}}
        | _FROZEN,
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 4}} | _FROZEN,
        {"type": "RNN", "cell": {"type": "LSTMCell", "units": 3}, "return_sequences": True}
        | _FROZEN,
        {
            "type": "RNN",
            "cell": [{"type": "LSTMCell", "units": 3} | _FROZEN, {"type": "GRUCell", "units": 2}],
            "return_sequences": True,
        },
        {"type": "Bidirectional", "layer": {"type": "GRU", "units": 3, "return_sequences": True}
         | _FROZEN},
        {"type": "SimpleRNN", "units": 2} | _FROZEN,
        {"type": "Dense", "units": 1, "name": "head"},  # not `dense`, as TimeDistributed's
    ),
    "frozen_conv_lstm": seq(
        inp(2, 5, 5, 1),
        {"type": "ConvLSTM2D", "filters": 2, "kernel_size": 3} | _FROZEN,
        {"type": "Flatten"},
        {"type": "Dense", "units": 1},
    ),
    "frozen_and_gated_attention": fun(
        {"q": [4, 6], "v": [5, 6]},
        node("mha", ["q", "v"], "MultiHeadAttention", num_heads=2, key_dim=3, **_FROZEN),
        node(
            "gated", ["mha", "v"], "GroupQueryAttention", head_dim=2, num_query_heads=4,
            num_key_value_heads=2, use_gate=True, use_bias=False,
        ),
        node(
            "gqa", ["gated", "v"], "GroupQueryAttention", head_dim=3, num_query_heads=2,
            num_key_value_heads=1, **_FROZEN,
        ),
        outputs=["gqa"],
    ),
}  # fmt: skip


def spec_named(name: str) -> Spec:
    """A zoo model's spec, or one of `LAYOUT_CASES`."""
    return model_spec(LAYOUT_CASES[name]) if name in LAYOUT_CASES else spec_of(name)


def trained(name: str) -> tuple[Any, Model, dict[str, np.ndarray]]:
    """A zoo model (or a layout case) in the engine, with trained-looking weights."""
    spec = spec_named(name)
    model = build_model(spec)
    weights = trained_looking(model)
    model.load_keras_weights(weights)
    return spec, model, weights


def save(tmp_path: Path, name: str, kind: str, compile: Any = COMPILE) -> Path:
    spec, model, weights = trained(name)
    path = tmp_path / f"{name}.{kind}"
    files.save_model(path, spec, weights, compile=compile, shapes=shapes_of(spec))
    return path


class Complaints:
    """Everything Keras warns about (warnings and its absl log) while the block runs."""

    def __enter__(self) -> list[str]:
        self.found: list[str] = []
        self.caught = warnings.catch_warnings(record=True)
        self.records = self.caught.__enter__()
        warnings.simplefilter("always")
        self.handler = logging.Handler(logging.WARNING)
        self.handler.emit = lambda record: self.found.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger().addHandler(self.handler)
        return self.found

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.caught.__exit__(*exc)
        self.found += [str(w.message) for w in self.records]
        self.found[:] = [m for m in self.found if not m.startswith(KERAS_OWN)]


KERAS_OWN = (  # what Keras also says when it loads its own files: not about the file
    "__array__ implementation",  # numpy 2, about Keras's torch tensors
    "You passed `rms_scaling=True`",  # LayerNormalization's deprecated argument
    "Compiled the loaded model, but the compiled metrics",  # any legacy .h5 with metrics
    # a Pipeline, which has no `build` method (Keras's own models say it too)
    "`build()` was called on layer",
)


def keras_load(path: Path, kind: str) -> Any:
    keras = keras_or_skip()
    if kind != "weights.h5":
        return keras.models.load_model(path)
    spec = spec_named(path.name.split(".")[0])
    model = keras.models.model_from_json(json.dumps(to_keras(spec, shapes_of(spec))))
    model.load_weights(path)
    return model


def keras_predict(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(y) for y in (out if isinstance(out, list | tuple) else [out])]


def h5_tree(h5: Any) -> dict[str, Any]:
    """Every group (its attributes) and dataset (shape, dtype, values) of an HDF5 file."""
    tree: dict[str, Any] = {"/": _attrs(h5)}

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            tree[name] = (obj.shape, str(obj.dtype), np.asarray(obj[()]).tolist())
        else:
            tree[name] = _attrs(obj)

    h5.visititems(visit)
    return tree


def _attrs(obj: Any) -> dict[str, Any]:
    out = {}
    for key, value in obj.attrs.items():
        value = value.tolist() if isinstance(value, np.ndarray) else value
        out[key] = value.decode() if isinstance(value, bytes) else value
    return out


# Sublayers that Keras creates unnamed, so names `dropout`, `dropout_1` … in the order
# a session creates them: the attention layers' dropout and softmax, RandomColorJitter's
# parts. Cornu writes the names a fresh session gives (`dropout`, `random_hue`).
SESSION_NAMED = re.compile(
    r"/(_dropout_layer|_softmax|random_brightness|random_contrast|random_saturation"
    r"|random_hue)/vars$"
)


def hidden_names(tree: dict[str, Any]) -> dict[str, Any]:
    """Without the numbers Keras's session adds to the names of the sublayers it names
    itself (`dropout_3` is `dropout`, `random_hue_5` is `random_hue`)."""
    return {
        k: (
            {**v, "name": re.sub(r"_\d+$", "", v["name"])}
            if SESSION_NAMED.search(k) and "name" in v
            else v
        )
        for k, v in tree.items()
    }


@dataclass(frozen=True)
class KerasRebuild:
    """How Keras 3.15 rebuilds one zoo model otherwise than its config says: without
    `layer` (group `group` in a `.keras`), its input `input` renamed `clone`."""

    layer: str
    group: str
    input: str
    clone: str

    def config(self, config: dict[str, Any]) -> dict[str, Any]:
        """A functional model's JSON as Keras rebuilds it: the layer left out, what it
        fed taking its input instead, the input renamed."""
        layers = config["config"]["layers"]
        (dropped,) = [layer for layer in layers if layer["name"] == self.layer]
        (node,) = dropped["inbound_nodes"]
        source = node["args"][0]["config"]["keras_history"]
        kept = [layer for layer in layers if layer is not dropped]
        rewired = _replaced(kept, lambda v: source if v == [self.layer, 0, 0] else v)
        out = {**config, "config": {**config["config"], "layers": rewired}}
        return dict(_replaced(out, lambda v: self.clone if v == self.input else v))

    def tree(self, tree: dict[str, Any]) -> dict[str, Any]:
        """An HDF5 tree (`h5_tree`) as Keras saves the rebuilt model: no group for the
        layer (`.keras`: `layers/<class>`, legacy: `model_weights/<name>`), the input
        renamed in attributes and group names."""
        gone = (self.group, f"model_weights/{self.layer}")
        out = {}
        for key, value in tree.items():
            if any(key == g or key.startswith(f"{g}/") for g in gone):
                continue
            parts = [self.clone if p == self.input else p for p in key.split("/")]
            if isinstance(value, dict):
                value = {
                    k: [n for n in v if n != self.layer] if k == "layer_names" else v
                    for k, v in value.items()
                }
                value = _replaced(value, lambda v: self.clone if v == self.input else v)
            out["/".join(parts)] = value
        return out


def _replaced(value: Any, change: Callable[[Any], Any]) -> Any:
    """`value` with `change` applied to every list and string inside it, innermost first."""
    if isinstance(value, dict):
        return {k: _replaced(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return change([_replaced(v, change) for v in value])
    return change(value) if isinstance(value, str) else value


# Keras 3.15 rebuilds a functional model holding Equalization without it: the layer's
# `compute_output_spec` returns its input tensor itself, so the graph runs from the input
# straight to the next layer (a model Keras builds from the same code has no
# Equalization either), and the input is cloned as "imageCLONE" (KERAS_RENAMES_ITS_INPUT
# in tests/core/spec/test_keras_config.py). The files Keras saves again are compared
# with ours as that rebuild has them: everything else must agree.
KERAS_REBUILDS = {
    "equalized": KerasRebuild("equalize", "layers/equalization", "image", "imageCLONE")
}


def as_keras_rebuilds(name: str, tree: dict[str, Any]) -> dict[str, Any]:
    """Our file's tree, with the session's names hidden, as Keras's rebuild has it."""
    rebuild = KERAS_REBUILDS.get(name)
    return hidden_names(rebuild.tree(tree) if rebuild else tree)


# Keras 3.15 cannot save a model as a legacy `.h5` when a layer keeps a list argument
# it was given (RandomZoom's `width_factor`, any `value_range` read from JSON, which has
# no tuples) and returns it from `get_config`: the layer tracks it as a `TrackedList`,
# which holds the layer, and the legacy writer deep-copies the configs ("cannot pickle
# 'module' object"). The layout test asserts that, then saves with `TrackedList`s
# deep-copied as the plain lists they stand for.
KERAS_CANNOT_SAVE_AS_H5 = {"images", "colours", "augmented"}


def copy_tracked_lists_as_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras's `TrackedList`s deep-copied as plain lists, for the rest of the test."""
    from keras.src.utils.tracking import TrackedList

    monkeypatch.setattr(
        TrackedList,
        "__deepcopy__",
        lambda self, memo: copy.deepcopy(list(self), memo),
        raising=False,
    )


# Keras 3.15 cannot save as a legacy `.h5` a compiled model, loaded from a `.keras`, in
# which two cells of different RNN layers have the same name (Cornu names each RNN's
# cells by its own spec: `gru_cell` in `rnn_1` and in `rnn_2`'s stack): their
# optimizer variables (`adam/gru_cell_kernel_momentum`) collide in `optimizer_weights`
# ("name already exists"). The writer has written the model's configs by then.
KERAS_CANNOT_SAVE_ITS_OPTIMIZER_AS_H5 = {"masking_and_cells"}


def comparable(text: bytes | str) -> dict[str, Any]:
    """A model's JSON without what Keras's session adds: object ids, mask operations, its
    torch optimizer class's module."""
    config: dict[str, Any] = without_pipeline_builds(without_masks(json.loads(text)))
    optimizer = (config.get("compile_config") or {}).get("optimizer")
    if optimizer:
        optimizer.update(module="keras.optimizers", registered_name=None)
    return config


def keras_models() -> dict[str, Any]:
    """Models as a Keras user builds them, with Keras's own (random) weights."""
    keras = keras_or_skip()
    layers = keras.layers
    keras.utils.set_random_seed(0)
    a, b = keras.Input((8,), name="a"), keras.Input((5,), name="b")
    shared = layers.Dense(6, activation="relu", name="shared")
    merged = layers.Concatenate(name="cat")(
        [shared(layers.Dense(8, name="pa")(a)), shared(layers.Dense(8, name="pb")(b))]
    )
    q = keras.Input((5, 8), name="q")
    attended = layers.MultiHeadAttention(2, 4, name="mha")(q, q, use_causal_mask=True)
    ids = keras.Input((7,), name="ids")
    masked = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(
        layers.Embedding(20, 4, mask_zero=True)(ids)
    )
    models = {
        "mlp": keras.Sequential(
            [
                keras.Input((20,)),
                layers.Dense(16, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(3, activation="softmax"),
            ]
        ),
        "convnet": keras.Sequential(
            [
                keras.Input((10, 10, 3)),
                layers.Conv2D(4, 3, padding="same"),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.MaxPooling2D(),
                layers.SeparableConv2D(5, 3),
                layers.Flatten(),
                layers.Dense(2),
            ]
        ),
        "embedding_lstm": keras.Sequential(
            [
                keras.Input((7,)),
                layers.Embedding(20, 4, mask_zero=True),
                layers.LSTM(5),
                layers.Dense(1, activation="sigmoid"),
            ]
        ),
        "gru": keras.Sequential(
            [
                keras.Input((6, 3)),
                layers.GRU(4, return_sequences=True),
                layers.GRU(2, go_backwards=True),
            ]
        ),
        "bidirectional": keras.Sequential(
            [
                keras.Input((6, 3)),
                layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                layers.TimeDistributed(layers.Dense(2)),
            ]
        ),
        "functional": keras.Model(
            [a, b],
            [
                layers.Dense(3, activation="softmax", name="cls")(merged),
                layers.Dense(1, name="reg")(merged),
            ],
        ),
        "attention": keras.Model(q, layers.LayerNormalization()(layers.Add()([q, attended]))),
        "masked": keras.Model(
            ids, [layers.LSTM(2)(masked), layers.GlobalAveragePooling1D()(masked)]
        ),
    }
    rng = np.random.default_rng(3)
    for model in models.values():  # trained-looking: no zero biases, moving statistics moved
        model.set_weights(
            [
                rng.normal(0, 0.4, w.shape).astype("float32") + (w.min() > 0.5)
                for w in model.get_weights()
            ]
        )
    models["mlp"].compile(
        keras.optimizers.RMSprop(0.01), "categorical_crossentropy", metrics=["accuracy"]
    )
    models["functional"].compile(
        "adam",
        {"cls": "categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.2},
    )
    return models


def tf_keras2_h5(path: Path) -> dict[str, np.ndarray]:
    """A legacy `.h5` as tf.keras 2.15's `model.save("m.h5")` lays it out: its JSON (as
    `tfkeras2_mlp.json` holds it), `keras_version` 2.15.0, weights named `dense/kernel:0`,
    optimizer `Custom>Adam` and metrics as `MeanMetricWrapper`s."""
    config = json.loads(
        (Path(__file__).parents[1] / "data" / "keras" / "tfkeras2_mlp.json").read_text()
    )
    rng = np.random.default_rng(4)
    weights = {
        "dense/kernel": rng.normal(0, 0.05, (784, 512)).astype(np.float32),
        "dense/bias": rng.normal(0, 0.05, (512,)).astype(np.float32),
        "dense_1/kernel": rng.normal(0, 0.05, (512, 10)).astype(np.float32),
        "dense_1/bias": rng.normal(0, 0.05, (10,)).astype(np.float32),
    }
    accuracy = {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}
    adam = {"name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None}
    adam |= {"clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "jit_compile": False}
    adam |= {"ema_overwrite_frequency": None, "is_legacy_optimizer": False}
    adam |= {"learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999}
    adam |= {"epsilon": 1e-07, "amsgrad": False}
    training = {
        "loss": "categorical_crossentropy",
        "metrics": [[{"class_name": "MeanMetricWrapper", "config": accuracy}]],
        "weighted_metrics": None,
        "loss_weights": None,
        "optimizer_config": {"class_name": "Custom>Adam", "config": adam},
    }
    with h5py.File(path, "w") as h5:
        h5.attrs.update(keras_version="2.15.0", backend="tensorflow")
        h5.attrs["model_config"] = json.dumps(config).encode()
        h5.attrs["training_config"] = json.dumps(training).encode()
        group = h5.create_group("model_weights")
        group.attrs.update(
            layer_names=[b"dense", b"dropout", b"dense_1"],
            backend=b"tensorflow",
            keras_version=b"2.15.0",
        )
        for layer in ("dense", "dropout", "dense_1"):
            names = [f"{layer}/{w}:0" for w in ("kernel", "bias")] if layer != "dropout" else []
            group.create_group(layer).attrs["weight_names"] = [n.encode() for n in names]
            for name in names:
                group[layer].create_dataset(name, data=weights[name.removesuffix(":0")])
    return weights
