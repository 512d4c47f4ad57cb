"""Resumable uploads: one .npy file sent in bounded parts, checked, and recorded as an
ordinary dataset.

create → the header is checked at once (declared as dtype and shape, or given as the
file's first bytes): numeric dtype, no negative or absurd extent, the file within
`max_dataset_bytes`. parts → each at most `upload_max_part_bytes`, at most
`upload_max_parts`, their total within what the header allows (compressed a little
more); a part sent again replaces the first copy. complete → the backend assembles the
parts into the dataset's object (S3: CompleteMultipartUpload; files: concatenation),
whose bytes are read back through the decoder: the header must be the declared one, the
length what it promises, the SHA-256 the declared one (if any); anything else deletes the
object and ends the upload. An upload left unfinished expires after `upload_ttl_seconds`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import zstandard

from cornu.core.codecs import Encoding, decoded
from cornu.core.config import Settings
from cornu.core.datasets import max_wire_bytes
from cornu.core.errors import Conflict, InvalidDataset, PayloadTooLarge, QuotaExceeded, SpecError
from cornu.core.ids import new_id
from cornu.core.npy import MAX_HEADER_BYTES, NpyHeader, check_array, header_bytes, read_header
from cornu.core.spec import Dataset
from cornu.core.spec.uploads import PartUrl, Upload, UploadPart, UploadRequest
from cornu.core.store import Store, keys
from cornu.core.store.blobstore import BlobInfo, MissingBlob
from cornu.core.store.multipart import Part

S3_MIN_PART_BYTES = 5 * 1024 * 1024  # S3 refuses a smaller part that is not the last
PART_URL_SECONDS = 3600  # how long a presigned part URL is good for
MAX_DIMS = 32
# A ranged read this long holds the header, decoded: zstd hands out whole blocks (at
# most 128 KiB each), and a header is at most MAX_HEADER_BYTES.
HEAD_RANGE_BYTES = 2 * (128 * 1024 + MAX_HEADER_BYTES)  # numpy's own bound on an array's axes


def declared_header(request: UploadRequest) -> NpyHeader:
    """The .npy header a create request declares (its first bytes, or dtype and shape),
    checked as a training array. InvalidDataset for junk, SpecError for a request that
    gives neither or both."""
    if (request.header is None) == (request.dtype is None or request.shape is None):
        raise SpecError(
            "declare the array either as `header` (the .npy file's first bytes, base64) "
            "or as `dtype` and `shape`",
            loc=("header",),
        )
    if request.header is not None:
        try:
            first = base64.b64decode(request.header, validate=True)
        except (binascii.Error, ValueError):
            raise SpecError("`header` is not base64", loc=("header",)) from None
        header = read_header(first[: MAX_HEADER_BYTES + 16])
        if header is None:
            raise InvalidDataset(
                f"`header` holds {len(first)} bytes, too few for the .npy header it starts"
            )
    else:
        assert request.dtype is not None and request.shape is not None
        try:
            dtype = np.dtype(request.dtype)
        except TypeError:
            raise InvalidDataset(f"dtype {request.dtype!r} is not a numpy dtype") from None
        shape = tuple(request.shape)
        if any(d < 0 for d in shape):
            raise InvalidDataset(f"shape {list(shape)} has a negative extent")
        header = NpyHeader(shape, dtype, False, len(header_bytes(shape, dtype)))
    if len(header.shape) > MAX_DIMS:
        raise InvalidDataset(f"the array has {len(header.shape)} axes; at most {MAX_DIMS}")
    check_array(header)
    return header


def create_upload(store: Store, settings: Settings, tenant: str, request: UploadRequest) -> Upload:
    """Start a resumable upload of the .npy file `request` declares; 413 past
    `max_dataset_bytes` (PayloadTooLarge) or the tenant's quota (QuotaExceeded), 422 for
    a header that is not a training array or a size that is not the one it promises."""
    store.uploads.sweep()  # expired uploads go, even with no reaper running
    header = declared_header(request)
    if header.file_bytes > settings.max_dataset_bytes:
        raise PayloadTooLarge(
            f"an array of shape {header.shape} and dtype {header.dtype.name} takes "
            f"{header.file_bytes} bytes as a .npy file; a dataset is limited to "
            f"{settings.max_dataset_bytes} bytes (CORNU_MAX_DATASET_BYTES)"
        )
    if request.bytes != header.file_bytes:
        raise InvalidDataset(
            f"`bytes` is {request.bytes}, but shape {header.shape} and dtype "
            f"{header.dtype.name} make a .npy file of {header.file_bytes} bytes"
        )
    # Its stored size is known at completion (the record checks exactly); an identity
    # upload that cannot fit is refused now, before its first part.
    store.datasets.check_room(tenant, request.bytes if request.encoding == "identity" else 0)
    upload_id = new_id("up")
    dataset_id = new_id("ds")
    key = keys.dataset_object(tenant, dataset_id)
    handle = store.uploads.parts_store.begin(key)
    record = {
        "tenant": tenant,
        "dataset_id": dataset_id,
        "key": key,
        "handle": handle,
        "shape": list(header.shape),
        "dtype": header.dtype.str,
        "fortran_order": header.fortran_order,
        "bytes": header.file_bytes,
        "encoding": request.encoding,
        "sha256": request.sha256,
    }
    expires_at = time.time() + settings.upload_ttl_seconds
    try:
        store.uploads.create(upload_id, record, expires_at)
    except BaseException:
        store.uploads.parts_store.abort(key, handle)
        raise
    return describe(store, settings, upload_id, {**record, "expires_at": expires_at}, [])


def describe(
    store: Store, settings: Settings, upload_id: str, record: dict[str, Any], parts: list[Part]
) -> Upload:
    """The upload as the API answers it."""
    direct = store.uploads.parts_store.direct and settings.upload_presign
    return Upload(
        id=upload_id,
        shape=record["shape"],
        dtype=np.dtype(record["dtype"]).name,
        bytes=record["bytes"],
        encoding=record["encoding"],
        expires_at=record["expires_at"],
        direct=direct,
        min_part_bytes=min_part_bytes(settings),
        max_part_bytes=settings.upload_max_part_bytes,
        max_parts=settings.upload_max_parts,
        max_total_bytes=max_wire_bytes(record["bytes"]),
        parts=[
            UploadPart(number=p.number, bytes=p.bytes, etag=p.etag, sha256=p.sha256) for p in parts
        ],
    )


def min_part_bytes(settings: Settings) -> int:
    return max(settings.upload_min_part_bytes, S3_MIN_PART_BYTES)


def stored_parts(store: Store, upload_id: str, record: dict[str, Any]) -> list[Part]:
    """The parts the backend holds: listed by S3 (the client sent them there), else as
    the API recorded them."""
    parts_store = store.uploads.parts_store
    if parts_store.direct:
        try:
            return parts_store.parts(record["key"], record["handle"])
        except MissingBlob:
            raise Conflict(f"upload {upload_id!r} has no parts any more; start again") from None
    return store.uploads.recorded_parts(upload_id)


def get_upload(store: Store, settings: Settings, tenant: str, upload_id: str) -> Upload:
    """The tenant's upload and the parts stored so far (what a client resumes from)."""
    record = store.uploads.get(tenant, upload_id)
    return describe(store, settings, upload_id, record, stored_parts(store, upload_id, record))


