"""Models with Discretization, IntegerLookup, Hashing and HashedCrossing trained end to
end through the engine (`train_job`, as the service runs a job) on integer input data,
and the SDK's path: `IntegerLookup.adapt` in the user's process, then a functional
model whose spec (and Keras JSON) validates and trains.

The layers' outputs are checked against Keras's in test_lookup_hashing.py; here, that
they compose and train: the loss falls, and an Embedding row that no input reaches (a
vocabulary token absent from the data) keeps its first value, as Keras's gradients
leave it (Adam's moments stay zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import cornu as keras
from cornu.core.engine import train_job
from cornu.core.engine.build import build_model
from cornu.core.spec import JobSpec
from cornu.core.spec.keras_config import from_keras, model_spec, to_keras
from cornu.core.spec.model import FunctionalSpec

VOCABULARY = [10, 20, 30, 40, 99]  # 99 never appears in the data
SAMPLES = 64


def node(name: str, inputs: list[str], kind: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "inputs": inputs, "type": kind, **args}


MODEL = {
    "type": "functional",
    "inputs": [
        {"name": "num", "shape": [3]},
        {"name": "ids", "shape": [4], "dtype": "int64"},
        {"name": "a", "shape": [1], "dtype": "int64"},
        {"name": "b", "shape": [1], "dtype": "int64"},
    ],
    "layers": [
        node("bins", ["num"], "Discretization", bin_boundaries=[-1.0, 0.0, 1.0]),
        node("bins_hot", ["bins"], "CategoryEncoding", num_tokens=4, output_mode="multi_hot"),
        node("num_dense", ["bins_hot"], "Dense", units=3),
        node("lookup", ["ids"], "IntegerLookup", vocabulary=VOCABULARY),
        node("lookup_emb", ["lookup"], "Embedding", input_dim=6, output_dim=3),
        node("lookup_flat", ["lookup_emb"], "Flatten"),
        node("hash", ["ids"], "Hashing", num_bins=7),
        node("hash_emb", ["hash"], "Embedding", input_dim=7, output_dim=2),
        node("hash_flat", ["hash_emb"], "Flatten"),
        node("cross", ["a", "b"], "HashedCrossing", num_bins=5, output_mode="one_hot"),
        node("cross_dense", ["cross"], "Dense", units=2),
        node("all", ["num_dense", "lookup_flat", "hash_flat", "cross_dense"], "Concatenate"),
        node("out", ["all"], "Dense", units=1),
    ],
    "outputs": ["out"],
}


def _arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.array([10, 20, 30, 40, 7]), (SAMPLES, 4)).astype(np.int64)
    a = rng.integers(0, 3, (SAMPLES, 1)).astype(np.int64)
    b = rng.integers(0, 4, (SAMPLES, 1)).astype(np.int64)
    num = rng.normal(size=(SAMPLES, 3)).astype(np.float32)
    # a target the features determine: the tokens 20 and 7 (OOV), the crossed pair, the bins
    y = (ids == 20).sum(1) - (ids == 7).sum(1) + (a[:, 0] == b[:, 0]) + (num > 0).sum(1)
    return {"num": num, "ids": ids, "a": a, "b": b, "y": y[:, None].astype(np.float32)}


def _job(model: Any, epochs: int) -> JobSpec:
    return JobSpec.model_validate(
        {
            "model": model,
            "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.05}, "loss": "mse"},
            "fit": {"epochs": epochs, "batch_size": 16, "seed": 0, "shuffle": False},
            "data": {"x": {n: n for n in ("num", "ids", "a", "b")}, "y": "y"},
        }
    )


def test_a_model_of_the_categorical_layers_trains_through_the_engine() -> None:
    arrays = _arrays()
    first = train_job(_job(MODEL, 0), arrays).model.keras_weights()
    result = train_job(_job(MODEL, 8), arrays)
    losses = result.history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]
    trained = result.model.keras_weights()
    table = trained["lookup_emb/embeddings"].detach().numpy()
    start = first["lookup_emb/embeddings"].detach().numpy()
    np.testing.assert_array_equal(table[5], start[5])  # 99: index 1 + 4, never looked up
    assert not np.allclose(table[:5], start[:5])  # the OOV index and the tokens seen train
    model = result.model.eval()
    inputs = [torch.from_numpy(arrays[n][:4]) for n in ("num", "ids", "a", "b")]
    with torch.no_grad():
        (out,) = model(*inputs)
    assert out.shape == (4, 1)


def test_the_sdk_adapts_and_its_functional_model_validates_and_trains() -> None:
    arrays = _arrays(1)
    lookup = keras.layers.IntegerLookup(name="lookup")
    lookup.adapt(arrays["ids"])
    assert sorted(lookup.get_vocabulary(include_special_tokens=False)) == [7, 10, 20, 30, 40]
    ids = keras.Input(shape=(4,), dtype="int64", name="ids")
    x = lookup(ids)
    x = keras.layers.Embedding(lookup.vocabulary_size(), 3, name="emb")(x)
    x = keras.layers.Flatten(name="flat")(x)
    out = keras.layers.Dense(1, name="out")(x)
    model = keras.Model(ids, out)
    data = model.model_spec()
    spec = model_spec(data)
    assert isinstance(spec, FunctionalSpec)
    (layer,) = [n.layer for n in spec.layers if n.layer is not None and n.name == "lookup"]
    assert layer.vocabulary == lookup.get_vocabulary(include_special_tokens=False)
    shapes = {row.name: row.output_shape for row in build_model(spec, device="meta").summary()}
    written = to_keras(spec, shapes)  # what model.to_json() sends Keras
    assert to_keras(model_spec(from_keras(written)), shapes) == written  # read back exactly
    lookup_config = next(c for c in written["config"]["layers"] if c["name"] == "lookup")
    assert lookup_config["config"]["vocabulary"] == layer.vocabulary
    job = JobSpec.model_validate(
        {
            "model": data,
            "compile": {"optimizer": "adam", "loss": "mse"},
            "fit": {"epochs": 2, "batch_size": 16, "seed": 0},
            "data": {"x": "ids", "y": "y"},
        }
    )
    losses = train_job(job, arrays).history.history["loss"]
    assert len(losses) == 2 and np.all(np.isfinite(losses))
