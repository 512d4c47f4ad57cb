"""Reading the pickles inside Keras's data files without running what a pickle asks for.

CIFAR's batches are pickled dicts, and IMDB's and Reuters' `.npz` members are object
arrays (ragged lists of word indices), which numpy can store only as pickles. A plain
`pickle.load` (or `np.load(..., allow_pickle=True)`, what Keras 2 used) calls whatever
importable function a file names, so a tampered file in a cache, on a mirror or behind a
proxy would run code on the user's machine. These files need numpy's array
reconstruction and nothing else (lists, dicts, strings, bytes and ints are pickle opcodes,
not globals): every other global is refused, as Keras 3.15's `npz_utils` does.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import IO, Any

import numpy as np

# numpy's `multiarray._reconstruct`, taken from an array rather than imported from a
# private module that numpy 2 renamed (`numpy.core` → `numpy._core`).
_RECONSTRUCT = np.empty(0).__reduce__()[0]

#: The only globals a data file may name, and what each resolves to.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # files written by numpy < 2
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # numpy >= 2
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays, dicts, lists, strings and numbers, and
    refuses every other global with `pickle.UnpicklingError` naming it and the file."""

    def __init__(self, file: IO[bytes], *, source: str, encoding: str = "ASCII") -> None:
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"{self.source}: refusing to unpickle `{module}.{name}`; Keras's data files "
                "need only numpy's array reconstruction (numpy.ndarray, numpy.dtype, "
                "multiarray._reconstruct). The file may be corrupted or malicious: delete "
                "it to download it again."
            ) from None


def load_pickle(path: str, *, encoding: str = "ASCII") -> Any:
    """The object pickled in `path`, read with `RestrictedUnpickler`."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, source=path, encoding=encoding).load()


def load_npz(path: str) -> dict[str, np.ndarray]:
    """Every `.npy` member of the archive at `path`, by name without `.npy`.

    Numeric arrays are read with pickling disabled; object arrays through
    `RestrictedUnpickler` (with `np.load`'s default ASCII encoding). A drop-in for
    `dict(np.load(path, allow_pickle=True))` that cannot run code.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    buffer = io.BytesIO(raw.read())
                arrays[member[: -len(".npy")]] = _read_npy(buffer, f"{path}:{member}")
    return arrays


def _read_npy(fp: io.BytesIO, source: str) -> np.ndarray:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        dtype = np.lib.format.read_array_header_1_0(fp)[2]
    elif version in ((2, 0), (3, 0)):
        # Format 3.0 differs from 2.0 only by a UTF-8 header, read alike for these files.
        dtype = np.lib.format.read_array_header_2_0(fp)[2]
    else:
        raise ValueError(f"{source}: unsupported .npy format version {version}")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    array = RestrictedUnpickler(fp, source=source).load()
    if not isinstance(array, np.ndarray):
        raise pickle.UnpicklingError(
            f"{source}: expected a pickled array, found {type(array).__name__}"
        )
    return array
