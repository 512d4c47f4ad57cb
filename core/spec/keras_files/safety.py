"""What a Keras file may make Cornu read, and what Cornu refuses to read at all.

Limits are explicit and checked before anything is allocated: the size of each zip
member (declared and actually read), of each HDF5 attribute holding JSON, of each weight
and of all weights together, and how many weights. Refused outright, with the reason:
Lambda layers and lambda functions (marshalled Python bytecode), classes from a user's
package (a `module` outside Keras, a `registered_name` like `my_package>MyLayer`), HDF5
links and external or virtual datasets (Keras refuses these too: `saving_lib.py`
`safe_get_h5_group`, `safe_get_h5_dataset`), and any value that is not a plain number
array (object, string or opaque data: nothing is ever unpickled).
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cornu.core.errors import PayloadTooLarge, SpecError
from cornu.core.spec.keras_config import custom_class

MiB = 1 << 20
GiB = 1 << 30

# Classes whose config carries code: Cornu never runs it.
_CODE = {
    "Lambda": "a Lambda layer runs Python code (marshalled bytecode in the file)",
    "TFOpLambda": "a TFOpLambda layer runs TensorFlow ops from Python code",
    "__lambda__": "a Python lambda function is stored as marshalled bytecode",
}


@dataclass(frozen=True)
class Limits:
    """The most a Keras file may make Cornu read; the defaults fit models of ~500M floats."""

    max_file_bytes: int = 4 * GiB  # a `.keras` member, a `.h5` file
    max_config_bytes: int = 32 * MiB  # `config.json`, an `.h5`'s `model_config` attribute
    max_weight_bytes: int = 2 * GiB  # one weight (an HDF5 dataset)
    max_weights_bytes: int = 2 * GiB  # all weights together
    max_weights: int = 100_000  # HDF5 datasets read
    max_zip_members: int = 1_000
    max_zip_expansion: int = 100  # a member's size over its compressed size (Keras: 100)


@dataclass
class Budget:
    """What one read has used of its limits so far."""

    limits: Limits
    bytes: int = 0
    arrays: int = 0
    seen: list[str] = field(default_factory=list)

    def take(self, name: str, size: int) -> None:
        limits = self.limits
        if size > limits.max_weight_bytes:
            raise PayloadTooLarge(
                f"weight {name!r} holds {size} bytes, more than the limit of "
                f"{limits.max_weight_bytes} bytes for one weight"
            )
        self.bytes += size
        self.arrays += 1
        if self.bytes > limits.max_weights_bytes:
            raise PayloadTooLarge(
                f"the weights hold more than {limits.max_weights_bytes} bytes, the limit for "
                "one model"
            )
        if self.arrays > limits.max_weights:
            raise PayloadTooLarge(f"the file holds more than {limits.max_weights} weights")


def refuse_code(config: Any, where: str) -> None:
    """Raise SpecError if a model or compile config holds code or a user's class."""
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        kind = value.get("class_name")
        if isinstance(kind, str):
            if kind in _CODE:
                name = (value.get("config") or {}).get("name")
                what = f" ({name!r})" if isinstance(name, str) else ""
                raise SpecError(
                    f"{where}: {kind}{what} is refused: {_CODE[kind]}, which Cornu never runs; "
                    "build the computation from Keras's built-in layers instead"
                )
            reason = custom_class(value)
            if reason is not None:
                raise SpecError(
                    f"{where}: custom Keras objects are not supported ({reason}); only Keras's "
                    "built-in classes can be used"
                )
        stack.extend(value.values())


def parse_json(text: str | bytes, where: str) -> Any:
    """JSON from a file, as a SpecError if it is not JSON (or nested beyond reason)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SpecError(f"{where} is not valid JSON: {exc}") from None


# -- zip ------------------------------------------------------------------------------------


def zip_member(archive: zipfile.ZipFile, name: str, limit: int, limits: Limits) -> bytes:
    """One member's bytes, refusing a member larger than `limit` or a decompression bomb."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise SpecError(f"the .keras archive has no {name}; it is not a Keras model file") from None
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limit or ratio > limits.max_zip_expansion:
        raise PayloadTooLarge(
            f"{name} declares {info.file_size} bytes ({info.compress_size} stored); the limit "
            f"is {limit} bytes, expanding at most {limits.max_zip_expansion} times"
        )
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"{name} holds more than {limit} bytes")
    return data


# -- HDF5 -----------------------------------------------------------------------------------


def _child(parent: Any, name: str) -> Any:
    """`parent[name]`, refusing soft and external links (which point outside the file)."""
    import h5py

    if name not in parent:
        raise KeyError(name)
    link = parent.get(name, default=None, getclass=True, getlink=True)
    if link in (h5py.ExternalLink, h5py.SoftLink):
        raise SpecError(f"the HDF5 file links {name!r} elsewhere ({link.__name__}); refused")
    return parent[name]


def h5_group(parent: Any, path: str) -> Any:
    """The group at `path` below `parent`; KeyError if absent, SpecError if not a group."""
    import h5py

    current = parent
    for part in path.split("/"):
        current = _child(current, part)
        if not isinstance(current, h5py.Group):
            raise SpecError(f"the HDF5 file's {path!r} is not a group")
    return current


def h5_array(group: Any, name: str, budget: Budget) -> np.ndarray:
    """A dataset's values as a numpy array, after checking what it is and its size."""
    import h5py

    dataset = _child(group, name) if "/" not in name else None
    if dataset is None:
        parent, _, leaf = name.rpartition("/")
        dataset = _child(h5_group(group, parent), leaf)
    if not isinstance(dataset, h5py.Dataset):
        raise SpecError(f"the HDF5 file's {name!r} is not a dataset")
    if dataset.external or dataset.is_virtual:
        raise SpecError(f"the HDF5 dataset {name!r} is stored outside the file; refused")
    if dataset.dtype.kind not in "fiub":
        raise SpecError(
            f"the HDF5 dataset {name!r} holds {dataset.dtype} values, not numbers; refused"
        )
    budget.take(name, math.prod(dataset.shape) * dataset.dtype.itemsize)
    return np.asarray(dataset[()])


def h5_text(obj: Any, name: str, limits: Limits) -> str | None:
    """A string attribute (Keras's JSON), or None if absent; its size is checked first."""
    if name not in obj.attrs:
        return None
    size = obj.attrs.get_id(name).get_storage_size()
    if size > limits.max_config_bytes:
        raise PayloadTooLarge(
            f"the HDF5 attribute {name!r} holds {size} bytes, more than the limit of "
            f"{limits.max_config_bytes}"
        )
    value = obj.attrs[name]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise SpecError(f"the HDF5 attribute {name!r} is not text")
    return value


def h5_names(obj: Any, name: str, limits: Limits) -> list[str]:
    """A list-of-names attribute, joined from Keras's chunks (`weight_names0`, `…1`) when it
    was too large for one (`legacy_h5_format.py` `load_attributes_from_hdf5_group`)."""
    if name in obj.attrs:
        keys = [name]
    else:
        keys = []
        while f"{name}{len(keys)}" in obj.attrs:
            keys.append(f"{name}{len(keys)}")
    names: list[str] = []
    for key in keys:
        if obj.attrs.get_id(key).get_storage_size() > limits.max_config_bytes:
            raise PayloadTooLarge(f"the HDF5 attribute {key!r} is larger than the limit")
        for item in np.asarray(obj.attrs[key]).reshape(-1):
            names.append(item.decode("utf-8") if isinstance(item, bytes) else str(item))
    return names
