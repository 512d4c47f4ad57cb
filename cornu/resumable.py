"""Large arrays as resumable multipart uploads (`/v1/uploads`): create → parts → complete.

The compressed .npy file is cut into parts of `ClientSettings.part_bytes` (at least the
service's least part, at most its largest, and few enough for its part count). Each part
goes where the upload says: to a presigned URL of the object store (`direct`: a plain PUT,
no Cornu key — the bytes never pass the API) or to the API's part route. A part that
fails on the way (a dropped connection, a 5xx) is sent again, a bounded number of times
with a doubling wait. The upload's id is kept in `$CORNU_HOME/uploads/`, by the file's
SHA-256 and the service's URL, until it completes: uploading the same content again —
from a new client, a new process — lists the parts the service holds and sends only
those whose MD5 (the ETag) differs. Up to `ClientSettings.parallel_parts` parts are on
their way at once (hashed and sent by a thread each, as S3 clients do), so the client's
compression and the server's writes overlap; at most that many parts, and the one being
cut, are held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from cornu.core.codecs import rechunk
from cornu.core.errors import Conflict, CornuError, InvalidDataset, NotFound, ServiceUnavailable
from cornu.core.spec import Dataset
from cornu.core.spec.uploads import PartUrl, Upload, UploadPart
from cornu.problems import raise_for_problem
from cornu.settings import ClientSettings

if TYPE_CHECKING:
    from cornu.client import Client
    from cornu.uploads import NpyStream

log = logging.getLogger(__name__)

# Answers worth another try: the request may not have reached a healthy server.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0


class UploadCache:
    """Unfinished uploads this machine started, as `$CORNU_HOME/uploads/<sha256>-<service>.json`
    files holding the upload's id and part size. A cache that cannot be written only
    costs the resume (a warning), never the upload."""

    def __init__(self, home: Path, url: str) -> None:
        self.directory = home.expanduser() / "uploads"
        self.service = hashlib.sha256(url.encode()).hexdigest()[:16]

    def path(self, digest: str) -> Path:
        return self.directory / f"{digest}-{self.service}.json"

    def get(self, digest: str) -> dict[str, Any] | None:
        """The entry for the .npy file `digest`, or None (none, or unreadable)."""
        try:
            entry = json.loads(self.path(digest).read_text())
        except (OSError, ValueError):
            return None
        ok = isinstance(entry, dict) and isinstance(entry.get("id"), str)
        return entry if ok and isinstance(entry.get("part_bytes"), int) else None

    def put(self, digest: str, entry: dict[str, Any]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temp = self.path(digest).with_suffix(".tmp")
            temp.write_text(json.dumps(entry))
            temp.replace(self.path(digest))
        except OSError as exc:
            log.warning("cannot remember upload %s for a resume: %s", entry.get("id"), exc)

    def forget(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)


def take(pieces: Iterator[bytes | memoryview], limit: int) -> tuple[bytes, bool]:
    """The first pieces, up to just past `limit` bytes, and whether that was all of them."""
    head = bytearray()
    for piece in pieces:
        head += piece
        if len(head) > limit:
            return bytes(head), False
    return bytes(head), True


def part_size(upload: Upload, wanted: int) -> int:
    """`wanted`, moved within the service's bounds for this upload: at least its least
    part, few enough parts for its count, at most its largest part."""
    enough = -(-upload.max_total_bytes // upload.max_parts)
    return min(upload.max_part_bytes, max(wanted, upload.min_part_bytes, enough))


class ResumableUpload:
    """One array's multipart upload through `client`, resumed where an earlier one stopped.

    `pieces` are the .npy file's bytes in the content coding `run` is given (zstd, or
    identity for data zstd does not shrink), in order; `consumed()` tells
    how many .npy bytes the pieces drawn so far hold, and `advance` (if given) is told,
    after each part is stored, how many .npy bytes it carried (a progress bar by parts).
    """

    def __init__(
        self,
        client: Client,
        stream: NpyStream,
        digest: str,
        settings: ClientSettings,
        http: httpx.Client,
        direct_http: httpx.Client,
    ) -> None:
        self.client, self.stream, self.digest, self.settings = client, stream, digest, settings
        self.http, self.direct_http = http, direct_http
        self.cache = UploadCache(settings.home, client.url)
        self.timeout = httpx.Timeout(10.0, read=settings.part_timeout_seconds)

    @property
    def pending(self) -> bool:
        """Whether this machine started an upload of this content that did not finish."""
        return self.cache.get(self.digest) is not None

    def run(
        self,
        pieces: Iterator[bytes | memoryview],
        encoding: str,
        consumed: Callable[[], int],
        advance: Callable[[int], None] | None,
    ) -> Dataset:
        """Send the parts the service does not hold yet and complete the upload: the
        dataset. ServiceUnavailable when a part fails past its retries (calling again
        resumes); PayloadTooLarge, InvalidDataset as the service answers."""
        upload, size = self._open(encoding)
        stored = {p.number: p.etag.strip('"') for p in upload.parts}
        sent: list[UploadPart] = []
        drawn = [0]  # compressed bytes drawn from `pieces` so far

        def counted() -> Iterator[bytes | memoryview]:
            for piece in pieces:
                drawn[0] += len(piece)
                yield piece

        def send(number: int, data: bytes) -> str:
            """Part `number` stored unless the service holds these bytes already: its ETag."""
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            if stored.get(number) != etag:
                self._send_part(upload, number, data)
            return etag

        # (part number, its size, its send, the .npy bytes sent once it is), oldest first.
        in_flight: deque[tuple[int, int, Future[str], int]] = deque()
        wire = done = 0

        def finish_oldest() -> None:
            nonlocal done
            number, length, future, npy_bytes = in_flight.popleft()
            etag = future.result()  # a part's failure ends the upload here
            sent.append(UploadPart(number=number, bytes=length, etag=f'"{etag}"'))
            if advance is not None and npy_bytes > done:
                advance(npy_bytes - done)
                done = npy_bytes

        parallel = self.settings.parallel_parts
        with ThreadPoolExecutor(parallel, thread_name_prefix="cornu-upload") as pool:
            try:
                for number, data in enumerate(rechunk(counted(), size), start=1):
                    wire += len(data)
                    # The .npy bytes this part carries, at the compression ratio seen so
                    # far (the compressor reads ahead of what it hands out).
                    npy_bytes = min(self.stream.nbytes, wire * consumed() // max(1, drawn[0]))
                    in_flight.append((number, len(data), pool.submit(send, number, data),
                                      npy_bytes))  # fmt: skip
                    if len(in_flight) >= parallel:
                        finish_oldest()
                while in_flight:
                    finish_oldest()
            except BaseException:
                for *_, future, _ in in_flight:
                    future.cancel()  # those not started; the pool waits for the others
                raise
        if advance is not None and done < self.stream.nbytes:
            advance(self.stream.nbytes - done)
        return self._complete(upload, sent)

    def _open(self, encoding: str) -> tuple[Upload, int]:
        """The earlier upload of this content (if the service still holds it), else a new one."""
        entry = self.cache.get(self.digest)
        if entry is not None:
            try:
                upload = Upload.model_validate(
                    self.client._request("GET", f"/v1/uploads/{entry['id']}")
                )
                if upload.encoding == encoding:
                    log.info("resuming upload %s: %d parts stored", upload.id, len(upload.parts))
                    return upload, int(entry["part_bytes"])
                # Begun in another coding (an older SDK): its parts cannot be reused.
                self.client._send("DELETE", f"/v1/uploads/{upload.id}")
                self.cache.forget(self.digest)
            except (NotFound, Conflict):  # expired, completed elsewhere, another tenant's
                self.cache.forget(self.digest)
        body = {
            "bytes": self.stream.nbytes,
            "header": base64.b64encode(self.stream.header).decode(),
            "encoding": encoding,
            "sha256": self.digest,
        }
        upload = Upload.model_validate(self.client._request("POST", "/v1/uploads", json=body))
        size = part_size(upload, self.settings.part_bytes)
        self.cache.put(self.digest, {"id": upload.id, "part_bytes": size, "url": self.client.url})
        return upload, size

    def _send_part(self, upload: Upload, number: int, data: bytes) -> None:
        """PUT one part where the upload says, trying again after a transport error or a
        retryable status, up to `part_retries` more times."""
        tries = self.settings.part_retries + 1
        reason = ""
        for attempt in range(tries):
            if attempt:
                backoff = self.settings.retry_backoff_seconds * 2 ** (attempt - 1)
                time.sleep(min(MAX_BACKOFF_SECONDS, backoff))
            try:
                response = self._put(upload, number, data)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.info("upload %s part %d: %s; trying again", upload.id, number, reason)
                continue
            if response.status_code < 300:
                return
            reason = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                break
            log.info("upload %s part %d: %s; trying again", upload.id, number, reason)
        else:
            raise ServiceUnavailable(
                f"part {number} of upload {upload.id} failed {tries} times (last: {reason}); "
                "the parts before it are stored: upload the same array again to resume"
            )
        self._refused(upload, number, response)

    def _put(self, upload: Upload, number: int, data: bytes) -> httpx.Response:
        if not upload.direct:
            path = f"/v1/uploads/{upload.id}/parts/{number}"
            headers = {"Content-Type": "application/octet-stream"}
            return self.http.put(path, content=data, headers=headers, timeout=self.timeout)
        target = PartUrl.model_validate(
            self.client._request("GET", f"/v1/uploads/{upload.id}/parts/{number}/url")
        )
        # The object store's own URL: presigned, so no Cornu key goes with it.
        return self.direct_http.request(
            target.method, target.url, content=data, timeout=self.timeout
        )

    def _refused(self, upload: Upload, number: int, response: httpx.Response) -> None:
        if not upload.direct:
            raise_for_problem(response)
        raise CornuError(
            f"the object store refused part {number} of upload {upload.id}: HTTP "
            f"{response.status_code}: {response.text[:500]}"
        )

    def _complete(self, upload: Upload, parts: list[UploadPart]) -> Dataset:
        body = {"parts": [p.model_dump() for p in parts]}
        try:
            answer = self.client._request("POST", f"/v1/uploads/{upload.id}/complete", json=body)
        except InvalidDataset:
            # The stored parts do not make this file (another run's parts): start afresh next time.
            self.cache.forget(self.digest)
            try:
                self.client._send("DELETE", f"/v1/uploads/{upload.id}")
            except CornuError:
                pass  # gone already
            raise
        self.cache.forget(self.digest)
        return Dataset.model_validate(answer)