def _check_part_number(settings: Settings, number: int) -> None:
    if number < 1:
        raise SpecError(f"part numbers start at 1; got {number}", loc=("number",))
    if number > settings.upload_max_parts:
        raise PayloadTooLarge(
            f"part {number}: an upload has at most {settings.upload_max_parts} parts; "
            "send larger parts"
        )


def put_part(
    store: Store,
    settings: Settings,
    tenant: str,
    upload_id: str,
    number: int,
    chunks: Iterable[bytes],
) -> UploadPart:
    """Store part `number` (replacing an earlier copy) from the request body's chunks.
    413 past the part size, the part count or the upload's total; an interrupted body
    stores nothing."""
    record = store.uploads.get(tenant, upload_id)
    _check_part_number(settings, number)
    if record["status"] != "open":
        raise Conflict(f"upload {upload_id!r} is being completed; no more parts")
    others = sum(p.bytes for p in store.uploads.recorded_parts(upload_id) if p.number != number)
    room = min(settings.upload_max_part_bytes, max_wire_bytes(record["bytes"]) - others)

    def bounded() -> Iterator[bytes]:
        received = 0
        for chunk in chunks:
            received += len(chunk)
            if received > settings.upload_max_part_bytes:
                raise PayloadTooLarge(
                    f"part {number} is larger than {settings.upload_max_part_bytes} bytes, "
                    "the most one part may hold"
                )
            if received > room:
                raise PayloadTooLarge(
                    f"part {number} takes the upload past {max_wire_bytes(record['bytes'])} "
                    f"bytes, the most a .npy file of {record['bytes']} bytes may take"
                )
            yield chunk

    try:
        part = store.uploads.parts_store.put(record["key"], record["handle"], number, bounded())
    except MissingBlob:
        raise Conflict(f"upload {upload_id!r} has no parts any more; start again") from None
    if part.bytes == 0:
        raise InvalidDataset(f"part {number} is empty")
    store.uploads.record_part(upload_id, part)
    return UploadPart(number=part.number, bytes=part.bytes, etag=part.etag, sha256=part.sha256)


