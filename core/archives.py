"""Uploading an `.npz` archive (numpy.savez, savez_compressed): several named arrays in
one upload, each stored as a dataset of its own — the arrays of a multi-input or
multi-output model, referenced in a job by their names (`data.x = {name: id}`).

A zip names its members' sizes only in its central directory, at its end, so the body
is spooled (to disk past a few MB) and bounded as it arrives. Then, before a member's
data is read, the directory is checked: at most `max_arrays` members, each a `<name>.npy`,
stored or deflated, their declared sizes summing to at most `max_bytes` (what one .npy
upload may hold: a zip bomb is refused from its headers). Each member's .npy header is
read from its first bytes and must promise exactly the member's size; numeric dtypes
only, so nothing is unpickled. Members are stored zstd-compressed and checked again as
they are stored, as a .npy upload is (`core.datasets`).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

import zstandard

from cornu.core.codecs import Encoding, decoded
from cornu.core.datasets import bounded_wire, max_wire_bytes, store_npy
from cornu.core.errors import InvalidDataset, PayloadTooLarge
from cornu.core.npy import MAX_HEADER_BYTES, NpyHeader, check_array, read_header
from cornu.core.spec import Dataset, DatasetArchive
from cornu.core.store import Store
from cornu.core.store.blobs import CHUNK_BYTES

IDEMPOTENCY_SCOPE = "dataset-archives"
NPZ_MEDIA_TYPE = "application/x-npz"
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
_ZSTD_LEVEL = 3
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# What zipfile, zlib and a lying header raise while a member is read.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError)


@dataclass(frozen=True)
class Member:
    """One array of the archive: its name (the member's, less `.npy`) and .npy header."""

    name: str
    info: zipfile.ZipInfo
    header: NpyHeader


def upload_archive(
    store: Store,
    tenant: str,
    source: BinaryIO | Iterable[bytes],
    max_bytes: int,
    max_arrays: int,
    *,
    encoding: Encoding = "identity",
    idempotency_key: str | None = None,
) -> tuple[DatasetArchive, bool]:
    """Check and store each array of the .npz archive read from `source` (a file, or the
    body's chunks) in `encoding`: the datasets by name, and whether they are new. With
    an `idempotency_key` already used for the same archive, the first upload's come back."""
    chunks = iter(lambda: source.read(CHUNK_BYTES), b"") if hasattr(source, "read") else source
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY_BYTES) as spool:
        digest = _spool(chunks, encoding, spool, max_bytes)
        archive = _store_members(store, tenant, spool, max_bytes, max_arrays)
    if idempotency_key is None:
        return archive, True
    ours = json.dumps({name: d.id for name, d in archive.datasets.items()})
    try:
        answer = store.idempotency.record(tenant, IDEMPOTENCY_SCOPE, idempotency_key, digest, ours)
    except BaseException:
        _delete(store, archive.datasets.values())
        raise
    if answer == ours:
        return archive, True
    _delete(store, archive.datasets.values())
    first = {name: store.datasets.get(tenant, i) for name, i in json.loads(answer).items()}
    return DatasetArchive(datasets=first), False


def _spool(chunks: Iterable[bytes], encoding: Encoding, spool: IO[bytes], max_bytes: int) -> str:
    """Write the decoded archive into `spool`, bounded on the wire and decoded; its SHA-256."""
    limit = max_wire_bytes(max_bytes)  # a zip adds its directories to what its members hold
    written = 0
    digest = hashlib.sha256()
    for piece in decoded(bounded_wire(chunks, max_bytes), encoding):
        written += len(piece)
        if written > limit:
            raise PayloadTooLarge(f"the .npz archive is larger than {limit} bytes")
        digest.update(piece)
        spool.write(piece)
    spool.seek(0)
    return digest.hexdigest()


def _store_members(
    store: Store, tenant: str, spool: IO[bytes], max_bytes: int, max_arrays: int
) -> DatasetArchive:
    stored: dict[str, Dataset] = {}
    try:
        with _open(spool) as archive:
            for member in members(archive, max_bytes, max_arrays):
                wire = _zstd(_member_bytes(archive, member))
                stored[member.name] = store_npy(store, tenant, wire, "zstd", member.info.file_size)
    except BaseException:
        _delete(store, stored.values())
        raise
    return DatasetArchive(datasets=stored)


