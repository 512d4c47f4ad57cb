"""Resumable uploads (`/v1/uploads`): what a client declares, and what it is answered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UploadRequest(BaseModel):
    """A .npy file to come in parts: its header (the file's first bytes, base64) or its
    dtype and shape, its size, and the content coding of the bytes the parts carry."""

    model_config = ConfigDict(extra="forbid")

    bytes: int = Field(ge=1, le=2**62, description="size of the .npy file (decoded), in bytes")
    header: str | None = Field(
        default=None,
        max_length=200_000,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="the .npy file's first bytes, base64",
    )
    dtype: str | None = Field(
        default=None, max_length=64, pattern=r"^[ -~]*$", description="a numpy dtype name"
    )
    shape: list[int] | None = Field(default=None, max_length=64)
    encoding: Literal["identity", "gzip", "zstd"] = Field(
        default="identity", description="the coding of the concatenated parts' bytes"
    )
    sha256: str | None = Field(
        default=None, pattern="^[0-9a-f]{64}$", description="the .npy file's SHA-256, checked"
    )


class UploadPart(BaseModel):
    number: int = Field(ge=1)
    bytes: int = Field(default=0, description="size of the part as stored")
    etag: str = Field(description="the MD5 of the part's bytes, quoted (S3's ETag)")
    sha256: str | None = None


class Upload(BaseModel):
    """An unfinished upload: how to send its parts, and those stored so far."""

    id: str
    shape: list[int]
    dtype: str
    bytes: int = Field(description="size of the .npy file (decoded)")
    encoding: str
    expires_at: float = Field(description="Unix time after which an unfinished upload is gone")
    direct: bool = Field(
        description="true: PUT each part to the URL from GET …/parts/{n}/url (the object "
        "store itself); false: PUT it to /v1/uploads/{id}/parts/{n}"
    )
    min_part_bytes: int = Field(description="least size of every part but the last")
    max_part_bytes: int
    max_parts: int
    max_total_bytes: int = Field(description="most bytes all parts together may hold")
    parts: list[UploadPart] = Field(description="parts stored so far, by number")


class CompleteRequest(BaseModel):
    parts: list[UploadPart] | None = Field(
        default=None, max_length=10_000, description="the parts sent: numbers and ETags, checked"
    )


class PartUrl(BaseModel):
    number: int
    url: str
    method: Literal["PUT"] = "PUT"
    expires_at: float
