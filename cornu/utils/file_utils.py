"""Keras's `keras.utils.get_file`: a file downloaded once into Keras's cache, checked
against its hash, and archives extracted safely.

The cache is Keras 3.15's (`$KERAS_HOME/datasets`, else `~/.keras/datasets`, and
`/tmp/.keras` when that is not writable), with Keras's file names and hash rules, so a
file Keras cached is used as it is and a file Cornu cached is Keras's too. Where Cornu
differs, it is safer: a download goes to a temporary file that is renamed into place only
once complete and matching its hash (the cache never holds a truncated or wrong file), an
archive with a member that would land outside its folder is refused with an error (Keras
skips the member with a warning), and messages and the progress bar go to stderr.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Protocol

import httpx

from cornu.progress import WIDTH, format_step

CONNECT_TIMEOUT_S = 30.0
#: Longest wait for the next bytes of a download (a download itself has no time limit).
READ_TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 16
#: Keras's Progbar redraws at most this often.
REDRAW_INTERVAL_S = 0.05

StrPath = str | os.PathLike[str]


class DownloadError(OSError):
    """A file could not be downloaded. The message names the URL, the reason, and where to
    put the file by hand so that no download is needed."""


class Hasher(Protocol):
    """What `hash_file` needs of a `hashlib` object."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


def keras_home() -> str:
    """Keras's home folder: `$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` when the home
    folder is not writable). Unlike Keras, which reads it once at import, read per call."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def get_file(
    fname: StrPath | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: StrPath = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format: str | Sequence[str] | None = "auto",
    cache_dir: StrPath | None = None,
    force_download: bool = False,
) -> str:
    """Download `origin` into the cache unless it is there already; the local path, as
    Keras's `keras.utils.get_file`.

    The file is `<cache_dir>/<cache_subdir>/<fname>` (`cache_dir` defaults to Keras's home,
    `fname` to the last part of the URL; an absolute `cache_subdir` is used as it is). A
    cached file is downloaded again when `force_download`, or when `file_hash` is given
    and the file's hash differs (`hash_algorithm`: `"sha256"`, `"md5"`, or `"auto"`: sha256
    for a 64-character hash, md5 otherwise; `md5_hash` is the older spelling of an md5
    `file_hash`). With `extract` (or `untar`, tar only), the archive is kept as
    `<fname>_archive` and extracted into `<fname>/` (for an `fname` with a dot, kept as
    `fname` and extracted into `<fname up to its first dot>_extracted/`) on every call, and
    that folder is returned; `archive_format` is `"auto"` (tar, then zip), `"tar"`, `"zip"`,
    a list of those, or None.

    Raises ValueError without `origin`, for an `fname` that contains a path separator, when
    a downloaded file's hash differs from `file_hash`, or for an archive member that would
    be written outside its folder; `DownloadError` when the download fails (no network,
    an HTTP error, a timeout of `READ_TIMEOUT_S` seconds without data).
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(_cache_base(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    name = os.fspath(fname) if fname is not None else None
    if not name:
        name = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not name:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. "
                "Please specify the `fname` argument."
            )
    elif os.sep in name:
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={name}"
        )

    extraction_dir = None
    download_target = os.path.join(datadir, name)
    if extract or untar:
        if fname and "." in name:
            extraction_dir = os.path.join(datadir, f"{name[: name.find('.')]}_extracted")
        else:
            extraction_dir = download_target
            download_target = os.path.join(datadir, f"{name}_archive")

    if _needs_download(download_target, file_hash, hash_algorithm, force_download):
        _download(origin, download_target, file_hash, hash_algorithm)

    if extraction_dir is None:
        return download_target
    if not extract_archive(download_target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir


def resolve_hasher(algorithm: str, file_hash: str | None = None) -> Hasher:
    """The hashlib object for `algorithm`, as Keras picks it: sha256 for `"sha256"` or for
    `"auto"` with a 64-character `file_hash`; md5 for anything else (Keras's legacy rule:
    an unknown name such as `"sha1"` silently means md5)."""
    if algorithm == "sha256" or (
        algorithm == "auto" and file_hash is not None and len(file_hash) == 64
    ):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath: StrPath, algorithm: str | Hasher = "sha256", chunk_size: int = 65535) -> str:
    """The file's hash as lowercase hex (`algorithm` as in `resolve_hasher`, or a hasher)."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(
    fpath: StrPath, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535
) -> bool:
    """Whether the file's hash is `file_hash` (sha256 or md5, see `resolve_hasher`), as
    Keras's `validate_file`. The comparison is exact: an uppercase hash never matches."""
    hasher = resolve_hasher(algorithm, file_hash)
    return str(hash_file(fpath, hasher, chunk_size)) == str(file_hash)


