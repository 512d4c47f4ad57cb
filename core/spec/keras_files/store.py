"""Keras 3's weights file (`model.weights.h5` inside a `.keras`, or `model.save_weights`'s
`.weights.h5`): the layout of `saving_lib.py`'s `H5IOStore`.

```
layers/<class>[_<n>]/vars/<i>            a layer's own variables (`vars` attrs: name)
layers/lstm/cell/vars/<i>                a sublayer's: an RNN's cell, a wrapper's layers …
optimizer/vars/<i>                       the optimizer's (only for a compiled model)
vars                                     the model's own (none), attrs: name
```
Datasets are plain (contiguous, uncompressed), named by position; every layer's and
sublayer's `vars` group exists, empty or not, because Keras writes it with the object's
name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec.keras_files.layout import LayerLayout
from cornu.core.spec.keras_files.safety import Budget, h5_array, h5_group


def vars_path(layout: LayerLayout, path: str) -> str:
    return "/".join(p for p in (layout.group, path, "vars") if p)


def checked_weights(
    layouts: Sequence[LayerLayout], weights: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The weights as numpy arrays, after checking they are exactly the model's.

    Raises SpecError naming every missing weight, every extra one, and every value that
    is not an array of numbers.
    """
    expected = [w for layout in layouts for w in layout.weights]
    problems = [
        ErrorItem(("weights", w), f"{w!r} is missing") for w in expected if w not in weights
    ]
    names = set(expected)
    problems += [
        ErrorItem(
            ("weights", w),
            f"{w!r} is not a weight of this model (its weights: {', '.join(expected) or 'none'})",
        )
        for w in weights
        if w not in names
    ]
    arrays = {}
    for w in expected:
        if w in weights:
            array = np.asarray(weights[w])
            if array.dtype.kind not in "fiub":
                problems.append(
                    ErrorItem(("weights", w), f"{w!r} holds {array.dtype}, not numbers")
                )
            arrays[w] = array
    if problems:
        raise SpecError(problems)
    return arrays


def write_store(
    h5: Any,
    layouts: Sequence[LayerLayout],
    weights: Mapping[str, np.ndarray],
    model_name: str,
    optimizer: tuple[str, Sequence[np.ndarray]] | None = None,
) -> None:
    """Write every layer's variables into an open, empty `h5py.File`; `optimizer` is the
    optimizer's name and variables, for a compiled model."""
    for layout in layouts:
        for saveable in layout.saveables:
            group = h5.create_group(vars_path(layout, saveable.path))
            group.attrs["name"] = saveable.name
            for i, weight in enumerate(saveable.weights):
                full = f"{layout.name}/{weight}"
                group[str(i)] = layout.keras_value(full, weights[full])
    if optimizer is not None:
        name, variables = optimizer
        group = h5.create_group("optimizer/vars")
        group.attrs["name"] = name
        for i, value in enumerate(variables):
            group[str(i)] = value
    h5.create_group("vars").attrs["name"] = model_name


def read_store(h5: Any, layouts: Sequence[LayerLayout], budget: Budget) -> dict[str, np.ndarray]:
    """Every weight of the layouts' model from an open `h5py.File`, in `get_weights()` order.

    Weights are found by path, as Keras loads them; raises SpecError when a layer's
    variables are missing or not as many as the layer has.
    """
    found: dict[str, np.ndarray] = {}
    for layout in layouts:
        for saveable in layout.saveables:
            if not saveable.weights:
                continue
            path = vars_path(layout, saveable.path)
            if "layers" not in h5 and "_layer_checkpoint_dependencies" in h5:
                # Keras 2.13 named the container so (`H5IOStore.get` reads it too)
                path = path.replace("layers", "_layer_checkpoint_dependencies", 1)
            try:
                group = h5_group(h5, path)
            except KeyError:
                raise SpecError(
                    f"layer {layout.name!r}: the file has no weights at {path!r}; it was "
                    "saved from another model"
                ) from None
            if len(group) != len(saveable.weights):
                raise SpecError(
                    f"layer {layout.name!r}: the file holds {len(group)} weights at {path!r}, "
                    f"the model has {len(saveable.weights)} there ({', '.join(saveable.weights)})"
                )
            for i, weight in enumerate(saveable.weights):
                found[f"{layout.name}/{weight}"] = h5_array(group, str(i), budget)
    return {w: found[w] for layout in layouts for w in layout.weights}