def part_url(store: Store, settings: Settings, tenant: str, upload_id: str, number: int) -> PartUrl:
    """A presigned URL to PUT part `number` to, straight to the object store (S3)."""
    record = store.uploads.get(tenant, upload_id)
    _check_part_number(settings, number)
    if not (store.uploads.parts_store.direct and settings.upload_presign):
        raise Conflict(
            "this service's blob store takes parts through the API: PUT them to "
            f"/v1/uploads/{upload_id}/parts/{number}"
        )
    url = store.uploads.parts_store.part_url(
        record["key"], record["handle"], number, PART_URL_SECONDS, settings.s3_public_endpoint
    )
    return PartUrl(number=number, url=url, expires_at=time.time() + PART_URL_SECONDS)


def _check_parts(settings: Settings, record: dict[str, Any], parts: list[Part]) -> None:
    """The parts make a whole upload: numbered 1..n, each within bounds, all but the last
    at least the store's minimum, the total within what the header allows."""
    if not parts:
        raise InvalidDataset("the upload has no parts; send them before completing it")
    numbers = [p.number for p in parts]
    missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
    if missing:
        raise InvalidDataset(f"parts {missing[:10]} are missing; send them, then complete")
    if len(parts) > settings.upload_max_parts:
        raise PayloadTooLarge(
            f"{len(parts)} parts; an upload has at most {settings.upload_max_parts}"
        )
    for part in parts:
        if part.bytes > settings.upload_max_part_bytes:
            raise PayloadTooLarge(
                f"part {part.number} holds {part.bytes} bytes; a part holds at most "
                f"{settings.upload_max_part_bytes}: send it again, smaller"
            )
    for part in parts[:-1]:
        if part.bytes < min_part_bytes(settings):
            raise InvalidDataset(
                f"part {part.number} holds {part.bytes} bytes; every part but the last "
                f"holds at least {min_part_bytes(settings)}"
            )
    total, limit = sum(p.bytes for p in parts), max_wire_bytes(record["bytes"])
    if total > limit:
        raise PayloadTooLarge(
            f"the parts hold {total} bytes; a .npy file of {record['bytes']} bytes takes at "
            f"most {limit}"
        )


class _Verify:
    """Follows the assembled (wire) bytes: decodes them and checks the .npy file against
    the declared header, its length, and the SHA-256s of both."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.wire = hashlib.sha256()
        self.wire_bytes = 0
        self.npy = hashlib.sha256()
        self.npy_bytes = 0
        self.head = b""
        self.header: NpyHeader | None = None

    def wire_chunks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.wire.update(chunk)
            self.wire_bytes += len(chunk)
            yield chunk

    def run(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The wire chunks, passed on once the decoded bytes before them are checked."""
        pending: list[bytes] = []

        def read() -> Iterator[bytes]:
            for chunk in self.wire_chunks(chunks):
                pending.append(chunk)
                yield chunk

        for piece in decoded(read(), self.record["encoding"]):
            self.feed(piece)
            yield from pending
            pending.clear()
        yield from pending
        self.finish()

    def feed(self, piece: bytes) -> None:
        self.npy.update(piece)
        self.npy_bytes += len(piece)
        if self.header is None:
            self.head += piece
            self.header = read_header(self.head[: MAX_HEADER_BYTES + 16])
            if self.header is None:
                if len(self.head) > MAX_HEADER_BYTES + 16:
                    raise InvalidDataset("the assembled file does not start with a .npy header")
                return
            self.head = b""
            check_header(self.record, self.header)
        if self.npy_bytes > self.record["bytes"]:
            raise InvalidDataset(
                "the assembled .npy file is longer than its header says "
                f"({self.record['bytes']} bytes)"
            )

    def finish(self) -> None:
        if self.header is None:
            raise InvalidDataset("the assembled file is too short to be a .npy array")
        if self.npy_bytes != self.record["bytes"]:
            raise InvalidDataset(
                f"the assembled .npy file holds {self.npy_bytes} bytes; its header "
                f"promises {self.record['bytes']}: a part is missing or truncated"
            )
        declared = self.record.get("sha256")
        if declared and declared != self.npy.hexdigest():
            raise InvalidDataset(
                f"the assembled .npy file's SHA-256 is {self.npy.hexdigest()}, not the "
                f"declared {declared}: a part was corrupted or sent in the wrong place"
            )