def extract_archive(
    file_path: StrPath, path: StrPath = ".", archive_format: str | Sequence[str] | None = "auto"
) -> bool:
    """Extract a tar (plain, gz, bz2, xz) or zip archive into `path`; False when it is none
    of the formats tried (`"auto"` tries tar then zip), as Keras's `extract_archive`.

    A member that would land outside `path` (an absolute name, `..`, a link pointing
    out) or a device file raises ValueError: a zip's names are all checked before anything
    is written, a tar's as it is extracted. Keras skips such members with a warning.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    for kind in [formats] if isinstance(formats, str) else formats:
        if kind == "tar":
            if tarfile.is_tarfile(file_path):
                _extract_tar(file_path, path)
                return True
        elif kind == "zip":
            if zipfile.is_zipfile(file_path):
                _extract_zip(file_path, path)
                return True
        else:
            raise NotImplementedError(kind)
    return False


def _cache_base(cache_dir: StrPath | None) -> str:
    base = os.path.expanduser(keras_home() if cache_dir is None else cache_dir)
    # Keras creates its home when imported and then falls back to /tmp/.keras for a folder
    # that is not writable, or does not exist: creating the folder first keeps a user's
    # `cache_dir` instead of moving the file to /tmp.
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass  # not creatable here: the fallback below applies, as in Keras
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return base


def _needs_download(target: str, file_hash: str | None, algorithm: str, force: bool) -> bool:
    if force or not os.path.exists(target):
        return True
    if file_hash is not None and not validate_file(target, file_hash, algorithm=algorithm):
        _say(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{algorithm} file hash does not match the original value of {file_hash} so we "
            "will re-download the data."
        )
        return True
    return False


def _download(origin: str, target: str, file_hash: str | None, algorithm: str) -> None:
    """Download into a temporary file beside `target`, check it, then rename it into place."""
    _say(f"Downloading data from {origin}")
    directory, base = os.path.split(target)
    partial = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.part")
    try:
        with open(partial, "xb") as out:  # mode 0o666 less the umask, as Keras's files
            _fetch(origin, out, target)
        if file_hash is not None and not validate_file(partial, file_hash, algorithm=algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected. The {algorithm} file hash does not "
                f"match the provided value of {file_hash}. (Downloaded from {origin}; "
                f"nothing was written to {target}.)"
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _fetch(origin: str, out: IO[bytes], target: str) -> None:
    url = urllib.parse.urlsplit(origin)
    if url.scheme == "file":  # Keras's urlretrieve reads file:// URLs too
        try:
            with open(urllib.request.url2pathname(url.path), "rb") as source:
                size = os.fstat(source.fileno()).st_size
                _copy(iter(lambda: source.read(CHUNK_BYTES), b""), size, out)
        except OSError as e:
            raise DownloadError(_could_not(origin, e.strerror or str(e), target)) from e
        return
    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    # `identity`: the bytes as stored, whose hash is known (urlretrieve asks for no encoding).
    headers = {"Accept-Encoding": "identity"}
    try:
        with httpx.stream(
            "GET", origin, headers=headers, timeout=timeout, follow_redirects=True
        ) as response:
            if response.is_error:
                reason = f"HTTP {response.status_code} {response.reason_phrase}"
                raise DownloadError(_could_not(origin, reason, target))
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = _copy(response.iter_raw(CHUNK_BYTES), total, out)
    except httpx.HTTPError as e:
        raise DownloadError(_could_not(origin, str(e) or type(e).__name__, target)) from e
    if total is not None and received < total:
        reason = f"the connection closed after {received} of {total} bytes"
        raise DownloadError(_could_not(origin, reason, target))


def _copy(chunks: Iterator[bytes], total: int | None, out: IO[bytes]) -> int:
    progress = _Progress(total)
    try:
        for chunk in chunks:
            out.write(chunk)
            progress.advance(len(chunk))
    except BaseException:
        progress.abandon()
        raise
    progress.finish()
    return progress.done


def _could_not(origin: str, reason: str, target: str) -> str:
    return (
        f"could not download {origin} ({reason}); to use it without a download, "
        f"put the file at {target}"
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Progress:
    """Keras's download bar on stderr: `11490434/11490434 ━━━━━━━━━━━━━━━━━━━━ 1s 0us/step`,
    redrawn in place on a terminal and written once, at the end, elsewhere."""

    def __init__(self, total: int | None) -> None:
        self.total = total if total else None
        self.done = 0
        self.start = self.drawn_at = time.monotonic()
        self.live = sys.stderr.isatty()
        self.width = 0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.live and now - self.drawn_at >= REDRAW_INTERVAL_S:
            self.drawn_at = now
            self._draw(self._line(now, final=False), end="")

    def finish(self) -> None:
        self._draw(self._line(time.monotonic(), final=True), end="\n")

    def abandon(self) -> None:
        """End a bar drawn in place, so that an error starts on a line of its own."""
        if self.width:
            sys.stderr.write("\n")
            self.width = 0

    def _line(self, now: float, *, final: bool) -> str:
        elapsed = now - self.start
        per_byte = elapsed / self.done if self.done else 0.0
        if self.total is None:
            return f"{self.done:7d}/Unknown {elapsed:.0f}s {format_step(per_byte)}"
        filled = min(WIDTH, WIDTH * self.done // self.total)
        bar = f"{self.done:>{len(str(self.total))}}/{self.total} "
        bar += "━" * filled + "─" * (WIDTH - filled)
        when = f"{elapsed:.0f}s" if final else _eta(per_byte * (self.total - self.done))
        return f"{bar} {when} {format_step(per_byte)}"

    def _draw(self, line: str, end: str) -> None:
        prefix = "\r" if self.live else ""
        sys.stderr.write(prefix + line.ljust(self.width) + end)
        sys.stderr.flush()
        self.width = 0 if end else len(line)


def _eta(seconds: float) -> str:
    """Keras's ETA: `1:02:03`, `2:03` or `3s`."""
    if seconds > 3600:
        return f"{seconds // 3600:.0f}:{seconds % 3600 // 60:02.0f}:{seconds % 60:02.0f}"
    if seconds > 60:
        return f"{seconds // 60:.0f}:{seconds % 60:02.0f}"
    return f"{seconds:.0f}s"


