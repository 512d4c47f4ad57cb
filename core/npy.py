"""The .npy format, read without pickle: headers parsed from a file's first bytes, and
arrays filled from a stream of its bytes without holding the file twice.

`numpy.save`'s format (versions 1 and 2): magic, version, header length, a Python
literal dict with `descr`, `fortran_order` and `shape`, then the raw data.
"""

from __future__ import annotations

import io
import math
import struct
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from cornu.core.errors import InvalidDataset

MAGIC = b"\x93NUMPY"
MAX_HEADER_BYTES = 64 * 1024
NUMERIC_KINDS = {"b": "bool", "i": "signed integer", "u": "unsigned integer", "f": "float"}


@dataclass(frozen=True)
class NpyHeader:
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    data_offset: int

    @property
    def data_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def file_bytes(self) -> int:
        return self.data_offset + self.data_bytes


def read_header(prefix: bytes) -> NpyHeader | None:
    """Parse a .npy header from the first bytes of a file; None if more bytes are needed.

    Raises InvalidDataset for a file that is not .npy, an unknown version, a header
    longer than MAX_HEADER_BYTES or one numpy cannot read (numpy's own parser, which
    evaluates literals only: no code, no pickle).
    """
    if len(prefix) < 12:
        return None
    if prefix.startswith(b"PK\x03\x04"):
        raise InvalidDataset(
            "the file is a zip archive, not a .npy array: send an .npz archive with "
            "Content-Type: application/x-npz"
        )
    if not prefix.startswith(MAGIC):
        raise InvalidDataset("the file is not a .npy array (save it with numpy.save)")
    major = prefix[6]
    if major == 1:
        (length,), start = struct.unpack("<H", prefix[8:10]), 10
    elif major == 2:
        (length,), start = struct.unpack("<I", prefix[8:12]), 12
    else:
        raise InvalidDataset(f".npy format version {major} is not supported; use numpy.save")
    if length > MAX_HEADER_BYTES:
        raise InvalidDataset(f"the .npy header is {length} bytes; at most {MAX_HEADER_BYTES}")
    if len(prefix) < start + length:
        return None
    stream = io.BytesIO(prefix[8:])
    try:
        if major == 1:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, MAX_HEADER_BYTES)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, MAX_HEADER_BYTES)
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError) as exc:
        # numpy parses the header's dict literal with `tokenize` and `ast.literal_eval`:
        # junk raises any of these.
        raise InvalidDataset(f"the .npy header cannot be read: {exc}") from None
    return NpyHeader(tuple(shape), dtype, bool(fortran), start + length)


def check_array(header: NpyHeader) -> None:
    """A training array: numeric, with a leading sample axis that holds samples and no
    negative extent. Raises InvalidDataset otherwise."""
    dtype = header.dtype
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
        raise InvalidDataset(
            f"arrays of dtype {dtype} cannot be trained on; use a numeric dtype "
            "(bool, integers or floats)"
        )
    if not header.shape:
        raise InvalidDataset("the array is a scalar; it needs a first axis of samples")
    if any(d < 0 for d in header.shape):
        raise InvalidDataset(f"the .npy header gives the shape {header.shape}")
    if header.shape[0] == 0:
        raise InvalidDataset(f"the array of shape {header.shape} holds no samples")


def header_bytes(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    """The header `numpy.save` writes for a C-ordered array of `shape` and `dtype`, so that
    a file streamed from these bytes is byte for byte the file numpy.save would write."""
    fields = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buffer, fields)
    except ValueError:  # a header past 64 KiB needs version 2, as numpy.save picks it
        buffer = io.BytesIO()
        np.lib.format.write_array_header_2_0(buffer, fields)
    return buffer.getvalue()


def array_from_chunks(chunks: Iterable[bytes]) -> np.ndarray:
    """The array a .npy file's bytes hold, filled in place as the bytes arrive (one copy
    of the data in memory). Raises InvalidDataset if the bytes end early or run long."""
    head = bytearray()
    header: NpyHeader | None = None
    array: np.ndarray | None = None
    target = np.empty(0, np.uint8)
    filled = 0
    for chunk in chunks:
        if header is None:
            head += chunk
            header = read_header(bytes(head[: MAX_HEADER_BYTES + 16]))
            if header is None:
                continue
            check_array(header)
            array = np.empty(header.shape, header.dtype, order="F" if header.fortran_order else "C")
            target = array.reshape(-1, order="A").view(np.uint8)  # the array's own memory
            chunk = bytes(head[header.data_offset :])
        end = filled + len(chunk)
        if end > header.data_bytes:
            raise InvalidDataset("the .npy file is longer than its header says")
        target[filled:end] = np.frombuffer(chunk, np.uint8)
        filled = end
    if header is None or array is None:
        raise InvalidDataset("the file is empty or too short to be a .npy array")
    if filled < header.data_bytes:
        raise InvalidDataset(f"the .npy file is truncated: {filled} of {header.data_bytes} bytes")
    return array