def check_header(record: dict[str, Any], header: NpyHeader) -> None:
    """The file's own header is the one the upload declared."""
    want = (tuple(record["shape"]), np.dtype(record["dtype"]), record["fortran_order"])
    got = (header.shape, header.dtype, header.fortran_order)
    if got != want:
        raise InvalidDataset(
            f"the uploaded file's header gives shape {header.shape}, dtype "
            f"{header.dtype.name} (fortran_order {header.fortran_order}); the upload "
            f"declared shape {want[0]}, dtype {want[1].name} (fortran_order {want[2]})"
        )


def _first_bytes(store: Store, key: str, encoding: Encoding) -> NpyHeader:
    """The assembled object's header, from a ranged read of its first bytes (decoded as
    far as they go: a cut stream decodes to a prefix)."""
    raw = store.blobs.store.head(key, HEAD_RANGE_BYTES)
    try:
        if encoding == "zstd":
            head = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
        elif encoding == "gzip":
            head = zlib.decompressobj(wbits=31).decompress(raw, MAX_HEADER_BYTES + 16)
        else:
            head = raw
    except (zlib.error, zstandard.ZstdError) as exc:
        raise InvalidDataset(f"the assembled bytes are not valid {encoding} data: {exc}") from None
    header = read_header(head[: MAX_HEADER_BYTES + 16])
    if header is None:
        raise InvalidDataset("the assembled file does not start with a .npy header")
    return header


def complete_upload(
    store: Store,
    settings: Settings,
    tenant: str,
    upload_id: str,
    expected: list[UploadPart] | None = None,
) -> Dataset:
    """Assemble the parts into the dataset's object, check it, and record the dataset.
    `expected` (optional) are the parts the client sent: their numbers and ETags must be
    the stored ones. A problem with the parts (missing, too small, too large) leaves the
    upload open to fix; a file that fails its checks is deleted with the upload."""
    record = store.uploads.get(tenant, upload_id)
    # Past the quota already: refused while the upload stays open (free room, complete
    # again); `record` checks exactly, and past it the upload goes.
    store.datasets.check_room(tenant, record["bytes"] if record["encoding"] == "identity" else 0)
    store.uploads.claim(upload_id, "open", "completing")
    try:
        parts = stored_parts(store, upload_id, record)
        _check_parts(settings, record, parts)
        if expected is not None:
            _compare(parts, expected)
    except BaseException:
        store.uploads.claim(upload_id, "completing", "open")
        raise
    key, parts_store = record["key"], store.uploads.parts_store
    verify = _Verify(record)
    store.blobs.begin(key)  # an API killed from here on leaves an object the reaper deletes
    try:
        assembled = parts_store.assemble(key, record["handle"], parts)
        if assembled is not None:  # files: written as the check reads them
            blob = store.blobs.write(key, verify.run(assembled))
        else:  # S3: the header from a ranged read first, then every byte
            check_header(record, _first_bytes(store, key, record["encoding"]))
            for _ in verify.run(store.blobs.store.chunks(key)):
                pass
            blob = BlobInfo(key, verify.wire_bytes, verify.wire.hexdigest())
    except (InvalidDataset, MissingBlob) as exc:
        store.blobs.store.delete(key)
        store.uploads.discard(upload_id, record)
        if isinstance(exc, MissingBlob):
            raise Conflict(f"upload {upload_id!r} lost its parts; start again") from None
        raise
    except BaseException:  # the store away: the client may complete again
        store.uploads.claim(upload_id, "completing", "open")
        raise
    assert verify.header is not None
    dataset = Dataset(
        id=record["dataset_id"],
        shape=list(verify.header.shape),
        dtype=verify.header.dtype.name,
        bytes=verify.npy_bytes,
        sha256=verify.npy.hexdigest(),
    )
    try:
        store.datasets.record(tenant, dataset, record["encoding"], blob)
    except QuotaExceeded:  # its object is gone: so is the upload
        store.uploads.discard(upload_id, record)
        raise
    store.uploads.discard(upload_id, record)
    return dataset


def _compare(parts: list[Part], expected: list[UploadPart]) -> None:
    stored = {p.number: p for p in parts}
    wanted = {p.number: p for p in expected}
    if set(stored) != set(wanted):
        raise InvalidDataset(
            f"the service holds parts {sorted(stored)[:20]}; the request lists "
            f"{sorted(wanted)[:20]}"
        )
    for number, part in wanted.items():
        if part.etag.strip('"') != stored[number].etag.strip('"'):
            raise InvalidDataset(
                f"part {number}: the service holds ETag {stored[number].etag}, not "
                f"{part.etag}; send the part again"
            )


def abort_upload(store: Store, tenant: str, upload_id: str) -> None:
    """End the upload and delete its parts."""
    record = store.uploads.get(tenant, upload_id)
    store.uploads.claim(upload_id, "open", "aborting")
    store.uploads.discard(upload_id, record)
