"""Keras 3's `.keras` files with IntegerLookup, both ways: files Keras writes (an adapted
layer's `assets/.../vocabulary.txt`, a "tf_idf" layer's `vars/idf_weights`) and what
Keras makes of the files Cornu writes for the same models.

`keras_written`: each model's `.keras` file (base64), its members, its weights file's
tree (`{path: [shape, dtype]}` for datasets, `{path: attrs}` for groups), the inputs,
Keras's predictions, and whether Keras loads its own file back.
`cornu_written`: Cornu reads each of those files (`keras_files.read_keras`) and writes it
again (`write_keras`, from the project's venv); Keras loads Cornu's file: the same
entries, with Keras's predictions for Cornu's file, or the error Keras raised.

IntegerLookup needs TensorFlow, never one of Cornu's dependencies: run this in a scratch
venv with python 3.11, keras 3.15.1, tensorflow-cpu 2.21.0, numpy 2.4.6 (it runs the
Cornu half with the repository's .venv):
    KERAS_BACKEND=tensorflow /tmp/kerastf/bin/python tests/data/keras/gen_lookup_files.py
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).parent / "lookup_files.json"


def h5_layout(data: bytes) -> dict:
    import io

    import h5py
    import numpy as np

    tree = {}
    with h5py.File(io.BytesIO(data), "r") as h5:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                tree[name] = [list(obj.shape), str(obj.dtype)]
            else:
                tree[name] = {
                    k: (v.decode() if isinstance(v, bytes) else np.asarray(v).tolist())
                    for k, v in obj.attrs.items()
                }

        h5.visititems(visit)
    return tree


def describe(path: str) -> dict:
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        config = json.loads(archive.read("config.json"))
        tree = h5_layout(archive.read("model.weights.h5"))
        assets = {n: archive.read(n).decode() for n in members if n.startswith("assets/")}
    return {"members": members, "config": config, "weights_tree": tree, "assets": assets}


def keras_side() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import numpy as np

    rng = np.random.default_rng(20261201)
    tokens = rng.integers(0, 9, (20, 4))
    tokens[0, 0] = -1
    inputs = np.array([[3, 5, 5, 0], [8, 1, -1, 99], [7, 7, 7, 2]], dtype="int64")
    keras.utils.set_random_seed(1)

    def functional(name, lookup, head=None, adapt=True):
        x = keras.Input((4,), dtype="int64", name="ids")
        if adapt:
            lookup.adapt(tokens)
        y = lookup(x)
        if head is not None:
            y = head(lookup)(y)
        return keras.Model(x, y, name=name)

    def embedding(lookup):
        return keras.layers.Embedding(lookup.vocabulary_size(), 3)

    def dense(lookup):
        return keras.layers.Dense(2)

    sequential_lookup = keras.layers.IntegerLookup(mask_token=0)
    sequential_lookup.adapt(tokens)
    models = {
        "adapted_int_embedding": functional("adapted_int", keras.layers.IntegerLookup(), embedding),
        "adapted_mask_two_oov": functional(
            "adapted_mask", keras.layers.IntegerLookup(mask_token=0, num_oov_indices=2)
        ),
        "adapted_one_hot": functional(
            "adapted_one_hot", keras.layers.IntegerLookup(max_tokens=6, output_mode="one_hot")
        ),
        "adapted_tf_idf_dense": functional(
            "adapted_tf_idf", keras.layers.IntegerLookup(output_mode="tf_idf"), dense
        ),
        "adapted_tf_idf_padded": functional(
            "adapted_tf_idf_padded",
            keras.layers.IntegerLookup(output_mode="tf_idf", max_tokens=12, pad_to_max_tokens=True),
        ),
        "given_tf_idf": functional(
            "given_tf_idf",
            keras.layers.IntegerLookup(
                vocabulary=[5, 3, 7, 1, 8],
                output_mode="tf_idf",
                idf_weights=[0.25, 0.75, 0.6, 0.4, 0.1],
            ),
            adapt=False,
        ),
        "sequential_adapted_embedding": keras.Sequential(
            [
                keras.Input((4,), dtype="int64"),
                sequential_lookup,
                keras.layers.Embedding(sequential_lookup.vocabulary_size(), 2),
            ],
            name="sequential_adapted",
        ),
    }
    keras_written = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in models.items():
            path = os.path.join(tmp, f"{name}.keras")
            model.save(path)
            entry = describe(path)
            entry["file"] = base64.b64encode(Path(path).read_bytes()).decode()
            entry["inputs"] = inputs.tolist()
            entry["outputs"] = np.asarray(model.predict(inputs, verbose=0)).tolist()
            entry["keras_reloads"] = reload(keras, path, inputs, entry["outputs"])
            keras_written[name] = entry
        cornu_dir = os.path.join(tmp, "cornu")
        os.makedirs(cornu_dir)
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), __file__, "--cornu", tmp, cornu_dir],
            check=True,
            cwd=ROOT,
            env={**os.environ, "KERAS_BACKEND": "torch"},
        )
        cornu_written = {}
        for name in models:
            path = os.path.join(cornu_dir, f"{name}.keras")
            error = Path(path + ".error")
            if error.exists():
                cornu_written[name] = {"cornu_error": error.read_text()}
                continue
            entry = describe(path)
            try:
                loaded = keras.models.load_model(path)
                entry["outputs"] = np.asarray(loaded.predict(inputs, verbose=0)).tolist()
            except Exception as exc:  # what Keras says about Cornu's file is the result
                entry["keras_error"] = f"{type(exc).__name__}: {exc}"
            cornu_written[name] = entry
    OUT.write_text(
        json.dumps({"keras_written": keras_written, "cornu_written": cornu_written}, indent=1)
        + "\n"
    )
    print(f"wrote {OUT}")


def reload(keras, path, inputs, outputs):
    import numpy as np

    try:
        again = keras.models.load_model(path).predict(inputs, verbose=0)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return bool(np.allclose(again, outputs, atol=1e-6))


def cornu_side(keras_dir: str, out_dir: str) -> None:
    """Read each Keras-written file with Cornu and write it back (the project's venv)."""
    sys.path.insert(0, str(ROOT))
    from cornu.core.spec import keras_files as files
    from cornu.core.spec.keras_config import model_spec
    from tests.core.spec.keras_zoo import shapes_of

    for path in sorted(Path(keras_dir).glob("*.keras")):
        target = Path(out_dir) / path.name
        try:
            read = files.read_keras(path)
            spec = model_spec(read.model)
            files.write_keras(target, read.model, read.weights, shapes=shapes_of(spec))
        except Exception as exc:
            Path(str(target) + ".error").write_text(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cornu"]:
        cornu_side(sys.argv[2], sys.argv[3])
    else:
        keras_side()