def _open(spool: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(spool)
    except _ZIP_ERRORS as exc:
        raise InvalidDataset(
            f"the body is not an .npz archive ({exc}); save the arrays with numpy.savez or "
            "numpy.savez_compressed, or send one array as .npy (application/octet-stream)"
        ) from None


def members(archive: zipfile.ZipFile, max_bytes: int, max_arrays: int) -> list[Member]:
    """The archive's arrays, checked from the zip's directory and each member's first
    bytes before any data is read. InvalidDataset or PayloadTooLarge otherwise."""
    infos = archive.infolist()
    if not infos:
        raise InvalidDataset("the .npz archive holds no arrays")
    if len(infos) > max_arrays:
        raise PayloadTooLarge(
            f"the .npz archive holds {len(infos)} members; at most {max_arrays} arrays "
            "per archive (CORNU_MAX_ARCHIVE_ARRAYS)"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > max_bytes:
            raise PayloadTooLarge(
                f"the arrays of the .npz archive take more than {max_bytes} bytes "
                f"(reached at member {info.filename!r}, {info.file_size} bytes); uploads "
                f"are limited to {max_bytes} bytes"
            )
    found: list[Member] = []
    for info in infos:
        name = _name(info, {m.name for m in found})
        found.append(Member(name, info, _header(archive, info, name)))
    return found


def _name(info: zipfile.ZipInfo, taken: set[str]) -> str:
    where = f"member {info.filename!r} of the .npz archive"
    name = info.filename.removesuffix(".npy")
    if info.is_dir() or not info.filename.endswith(".npy") or not name:
        raise InvalidDataset(f"{where} is not an array: an .npz holds `<name>.npy` files")
    if not name.isprintable() or any(c in name for c in "/\\") or len(name) > 200:
        raise InvalidDataset(f"{where}: an array's name is printable, without / or \\")
    if name in taken:
        raise InvalidDataset(f"{where} appears twice; each array's name is unique")
    if info.flag_bits & 0x1:
        raise InvalidDataset(f"{where} is encrypted; encrypted archives are not supported")
    if info.compress_type not in _METHODS:
        raise InvalidDataset(
            f"{where} is compressed with zip method {info.compress_type}; numpy.savez "
            "(stored) and numpy.savez_compressed (deflated) are supported"
        )
    return name


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> NpyHeader:
    """The member's .npy header, read from its first bytes; it must promise the member's
    size exactly (a member whose data is longer is cut there by zipfile and refused)."""
    try:
        with archive.open(info) as member:
            head = member.read(min(info.file_size, MAX_HEADER_BYTES + 16))
        header = read_header(head)
        if header is None:
            raise InvalidDataset("the file is too short to be a .npy array")
        check_array(header)
    except _ZIP_ERRORS as exc:
        raise InvalidDataset(f"array {name!r} of the .npz archive cannot be read: {exc}") from None
    except InvalidDataset as exc:
        raise InvalidDataset(f"array {name!r} of the .npz archive: {exc.detail}") from None
    if header.file_bytes != info.file_size:
        raise InvalidDataset(
            f"array {name!r} of the .npz archive: its .npy header (shape {header.shape}, "
            f"dtype {header.dtype.name}) takes {header.file_bytes} bytes, but the archive "
            f"says the member holds {info.file_size}"
        )
    return header


def _member_bytes(archive: zipfile.ZipFile, member: Member) -> Iterator[bytes]:
    """The member's decoded bytes; zipfile stops at the declared size and checks the CRC."""
    try:
        with archive.open(member.info) as data:
            while chunk := data.read(CHUNK_BYTES):
                yield chunk
    except _ZIP_ERRORS as exc:
        raise InvalidDataset(
            f"array {member.name!r} of the .npz archive cannot be read: {exc}"
        ) from None


def _zstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks as one zstd frame: members are stored compressed, as the SDK sends."""
    compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compressobj()
    for chunk in chunks:
        if piece := compressor.compress(chunk):
            yield piece
    yield compressor.flush()


def _delete(store: Store, datasets: Iterable[Dataset]) -> None:
    for dataset in list(datasets):
        store.datasets.delete(dataset.id)