def _extract_tar(file_path: StrPath, path: StrPath) -> None:
    # Member by member as it extracts (one pass over the compressed stream: CIFAR's 170 MB
    # archive is extracted on every call), refuse what Python's "data" filter refuses:
    # `..` out of `path`, links that point out of it, device files; and absolute names,
    # which that filter would quietly move inside `path`.
    with tarfile.open(file_path) as archive:
        try:
            archive.extractall(path, filter=_data_filter)
        except tarfile.FilterError as e:
            raise _unsafe(file_path, e.tarinfo.name, str(e)) from e


def _data_filter(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    if member.name.startswith(("/", os.sep)) or os.path.isabs(member.name):
        raise tarfile.AbsolutePathError(member)
    return tarfile.data_filter(member, path)


def _extract_zip(file_path: StrPath, path: StrPath) -> None:
    with zipfile.ZipFile(file_path) as archive:
        destination = os.path.realpath(path)
        for name in archive.namelist():
            parts = name.replace("\\", "/").split("/")
            inside = os.path.realpath(os.path.join(destination, name))
            if (
                os.path.isabs(name)
                or name.startswith(("/", "\\"))
                or ".." in parts
                or os.path.commonpath([inside, destination]) != destination
            ):
                raise _unsafe(file_path, name, "its name leads outside the destination")
        archive.extractall(path)


def _unsafe(file_path: StrPath, member: str, why: str) -> ValueError:
    return ValueError(
        f"refusing to extract {os.fspath(file_path)}: member {member!r} is unsafe ({why}). "
        "The archive may be corrupted or malicious: delete it to download it again."
    )
