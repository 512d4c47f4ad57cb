"""Content codings of uploaded bytes (HTTP's Content-Encoding): identity, gzip, zstd.

A dataset keeps the coding it arrived in; its bytes are decoded where they are read,
at most PIECE_BYTES at a time, so a small compressed body never expands into memory at
once (a decompression bomb stops at the size the .npy header promised).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Literal, cast

import zstandard

from cornu.core.errors import InvalidDataset

Encoding = Literal["identity", "gzip", "zstd"]
ENCODINGS: tuple[Encoding, ...] = ("identity", "gzip", "zstd")
PIECE_BYTES = 1024 * 1024  # most decoded bytes handed on at once


def encoding_of(header: str | None) -> Encoding:
    """The coding a Content-Encoding header names; InvalidDataset for any other."""
    value = (header or "identity").strip().lower()
    for encoding in ENCODINGS:
        if value == encoding:
            return encoding
    raise InvalidDataset(
        f"Content-Encoding {header!r} is not supported; use one of {', '.join(ENCODINGS)}"
    )


class _Reader(io.RawIOBase):
    """A readable file over an iterator of chunks (what zstandard reads from)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = memoryview(chunk)
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def decoded(chunks: Iterable[bytes], encoding: Encoding) -> Iterator[bytes]:
    """The decoded bytes of `chunks`, in pieces of at most PIECE_BYTES (identity: the
    chunks as they are). Raises InvalidDataset for bytes that are not valid `encoding`."""
    try:
        if encoding == "identity":
            yield from chunks
        elif encoding == "gzip":
            yield from _gunzip(chunks)
        else:
            dctx = zstandard.ZstdDecompressor()
            with dctx.stream_reader(
                cast(IO[bytes], _Reader(chunks)), read_across_frames=True
            ) as reader:
                while piece := reader.read(PIECE_BYTES):
                    yield piece
    except (zlib.error, zstandard.ZstdError) as exc:
        raise InvalidDataset(f"the bytes are not valid {encoding} data: {exc}") from None


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    inflate = zlib.decompressobj(wbits=31)
    for chunk in chunks:
        data = chunk
        while data:
            piece = inflate.decompress(data, PIECE_BYTES)
            if piece:
                yield piece
            data = inflate.unconsumed_tail
            if inflate.eof and (data or inflate.unused_data):
                raise InvalidDataset("there are bytes after the end of the gzip stream")
    if tail := inflate.flush():
        yield tail
    if not inflate.eof:
        raise InvalidDataset("the gzip stream ends before its end marker")


def rechunk(pieces: Iterable[bytes | memoryview], size: int) -> Iterator[bytes]:
    """The bytes of `pieces` regrouped into chunks of exactly `size` bytes, the last one
    shorter (upload parts, blob chunks)."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
