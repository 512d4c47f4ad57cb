"""Keras's files as Cornu writes them (`.keras`, legacy `.h5`, `.weights.h5`): Keras 3.15
loads them and predicts what the engine predicts, and they are laid out as Keras lays
its own out.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from cornu.core.spec import CompileSpec
from cornu.core.spec import keras_files as files
from cornu.core.spec.keras_config import model_spec, to_keras
from cornu.core.spec.keras_files.layout import model_layout
from cornu.core.spec.keras_files.legacy import full_loss_names
from tests.core.engine.test_keras_weights import predict, sample_inputs
from tests.core.keras_files_support import (
    COMPILE,
    COMPILES,
    FORMATS,
    KERAS_CANNOT_SAVE_AS_H5,
    KERAS_CANNOT_SAVE_ITS_OPTIMIZER_AS_H5,
    KERAS_REBUILDS,
    LAYOUT_CASES,
    LEGACY_H5_FAILS_IN_KERAS,
    Complaints,
    as_keras_rebuilds,
    comparable,
    copy_tracked_lists_as_lists,
    h5_tree,
    hidden_names,
    keras_load,
    keras_predict,
    save,
    spec_named,
    trained,
)
from tests.core.spec.keras_zoo import (
    ZOO,
    keras_json,
    keras_or_skip,
    same_json,
    shapes_of,
)

MODELS = sorted(ZOO) + sorted(LAYOUT_CASES)


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("name", MODELS)
def test_keras_loads_what_cornu_writes_and_predicts_the_same(
    tmp_path: Path, name: str, kind: str
) -> None:
    keras_or_skip()
    if kind == "h5" and name in LEGACY_H5_FAILS_IN_KERAS:
        pytest.skip("Keras 3.15 cannot load this model from a legacy .h5")
    spec, model, weights = trained(name)
    path = tmp_path / f"{name}.{kind}"
    files.save_model(
        path, spec, weights, compile=COMPILES.get(name, COMPILE), shapes=shapes_of(spec)
    )
    with Complaints() as complaints:
        loaded = keras_load(path, kind)
    assert complaints == []
    inputs = sample_inputs(model)
    for expected, got in zip(predict(model, inputs), keras_predict(loaded, inputs), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if kind != "weights.h5":
        assert (
            loaded.compiled
            and type(loaded.optimizer).__name__
            == CompileSpec.model_validate(COMPILES.get(name, COMPILE)).optimizer.type
        )


@pytest.mark.parametrize("name", MODELS)
def test_the_keras_archive_is_laid_out_as_keras_lays_it_out(tmp_path: Path, name: str) -> None:
    """Keras loads our `.keras` and saves it again: the same members, config and weights file."""
    keras = keras_or_skip()
    ours = save(tmp_path, name, "keras", COMPILES.get(name, COMPILE))
    again = tmp_path / "again.keras"
    keras.models.load_model(ours).save(again)
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(again) as b:
        assert a.namelist() == b.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()]
        assert (
            json.loads(a.read("metadata.json")).keys() == json.loads(b.read("metadata.json")).keys()
        )
        config = comparable(a.read("config.json"))
        if name in KERAS_REBUILDS:
            config = KERAS_REBUILDS[name].config(config)
        assert same_json(config, comparable(b.read("config.json")))
        with (
            h5py.File(io.BytesIO(a.read("model.weights.h5"))) as x,
            h5py.File(io.BytesIO(b.read("model.weights.h5"))) as y,
        ):
            assert as_keras_rebuilds(name, h5_tree(x)) == hidden_names(h5_tree(y))


@pytest.mark.parametrize("name", MODELS)
def test_the_legacy_h5_is_laid_out_as_keras_lays_it_out(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keras loads our `.h5` and saves it again: the same attributes, config, layer groups
    and weights (Keras also writes the optimizer it built; Cornu writes none, so Keras
    starts it afresh). Its `training_config` is what Keras writes for a model compiled
    from our `.keras`'s (loading an `.h5` turns metric names into objects)."""
    keras = keras_or_skip()
    if name in LEGACY_H5_FAILS_IN_KERAS:
        pytest.skip("Keras 3.15 cannot load this model from a legacy .h5")
    compile = COMPILES.get(name, COMPILE)
    ours = save(tmp_path, name, "h5", compile)
    loaded = keras.models.load_model(ours)
    compiled = keras.models.load_model(save(tmp_path, name, "keras", compile))
    if name in KERAS_CANNOT_SAVE_AS_H5:
        with pytest.raises(TypeError, match="cannot pickle 'module' object"):
            loaded.save(tmp_path / "again.h5")
        copy_tracked_lists_as_lists(monkeypatch)
    loaded.save(tmp_path / "again.h5")
    if name in KERAS_CANNOT_SAVE_ITS_OPTIMIZER_AS_H5:
        with pytest.raises(ValueError, match="name already exists"):
            compiled.save(tmp_path / "compiled.h5")
    else:
        compiled.save(tmp_path / "compiled.h5")
    with h5py.File(ours) as x, h5py.File(tmp_path / "again.h5") as y:
        a, b = as_keras_rebuilds(name, h5_tree(x)), hidden_names(h5_tree(y))
    with h5py.File(tmp_path / "compiled.h5") as z:
        compiled = h5_tree(z)["/"]
    a_top, b_top = a.pop("/"), b.pop("/")
    config = comparable(a_top.pop("model_config"))
    if name in KERAS_REBUILDS:
        config = KERAS_REBUILDS[name].config(config)
    assert same_json(config, comparable(b_top.pop("model_config")))
    training = [json.loads(top.pop("training_config")) for top in (a_top, compiled)]
    # Cornu spells loss aliases out, since Keras cannot load back its own "mse" (.h5 only)
    training[1]["loss"] = full_loss_names(training[1]["loss"])
    for config in training:  # Keras's is its float32
        rate = config["optimizer_config"]["config"]["learning_rate"]
        if isinstance(rate, float):
            config["optimizer_config"]["config"]["learning_rate"] = float(str(np.float32(rate)))
    assert training[0] == training[1]
    b_top.pop("training_config")
    assert a_top == b_top
    assert {k: v for k, v in b.items() if not k.startswith("optimizer_weights")} == a


