"""`Discretization.adapt` and `IntegerLookup.adapt` in the SDK give Keras's results
(tests/data/keras/lookup_hashing_outputs.json `adapt`, computed by Keras with
TensorFlow), for arrays and for batches; the adapted layer runs as Keras's did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import cornu as keras
from cornu.core.engine.layers import LAYERS
from cornu.core.spec.layers import parse_layer

DATA = json.loads(
    (Path(__file__).parents[1] / "data" / "keras" / "lookup_hashing_outputs.json").read_text()
)
ADAPT = DATA["adapt"]


def _batches(data: np.ndarray, size: int | None) -> object:
    if size is None:
        return data
    return iter([data[i : i + size] for i in range(0, len(data), size)])


@pytest.mark.parametrize("case", [c for c in ADAPT if c["layer"] == "Discretization"])
def test_discretization_adapt_is_keras(case: dict) -> None:
    layer = keras.layers.Discretization(**case["args"])
    layer.adapt(_batches(np.asarray(case["data"], np.float32), case["batch_size"]))
    np.testing.assert_allclose(layer.bin_boundaries, case["bin_boundaries"], rtol=1e-6)
    assert layer.get_config()["num_bins"] == case["config"]["num_bins"]


@pytest.mark.parametrize("case", [c for c in ADAPT if c["layer"] == "IntegerLookup"])
def test_integer_lookup_adapt_is_keras(case: dict) -> None:
    layer = keras.layers.IntegerLookup(**case["args"])
    data = np.asarray(case["data"], np.int64)
    layer.adapt(_batches(data, case["batch_size"]))
    assert layer.get_vocabulary() == case["vocabulary"]
    if "idf_weights" in case:
        spec = parse_layer(layer.to_spec())
        np.testing.assert_allclose(spec.idf, case["idf_weights"], rtol=1e-6)
        engine = LAYERS["IntegerLookup"](spec, (4,))
        out = engine(torch.tensor(data[:3]))
        np.testing.assert_allclose(out.numpy(), case["output"], atol=1e-5)


def test_adapt_refuses_given_values() -> None:
    with pytest.raises(ValueError, match="num_bins"):
        keras.layers.Discretization(bin_boundaries=[0.0]).adapt(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="static vocabulary"):
        keras.layers.IntegerLookup(vocabulary=[1, 2]).adapt(np.zeros((3, 1)))


def test_adapted_layers_carry_their_results_in_their_spec() -> None:
    disc = keras.layers.Discretization(num_bins=3)
    disc.adapt(np.arange(30, dtype=np.float32).reshape(10, 3))
    assert disc.to_spec()["bin_boundaries"] == disc.bin_boundaries == [9.0, 19.0]  # Keras: same
    lookup = keras.layers.IntegerLookup()
    lookup.adapt(np.array([[5, 5], [7, 9]]))
    assert lookup.to_spec()["vocabulary"] == [5, 9, 7]
    assert lookup.get_vocabulary() == [-1, 5, 9, 7]
    assert lookup.get_vocabulary(include_special_tokens=False) == [5, 9, 7]
