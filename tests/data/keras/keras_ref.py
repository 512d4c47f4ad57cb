"""What the Keras 3 reference scripts share: Keras on the torch backend, the output
folder, and the conversions to plain JSON. The scripts that use it are listed in
generate.py, which also gives the venv and versions they ran with."""

import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = Path(__file__).resolve().parent
KERAS_VERSION = keras.__version__
BACKEND = keras.backend.backend()
assert BACKEND == "torch", "run with KERAS_BACKEND=torch"

warnings.filterwarnings("ignore")

__all__ = [
    "BACKEND",
    "KERAS_VERSION",
    "OUT",
    "keras",
    "layers",
    "np",
    "shape_wo_batch",
    "to_list",
    "write_json",
]


def write_json(name, obj):
    path = OUT / name
    path.write_text(json.dumps(obj, indent=2) + "\n")
    print("wrote", path.relative_to(OUT.parent.parent.parent))


def to_list(x):
    """Convert a tensor / array / number to plain Python floats."""
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64).tolist()


def shape_wo_batch(shape):
    return list(shape[1:])