@pytest.mark.parametrize("name", MODELS)
def test_the_weights_file_is_laid_out_as_keras_lays_it_out(tmp_path: Path, name: str) -> None:
    keras = keras_or_skip()
    spec, _, weights = trained(name)
    ours = tmp_path / "ours.weights.h5"
    files.write_weights(ours, spec, weights)
    model = keras.models.model_from_json(json.dumps(to_keras(spec, shapes_of(spec))))
    model.load_weights(ours)
    again = tmp_path / "again.weights.h5"
    model.save_weights(again)
    with h5py.File(ours) as x, h5py.File(again) as y:
        assert as_keras_rebuilds(name, h5_tree(x)) == hidden_names(h5_tree(y))


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("name", MODELS)
def test_cornu_reads_back_what_it_writes(tmp_path: Path, name: str, kind: str) -> None:
    """The same weights, in order, and a model that Keras's JSON describes the same (a
    legacy `.h5` names GroupQueryAttention by its class, GroupedQueryAttention)."""
    spec, _, weights = trained(name)
    path = save(tmp_path, name, kind, COMPILES.get(name, COMPILE))
    if kind == "weights.h5":
        read = files.read_weights(path, spec)
    else:
        model = files.load_model(path)
        assert keras_json(model_spec(model.model)) == keras_json(spec)
        read = model.weights
    assert list(read) == list(weights)
    for key, value in weights.items():
        np.testing.assert_array_equal(read[key], np.asarray(value).astype(read[key].dtype))


@pytest.mark.parametrize("name", MODELS)
def test_keras_trains_and_orders_the_weights_the_layout_says(name: str) -> None:
    """The layout's trainable weights are the model's `trainable_variables` (what the
    optimizer's variables are built for), and each layer's legacy order its
    `trainable_weights + non_trainable_weights`, matched by Keras's own variables."""
    keras = keras_or_skip()
    from keras.src.legacy.saving.legacy_h5_format import _legacy_weights

    spec = spec_named(name)
    model = keras.models.model_from_json(json.dumps(to_keras(spec, shapes_of(spec))))
    layouts = {layout.name: layout for layout in model_layout(spec)}
    ours: dict[int, str] = {}
    trainable = []
    for layer in model.layers:
        if name in KERAS_REBUILDS and layer.name == KERAS_REBUILDS[name].clone:
            continue  # its input, renamed (and no weights)
        layout = layouts[layer.name]
        ours |= dict(zip(map(id, layer.weights), layout.weights, strict=True))
        assert [ours[id(v)] for v in _legacy_weights(layer)] == layout.legacy_order
        trainable += layout.trainable
    assert [ours[id(v)] for v in model.trainable_variables] == trainable
