"""IntegerLookup in `.keras` files both ways (tests/data/keras/lookup_files.json, written
by gen_lookup_files.py with Keras 3.15 on TensorFlow, which IntegerLookup needs):

- Cornu reads Keras's files: an adapted layer's `assets/.../vocabulary.txt` and a
  "tf_idf" layer's `vars/idf_weights` become its vocabulary and IDF weights, and the
  engine predicts what Keras predicted;
- Cornu's files are those Keras loaded (and predicted the same from) when the data was
  generated: the same config, members and weights tree, `vars/idf_weights` where Keras
  writes it.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cornu.core.engine.build import build_model
from cornu.core.errors import SpecError
from cornu.core.spec import keras_files as files
from cornu.core.spec.keras_config import model_spec
from tests.core.engine.test_keras_weights import predict
from tests.core.spec.keras_zoo import same_json, shapes_of

DATA = json.loads((Path(__file__).parents[1] / "data" / "keras" / "lookup_files.json").read_text())
KERAS, CORNU = DATA["keras_written"], DATA["cornu_written"]


def _file(name: str) -> io.BytesIO:
    return io.BytesIO(base64.b64decode(KERAS[name]["file"]))


def _lookup(model: dict[str, Any]) -> dict[str, Any]:
    return next(layer for layer in model["layers"] if layer.get("type") == "IntegerLookup")


def _tree(data: bytes) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    with h5py.File(io.BytesIO(data), "r") as h5:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                tree[name] = [list(obj.shape), str(obj.dtype)]
            else:
                tree[name] = dict(obj.attrs.items())

        h5.visititems(visit)
    return tree


@pytest.mark.parametrize("name", sorted(KERAS))
def test_cornu_reads_keras_files_and_predicts_as_keras(name: str) -> None:
    entry = KERAS[name]
    read = files.read_keras(_file(name))
    lookup = _lookup(read.model)
    assets = entry["assets"]
    if assets:  # an adapted layer: the asset's vocabulary, special tokens first
        (text,) = assets.values()
        assert lookup["vocabulary"] == [int(t) for t in text.split("\n")]
    model = build_model(model_spec(read.model))
    model.load_keras_weights(read.weights)
    (out,) = predict(model, [np.asarray(entry["inputs"], dtype=np.int64)])
    np.testing.assert_allclose(out, np.asarray(entry["outputs"]), rtol=1e-5, atol=1e-5)


def test_stored_idf_weights_become_the_layers() -> None:
    read = files.read_keras(_file("adapted_tf_idf_padded"))
    spec = model_spec(read.model)
    (layer,) = [n.layer for n in spec.layers if n.layer is not None]
    with zipfile.ZipFile(_file("adapted_tf_idf_padded")) as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as h5:
            stored = h5["layers/integer_lookup/vars/idf_weights"][()]
    # Keras 3.15 cannot load this file back itself (`set_vocabulary` is given the
    # padded weights for the unpadded vocabulary); Cornu takes the weights as stored.
    assert "idf_weights" in str(KERAS["adapted_tf_idf_padded"]["keras_reloads"])
    np.testing.assert_array_equal(np.asarray(layer.idf, dtype=np.float32), stored)
    assert layer.depth == 12


@pytest.mark.parametrize("name", sorted(CORNU))
def test_cornu_writes_what_keras_loaded(name: str) -> None:
    """Cornu's file for the model is the one Keras loaded when the data was generated
    (Keras's predictions from it were Keras's own), laid out as Keras's own file."""
    recorded = CORNU[name]
    assert "keras_error" not in recorded and "cornu_error" not in recorded
    np.testing.assert_allclose(recorded["outputs"], KERAS[name]["outputs"], atol=1e-6)
    read = files.read_keras(_file(name))
    out = io.BytesIO()
    files.write_keras(out, read.model, read.weights, shapes=shapes_of(model_spec(read.model)))
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == recorded["members"]
        assert same_json(json.loads(archive.read("config.json")), recorded["config"])
        tree = _tree(archive.read("model.weights.h5"))
    assert tree == recorded["weights_tree"]
    keras_tree = KERAS[name]["weights_tree"]
    assert tree == keras_tree  # `vars/idf_weights` where Keras writes it, nothing else


def _without(name: str, member: str) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(_file(name)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info))
    out.seek(0)
    return out


def test_adapted_layer_without_its_asset_is_refused() -> None:
    broken = _without("adapted_int_embedding", "assets/layers/integer_lookup/vocabulary.txt")
    with pytest.raises(SpecError, match="no vocabulary.*vocabulary.txt"):
        files.read_keras(broken)


def test_tf_idf_layer_without_its_stored_weights_is_refused() -> None:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(_file("adapted_tf_idf_dense")) as source,
        zipfile.ZipFile(out, "w") as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "model.weights.h5":
                buffer = io.BytesIO(data)
                with h5py.File(buffer, "a") as h5:
                    del h5["layers/integer_lookup/vars/idf_weights"]
                data = buffer.getvalue()
            target.writestr(info, data)
    out.seek(0)
    with pytest.raises(SpecError, match="idf_weights"):
        files.read_keras(out)
