"""IntegerLookup's state in Keras's files (`keras/src/layers/preprocessing/index_lookup.py`
`save_own_variables`, `save_assets` and their `load_*`, Keras 3.15).

Keras keeps a vocabulary given to the constructor in the config. An adapted layer's
config says `vocabulary: null`; its vocabulary, special tokens first, is the asset
`assets/<layer's path>/vocabulary.txt`, one token a line. A "tf_idf" layer also stores
its IDF weights, padded as `set_vocabulary` pads them, as the dataset
`<layer's path>/vars/idf_weights` of `model.weights.h5`, which its `load_own_variables`
requires (whether the vocabulary is in the config or an asset).

Cornu's spec always holds the vocabulary, so Cornu writes it in the config, which Keras
loads as a given vocabulary, and writes `vars/idf_weights` for "tf_idf" as Keras does.
Reading Keras's files, an asset's vocabulary (and the stored IDF weights) become the
layer's `vocabulary` (and `idf_weights`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from cornu.core.errors import SpecError
from cornu.core.spec.keras_files.layout import LayerLayout
from cornu.core.spec.keras_files.safety import Budget, Limits, h5_array, h5_group, zip_member
from cornu.core.spec.model import FunctionalSpec, SequentialSpec

VOCABULARY = "vocabulary.txt"
IDF = "idf_weights"
Spec = SequentialSpec | FunctionalSpec


def _lookups(spec: Spec, layouts: Sequence[LayerLayout]) -> Iterator[tuple[LayerLayout, Any]]:
    """Each IntegerLookup of the model with its place in the files."""
    named = dict(
        spec.named_layers()
        if isinstance(spec, SequentialSpec)
        else ((n.name, n.layer) for n in spec.layers if n.layer is not None)
    )
    for layout in layouts:
        layer = named.get(layout.name)
        if layer is not None and layer.type == "IntegerLookup":
            yield layout, layer


def _vars(layout: LayerLayout) -> str:
    return f"{layout.group}/vars"


def write_lookup_state(h5: Any, spec: Spec, layouts: Sequence[LayerLayout]) -> None:
    """Write each "tf_idf" IntegerLookup's `vars/idf_weights` (float32, padded) into the
    `model.weights.h5` that `store.write_store` wrote."""
    for layout, layer in _lookups(spec, layouts):
        if layer.output_mode == "tf_idf" and layer.idf is not None:
            h5[_vars(layout)][IDF] = np.asarray(layer.idf, dtype=np.float32)


def _asset_vocabulary(archive: zipfile.ZipFile, layout: LayerLayout, limits: Limits) -> list[int]:
    """An adapted layer's `vocabulary.txt`, parsed as `load_assets` parses it."""
    name = f"assets/{layout.group}/{VOCABULARY}"
    if name not in archive.namelist():
        raise SpecError(
            f"layer {layout.name!r} (IntegerLookup): its config has no vocabulary and the "
            f"archive has no {name}; adapt the layer (or give it a vocabulary) before saving"
        )
    lines = zip_member(archive, name, limits.max_config_bytes, limits).decode().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    try:
        return [int(line) for line in lines]
    except ValueError:
        raise SpecError(
            f"{name}: the vocabulary is not integers; Cornu's datasets are numeric arrays, "
            "so string vocabularies (StringLookup) are not supported"
        ) from None


def _stored_idf(h5: Any, layout: LayerLayout, budget: Budget) -> np.ndarray | None:
    try:
        group = h5_group(h5, _vars(layout))
    except KeyError:
        return None
    return h5_array(group, IDF, budget) if IDF in group else None


def _same(stored: np.ndarray, idf: list[float] | None) -> bool:
    """Whether the stored weights are those the config implies (in float32, as Keras
    keeps them)."""
    ours = np.asarray(idf if idf is not None else [], dtype=np.float32)
    return bool(np.array_equal(np.asarray(stored, dtype=np.float32).reshape(-1), ours))


def _layer_data(model: dict[str, Any], spec: Spec) -> dict[str, dict[str, Any]]:
    """The layers of a native spec's data by name (the same objects, to update)."""
    if isinstance(spec, SequentialSpec):
        stack = [layer for layer in model["layers"] if layer.get("type") != "Input"]
        return {name: data for (name, _), data in zip(spec.named_layers(), stack, strict=True)}
    # a node holds its layer's arguments itself (Keras's form) or under "layer"
    return {node["name"]: node.get("layer") or node for node in model["layers"]}


def read_lookup_state(
    model: dict[str, Any],
    spec: Spec,
    layouts: Sequence[LayerLayout],
    archive: zipfile.ZipFile,
    h5: Any,
    budget: Budget,
) -> bool:
    """Give each IntegerLookup of `model` (native spec data, updated in place) the
    vocabulary and IDF weights the file holds for it; True when any changed."""
    changed = False
    data = _layer_data(model, spec)
    for layout, layer in _lookups(spec, layouts):
        tf_idf = layer.output_mode == "tf_idf"
        stored = _stored_idf(h5, layout, budget) if tf_idf else None
        if layer.vocabulary is not None and (stored is None or _same(stored, layer.idf)):
            continue  # the config's vocabulary, the weights it implies
        if tf_idf and stored is None:
            raise SpecError(
                f"layer {layout.name!r} (IntegerLookup, tf_idf): the file has no "
                f"{_vars(layout)}/{IDF}, which Keras requires"
            )
        if layer.vocabulary is None:
            vocabulary = _asset_vocabulary(archive, layout, limits=budget.limits)
        else:  # stored weights that differ from the config's: the full vocabulary's
            vocabulary = [*layer.special_tokens, *(layer.tokens or [])]
        update: dict[str, Any] = {"vocabulary": vocabulary}
        if stored is not None:
            stored = np.asarray(stored, dtype=np.float64).reshape(-1)
            extra = stored[len(vocabulary) :]
            if len(stored) < len(vocabulary) or np.any(extra != 0):
                raise SpecError(
                    f"layer {layout.name!r} (IntegerLookup): {_vars(layout)}/{IDF} holds "
                    f"{len(stored)} weights for a vocabulary of {len(vocabulary)} (Keras "
                    "pads them with zeros only up to max_tokens)"
                )
            update[IDF] = stored[: len(vocabulary)].tolist()
        data[layout.name].update(update)
        changed = True
    return changed
