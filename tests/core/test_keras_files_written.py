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
from cornu.core.spec.keras_config import to_keras
from cornu.core.spec.keras_files.legacy import full_loss_names
from tests.core.engine.test_keras_weights import predict, sample_inputs
from tests.core.keras_files_support import (
    COMPILE,
    COMPILES,
    FORMATS,
    LEGACY_H5_FAILS_IN_KERAS,
    Complaints,
    comparable,
    h5_tree,
    hidden_names,
    keras_load,
    keras_predict,
    save,
    trained,
)
from tests.core.spec.keras_zoo import (
    ZOO,
    keras_or_skip,
    same_json,
    shapes_of,
)


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("name", sorted(ZOO))
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


@pytest.mark.parametrize("name", sorted(ZOO))
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
        assert same_json(comparable(a.read("config.json")), comparable(b.read("config.json")))
        with (
            h5py.File(io.BytesIO(a.read("model.weights.h5"))) as x,
            h5py.File(io.BytesIO(b.read("model.weights.h5"))) as y,
        ):
            assert hidden_names(h5_tree(x)) == hidden_names(h5_tree(y))


@pytest.mark.parametrize("name", sorted(ZOO))
def test_the_legacy_h5_is_laid_out_as_keras_lays_it_out(tmp_path: Path, name: str) -> None:
    """Keras loads our `.h5` and saves it again: the same attributes, config, layer groups
    and weights (Keras also writes the optimizer it built; Cornu writes none, so Keras
    starts it afresh). Its `training_config` is what Keras writes for a model compiled
    from our `.keras`'s (loading an `.h5` turns metric names into objects)."""
    keras = keras_or_skip()
    if name in LEGACY_H5_FAILS_IN_KERAS:
        pytest.skip("Keras 3.15 cannot load this model from a legacy .h5")
    compile = COMPILES.get(name, COMPILE)
    ours = save(tmp_path, name, "h5", compile)
    keras.models.load_model(ours).save(tmp_path / "again.h5")
    keras.models.load_model(save(tmp_path, name, "keras", compile)).save(tmp_path / "compiled.h5")
    with h5py.File(ours) as x, h5py.File(tmp_path / "again.h5") as y:
        a, b = h5_tree(x), h5_tree(y)
    with h5py.File(tmp_path / "compiled.h5") as z:
        compiled = h5_tree(z)["/"]
    a_top, b_top = a.pop("/"), b.pop("/")
    assert same_json(comparable(a_top.pop("model_config")), comparable(b_top.pop("model_config")))
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


@pytest.mark.parametrize("name", sorted(ZOO))
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
        assert hidden_names(h5_tree(x)) == hidden_names(h5_tree(y))
