"""Keras 3 reference outputs for Discretization, IntegerLookup, Hashing and HashedCrossing.

These layers need TensorFlow (its lookup tables and string hashing ops), which is never
one of Cornu's dependencies: run this in a scratch venv.
`cases`: a layer's arguments, its input (and its dtype), Keras's output and dtype.
`adapt`: Discretization.adapt boundaries and IntegerLookup.adapt vocabularies (and IDF
weights) for arrays and lists of batches.
`saved`: what Keras's `.keras` holds for an adapted IntegerLookup (config, and the asset
`vocabulary.txt` with its path in the archive).

Produced with python 3.11, keras 3.15.1, tensorflow-cpu 2.21.0 (KERAS_BACKEND=tensorflow),
numpy 2.4.6:
    python3.11 -m venv /tmp/kerastf && /tmp/kerastf/bin/pip install keras==3.15.1 tensorflow-cpu==2.21.0
    KERAS_BACKEND=tensorflow /tmp/kerastf/bin/python tests/data/keras/gen_lookup_hashing.py
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).parent / "lookup_hashing_outputs.json"
rng = np.random.default_rng(20261130)


def listed(x):
    return np.asarray(keras.ops.convert_to_numpy(x)).tolist()


def case(kind, args, x, dtype=None):
    layer = getattr(keras.layers, kind)(**args)
    out = layer([np.asarray(v) for v in x] if kind == "HashedCrossing" else np.asarray(x))
    out_np = keras.ops.convert_to_numpy(out)
    return {
        "layer": kind,
        "args": args,
        "input": x,
        "input_dtype": dtype,
        "output": np.round(out_np.astype("float64"), 6).tolist(),
        "output_dtype": str(out_np.dtype),
    }


floats = np.round(rng.uniform(-3, 3, (4, 5)), 2)
floats[0, :3] = [0.0, 1.0, 2.0]  # on the boundaries
ids = rng.integers(-4, 40, (5, 4))
ids[0, :4] = [12, 36, 0, -1]
big = np.array([[0], [1], [-7], [123456789012], [-(2**62)], [42]], dtype="int64")
column = rng.integers(0, 12, (6, 1))

cases = [
    case("Discretization", {"bin_boundaries": [0.0, 1.0, 2.0]}, floats.tolist()),
    case("Discretization", {"bin_boundaries": [-1.5, 0.25, 2.0]}, floats.tolist()),
    case(
        "Discretization",
        {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"},
        floats[:, :1].tolist(),
    ),
    case(
        "Discretization", {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"}, floats.tolist()
    ),
    case(
        "Discretization",
        {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "multi_hot"},
        floats.tolist(),
    ),
    case(
        "Discretization",
        {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "count"},
        floats.tolist(),
    ),
]
vocab = [12, 36, 1138, 42, 7]
lookup_args = [
    {"vocabulary": vocab},
    {"vocabulary": vocab, "num_oov_indices": 0},
    {"vocabulary": vocab, "num_oov_indices": 3},
    {"vocabulary": vocab, "num_oov_indices": 3, "oov_method": "farmhash"},
    {"vocabulary": vocab, "num_oov_indices": 3, "oov_method": "farmhash", "salt": [5, 99]},
    {"vocabulary": vocab, "mask_token": 0},
    {"vocabulary": vocab, "mask_token": 0, "output_mode": "multi_hot"},
    {"vocabulary": vocab, "mask_token": 0, "num_oov_indices": 2},
    {"vocabulary": [-1, *vocab]},
    {"vocabulary": [0, -1, *vocab], "mask_token": 0},
    {"vocabulary": vocab, "oov_token": -5},
    {"vocabulary": vocab, "output_mode": "one_hot"},
    {"vocabulary": vocab, "output_mode": "multi_hot"},
    {"vocabulary": vocab, "output_mode": "count"},
    {"vocabulary": vocab, "output_mode": "count", "max_tokens": 10, "pad_to_max_tokens": True},
    {"vocabulary": vocab, "output_mode": "tf_idf", "idf_weights": [0.25, 0.75, 0.6, 0.4, 0.1]},
    {
        "vocabulary": [-1, *vocab],
        "output_mode": "tf_idf",
        "idf_weights": [0.9, 0.25, 0.75, 0.6, 0.4, 0.1],
    },
    {
        "vocabulary": vocab,
        "output_mode": "tf_idf",
        "idf_weights": [0.25, 0.75, 0.6, 0.4, 0.1],
        "max_tokens": 9,
        "pad_to_max_tokens": True,
    },
]
in_vocab = np.array([[12, 36, 7, 7], [99, 0, 42, 1138], [-3, 5, 12, 0]])
for args in lookup_args:
    x = np.where(in_vocab == 0, 0, in_vocab) if "mask_token" in args else in_vocab
    if args.get("num_oov_indices") == 0:
        x = np.array([[12, 36, 7, 7], [42, 42, 1138, 12]])
    cases.append(case("IntegerLookup", args, x.tolist(), "int64"))
cases.append(
    case(
        "IntegerLookup",
        {"vocabulary": vocab, "output_mode": "one_hot"},
        in_vocab[:, :1].tolist(),
        "int64",
    )
)
for args in (
    {"vocabulary": vocab, "invert": True},
    {"vocabulary": vocab, "invert": True, "mask_token": 0},
):
    cases.append(case("IntegerLookup", args, [[0, 1, 2, 3], [4, 5, 6, 9]], "int64"))

for args in (
    {"num_bins": 3},
    {"num_bins": 1000003},
    {"num_bins": 5, "mask_value": 0},
    {"num_bins": 1000003, "salt": 133},
    {"num_bins": 7, "salt": [3, 123456789]},
    {"num_bins": 4, "output_mode": "one_hot"},
    {"num_bins": 4, "output_mode": "multi_hot"},
    {"num_bins": 4, "output_mode": "count"},
):
    cases.append(case("Hashing", args, big.tolist(), "int64"))
cases.append(case("Hashing", {"num_bins": 1000003}, ids.tolist(), "int64"))
cases.append(case("Hashing", {"num_bins": 4, "output_mode": "one_hot"}, ids.tolist(), "int64"))
cases.append(
    case("Hashing", {"num_bins": 1000003}, [[1.7, -2.5, 3.0], [0.2, -0.7, 1e6]], "float32")
)
cases.append(
    case(
        "Hashing", {"num_bins": 5, "mask_value": 1}, [[1.7, 1.0, 3.0], [0.2, -0.7, 1e6]], "float32"
    )
)
for args in ({"num_bins": 5}, {"num_bins": 1000003}, {"num_bins": 6, "output_mode": "one_hot"}):
    cases.append(case("HashedCrossing", args, [column.tolist(), big.tolist()], "int64"))
cases.append(
    case(
        "HashedCrossing",
        {"num_bins": 1000003},
        [column.tolist(), big.tolist(), (column * 3 - 5).tolist()],
        "int64",
    )
)
cases.append(
    case(
        "HashedCrossing",
        {"num_bins": 1000003},
        [column[:, 0].tolist(), big[:, 0].tolist()],
        "int64",
    )
)

adapt = []
data = np.round(rng.normal(0, 2, (50, 3)), 3).astype("float32")
for args in (
    {"num_bins": 4, "epsilon": 0.01},
    {"num_bins": 3, "epsilon": 0.1},
    {"num_bins": 5, "epsilon": 0.001},
):
    for batches in (None, 16):
        layer = keras.layers.Discretization(**args)
        x = (
            data
            if batches is None
            else [data[i : i + batches] for i in range(0, len(data), batches)]
        )
        layer.adapt(x)
        adapt.append(
            {
                "layer": "Discretization",
                "args": args,
                "data": data.tolist(),
                "batch_size": batches,
                "bin_boundaries": layer.bin_boundaries,
                "config": layer.get_config(),
            }
        )
tokens = rng.integers(0, 9, (20, 4))
tokens[0, 0] = -1  # the OOV token: never in the vocabulary
for args in (
    {},
    {"max_tokens": 5},
    {"mask_token": 0},
    {"num_oov_indices": 2, "mask_token": 3},
    {"output_mode": "tf_idf"},
    {"output_mode": "tf_idf", "max_tokens": 6, "pad_to_max_tokens": True},
    {"output_mode": "tf_idf", "mask_token": 0},
):
    for batches in (None, 7):
        layer = keras.layers.IntegerLookup(**args)
        # A list is one array to IntegerLookup.adapt; batches come from other iterables.
        x = (
            tokens
            if batches is None
            else iter([tokens[i : i + batches] for i in range(0, len(tokens), batches)])
        )
        layer.adapt(x)
        entry = {
            "layer": "IntegerLookup",
            "args": args,
            "data": tokens.tolist(),
            "batch_size": batches,
            "vocabulary": [int(v) for v in layer.get_vocabulary()],
            "config": layer.get_config(),
        }
        if args.get("output_mode") == "tf_idf":
            entry["idf_weights"] = np.round(
                layer.idf_weights_const.numpy().astype("float64"), 7
            ).tolist()
            entry["output"] = np.round(
                keras.ops.convert_to_numpy(layer(tokens[:3])).astype("float64"), 6
            ).tolist()
        adapt.append(entry)

# What a .keras file holds for an adapted IntegerLookup (and a tf_idf one).
saved = []
for args in ({}, {"output_mode": "tf_idf"}):
    inputs = keras.Input((4,), dtype="int64")
    lookup = keras.layers.IntegerLookup(**args)
    lookup.adapt(tokens)
    model = keras.Model(inputs, lookup(inputs))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.keras")
        model.save(path)
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            assets = {n: archive.read(n).decode() for n in members if n.startswith("assets/")}
            config = json.loads(archive.read("config.json"))
    saved.append(
        {
            "args": args,
            "members": members,
            "assets": assets,
            "layer_config": config["config"]["layers"][1]["config"],
        }
    )

OUT.write_text(json.dumps({"cases": cases, "adapt": adapt, "saved": saved}, indent=1) + "\n")
print(f"wrote {OUT}: {len(cases)} cases, {len(adapt)} adapt results")
