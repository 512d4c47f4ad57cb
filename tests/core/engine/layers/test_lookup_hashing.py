"""Discretization, IntegerLookup, Hashing and HashedCrossing against Keras's own outputs
(tests/data/keras/lookup_hashing_outputs.json, written with TensorFlow by
gen_lookup_hashing.py): the same arguments and inputs give the same values and dtypes,
bit for bit for the hashes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cornu.core.engine.layers import LAYERS, ShapeError
from cornu.core.engine.layers.lookup import cross_hash, string_hash
from cornu.core.spec.keras_config.layers import layer_config
from cornu.core.spec.layers import parse_layer

DATA = json.loads(
    (Path(__file__).parents[3] / "data" / "keras" / "lookup_hashing_outputs.json").read_text()
)
CASES = DATA["cases"]
_TORCH = {"int32": torch.int32, "int64": torch.int64, "float32": torch.float32}


def _ids(case: dict) -> str:
    return f"{case['layer']}-{json.dumps(case['args'], sort_keys=True)}"


def _run(case: dict) -> torch.Tensor:
    spec = parse_layer({"type": case["layer"], **case["args"]})
    dtype = _TORCH[case["input_dtype"] or "float32"]
    if case["layer"] == "HashedCrossing":
        inputs = [torch.tensor(x, dtype=dtype) for x in case["input"]]
        layer = LAYERS[case["layer"]](spec, [tuple(x.shape[1:]) for x in inputs])
        return layer(inputs)
    x = torch.tensor(case["input"], dtype=dtype)
    layer = LAYERS[case["layer"]](spec, tuple(x.shape[1:]))
    out = layer(x)
    assert tuple(out.shape[1:]) == tuple(layer.output_shape)
    return out


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_outputs_match_keras(case: dict) -> None:
    out = _run(case)
    expected = np.asarray(case["output"])
    dtype = case["output_dtype"]
    if case["layer"] == "IntegerLookup" and case["args"].get("output_mode", "int") != "int":
        # Keras's eager output is int64 (`encode_categorical_inputs(dtype=int64)`), its
        # symbolic one float32 (`compute_output_spec`); Cornu's is float32, as in a model.
        dtype = "float32"
    assert str(out.dtype).removeprefix("torch.") == dtype
    assert out.shape == expected.shape
    if out.dtype.is_floating_point:
        np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)
    else:
        np.testing.assert_array_equal(out.numpy(), expected)


def test_hashes_are_tensorflows() -> None:
    """FarmHash / SipHash of decimal strings and FingerprintCat64 crosses, bit for bit
    (the modulus 1000003 keeps most of the 64-bit hash)."""
    big = np.array([0, 1, -7, 123456789012, -(2**62), 42], dtype=np.int64)
    (plain,) = [c for c in CASES if c["layer"] == "Hashing" and c["args"] == {"num_bins": 1000003}][
        :1
    ]
    np.testing.assert_array_equal(
        (string_hash(big, None) % np.uint64(1000003)).astype(np.int64),
        np.asarray(plain["output"]).ravel(),
    )
    crossed = [
        c for c in CASES if c["layer"] == "HashedCrossing" and c["args"] == {"num_bins": 1000003}
    ]
    columns = [np.asarray(x, dtype=np.int64) for x in crossed[0]["input"]]
    np.testing.assert_array_equal(cross_hash(columns, 1000003), np.asarray(crossed[0]["output"]))


def test_num_oov_indices_zero_refuses_unknown_tokens() -> None:
    spec = parse_layer({"type": "IntegerLookup", "vocabulary": [1, 2], "num_oov_indices": 0})
    layer = LAYERS["IntegerLookup"](spec, (2,))
    with pytest.raises(ValueError, match="all inputs should be in vocabulary"):
        layer(torch.tensor([[1, 5]]))


def test_layers_without_their_data_say_to_adapt() -> None:
    for data in (
        {"type": "Discretization", "num_bins": 4},
        {"type": "IntegerLookup"},
        {
            "type": "IntegerLookup",
            "output_mode": "tf_idf",
            "max_tokens": 5,
            "pad_to_max_tokens": True,
        },
    ):
        with pytest.raises(ShapeError, match="adapt"):
            LAYERS[data["type"]](parse_layer(data), (3,))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"type": "IntegerLookup", "vocabulary": ["a", "b"]}, "string"),
        ({"type": "IntegerLookup", "vocabulary": [1], "mask_token": ""}, "string"),
        ({"type": "IntegerLookup", "vocabulary_dtype": "string"}, "string"),
        ({"type": "Hashing", "num_bins": 3, "mask_value": ""}, "string"),
        ({"type": "IntegerLookup", "vocabulary": [1, 1]}, "repeats"),
        ({"type": "IntegerLookup", "vocabulary": [1, 0], "mask_token": 0}, "mask token"),
        ({"type": "IntegerLookup", "invert": True, "output_mode": "count"}, "invert"),
        ({"type": "IntegerLookup", "vocabulary": [1], "output_mode": "tf_idf"}, "idf_weights"),
        ({"type": "IntegerLookup", "salt": 3}, "farmhash"),
        ({"type": "IntegerLookup", "max_tokens": 3, "vocabulary": [1, 2, 3]}, "max_tokens"),
        ({"type": "Discretization"}, "num_bins"),
    ],
)
def test_keras_argument_checks(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_layer(data)


def test_config_is_what_keras_writes() -> None:
    """Keras's own keys (no `trainable` where its constructor takes none; Hashing's int64
    dtype policy in "int" mode; IntegerLookup's `vocabulary_size`)."""
    d = layer_config(parse_layer({"type": "Discretization", "bin_boundaries": [0.0]}), "d")
    assert d == {
        "bin_boundaries": [0.0], "num_bins": None, "epsilon": 0.01, "output_mode": "int",
        "sparse": False, "name": "d", "dtype": "float32",
    }  # fmt: skip
    h = layer_config(parse_layer({"type": "HashedCrossing", "num_bins": 4}), "h")
    assert h == {
        "num_bins": 4,
        "output_mode": "int",
        "sparse": False,
        "name": "h",
        "dtype": "int64",
    }
    hashing = layer_config(parse_layer({"type": "Hashing", "num_bins": 4, "salt": 3}), "x")
    assert hashing["dtype"]["config"]["name"] == "int64" and hashing["salt"] == [3, 3]
    lookup = layer_config(parse_layer({"type": "IntegerLookup", "vocabulary": [3, 5]}), "l")
    keras = next(c for c in DATA["saved"] if c["args"] == {})["layer_config"]
    assert set(lookup) == set(keras)
    assert lookup["vocabulary_size"] == 3 and lookup["vocabulary"] == [3, 5]
