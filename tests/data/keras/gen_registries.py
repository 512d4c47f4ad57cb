"""Keras 3 reference data: the names Keras's own registries resolve, for Cornu's specs
(`core/spec/keras_registry.json`, read at run time by `cornu.core.spec.registry`).

- `layers`: every class in `keras.layers`, by each name Keras exports it under (aliases
  such as `Convolution2D` or `AvgPool1D` included), with its canonical class name and its
  constructor's arguments and defaults (a default that is not JSON becomes the string
  "<required>" when there is none, or its `repr` otherwise), plus the arguments every
  layer takes from `keras.layers.Layer`.
- `loss_classes`, `metric_classes`: each loss and metric class's constructor arguments
  and their defaults.
- `initializers`, `regularizers`, `constraints`, `activations`, `losses`, `metrics`,
  `optimizers`: each name in the module's `ALL_OBJECTS_DICT` (what `keras.<module>.get`
  resolves, snake_case names and aliases such as `OrthogonalInitializer` included) with
  the class or function name it resolves to.

Regenerate (from the repository root; see generate.py for the venv):
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_registries.py
"""

import importlib
import inspect
import json
import re
from pathlib import Path

from keras_ref import KERAS_VERSION, keras

OUT = Path(__file__).resolve().parents[3] / "core" / "spec" / "keras_registry.json"
MODULES = (
    "initializers",
    "regularizers",
    "constraints",
    "activations",
    "losses",
    "metrics",
    "optimizers",
)


def _default(parameter):
    if parameter.default is inspect.Parameter.empty:
        return "<required>"
    value = parameter.default
    try:
        json.dumps(value)
    except TypeError:
        return repr(value)
    return value


def _signature_arguments(function):
    out = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name != "self" and parameter.kind not in (
            parameter.VAR_KEYWORD,
            parameter.VAR_POSITIONAL,
        ):
            out[name] = _default(parameter)
    return out


def _takes_kwargs(function):
    kinds = [p.kind for p in inspect.signature(function).parameters.values()]
    return inspect.Parameter.VAR_KEYWORD in kinds


def _arguments(cls):
    """The class's own constructor arguments; where it passes `**kwargs` on, its base
    classes' optional ones (`LSTM` → `RNN`'s `zero_output_for_mask`; a base's required
    arguments are the subclass's to give); and the keyword arguments its constructor
    pops from `**kwargs` (`LSTM`'s `implementation`, `Embedding`'s `input_length`, …),
    found in its source."""
    out = {}
    init = cls.__init__
    for klass in cls.__mro__[1:]:
        if not _takes_kwargs(init) or "__init__" not in klass.__dict__ or klass is object:
            continue
        init = klass.__dict__["__init__"]
        optional = _signature_arguments(init)
        out |= {k: v for k, v in optional.items() if v != "<required>"}
    out |= _signature_arguments(cls.__init__)
    try:
        source = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        source = ""
    for popped in re.findall(r'kwargs\.pop\(\s*"(\w+)"', source):
        out.setdefault(popped, "<popped>")
    return out


def gen_registries():
    layers = {}
    for name in sorted(dir(keras.layers)):
        cls = getattr(keras.layers, name)
        if inspect.isclass(cls) and issubclass(cls, keras.layers.Layer):
            layers[name] = {"class": cls.__name__, "args": _arguments(cls)}
    data = {
        "keras_version": KERAS_VERSION,
        "layer_base_args": ["input_dim", "input_shape", "batch_input_shape", "batch_size"],
        "layers": layers,
    }
    for module in MODULES:
        objects = importlib.import_module(f"keras.src.{module}").ALL_OBJECTS_DICT
        data[module] = {key: value.__name__ for key, value in sorted(objects.items())}
    for module in ("losses", "metrics"):  # each class's constructor arguments
        objects = importlib.import_module(f"keras.src.{module}").ALL_OBJECTS_DICT
        data[f"{module[:-1] if module == 'metrics' else 'loss'}_classes"] = {
            value.__name__: _signature_arguments(value.__init__)
            for value in objects.values()
            if inspect.isclass(value)
        }
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    gen_registries()
