"""File uploads: a multipart ``file`` field, streamed with a hard size limit, kept on disk.

Each file lands in ``<root>/<first 16 hex digits of its SHA-256>/<base name>``, so two
uploads with the same name but different content never collide, and the agent gets a
path it can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TypeAlias

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from agentapi.errors import BadUpload, UploadTooLarge

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Room for the boundaries, part headers and small extra fields around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Longest file name most file systems take, in bytes.
_MAX_NAME_BYTES = 255
_FALLBACK_NAME = "upload"

Buffer: TypeAlias = bytes | bytearray | memoryview


def _bad_request(detail: str) -> BadUpload:
    return BadUpload(detail)


def _too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"The file is larger than the {_size(limit)} upload limit.")


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_name(filename: str) -> str:
    """The base name of an uploaded file's name, safe to use as one path component."""
    # Browsers and tools send either separator; only the last component is the name.
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = _CONTROL.sub("", base).strip()
    if base in ("", ".", ".."):
        return _FALLBACK_NAME
    encoded = base.encode("utf-8", errors="surrogatepass")
    if len(encoded) <= _MAX_NAME_BYTES:
        return base
    # Too long for the file system: keep a short extension, cut the stem.
    stem, dot, ext = base.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext.encode()) <= 16 else ""
    head = base[: len(base) - len(suffix)] if suffix else base
    room = _MAX_NAME_BYTES - len(suffix.encode())
    head = head.encode("utf-8", errors="surrogatepass")[:room].decode("utf-8", errors="ignore")
    return (head + suffix) or _FALLBACK_NAME


class UploadStore:
    """The per-daemon folder holding uploaded files."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="agentapi-uploads-"))
        else:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root = root.resolve()

    def store(self, filename: str, data: Buffer) -> Path:
        """Save ``data`` under its content hash and base name; returns the absolute path."""
        digest = hashlib.sha256(data).hexdigest()
        return self._store(filename, data, digest)

    def _store(self, filename: str, data: Buffer, digest: str) -> Path:
        folder = self.root / digest[:16]
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / safe_name(filename)
        # The name is one plain component, but stay sure nothing leaves the root.
        if target.parent != folder or not target.is_relative_to(self.root):
            raise ValueError(f"upload name {filename!r} escapes the upload folder")
        fd, temp_name = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            # Replaced whole, so a reader never sees a half-written file, and the same
            # content uploaded twice just lands again.
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        return target

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class _FormReader:
    """Callbacks for the streaming multipart parser: keeps the first ``file`` part only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.hasher = hashlib.sha256()
        self.filename: str | None = None
        self.found = False
        self.file_done = False
        self.ended = False
        self._in_file = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition: bytes | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._disposition = None
        self._in_file = False
        self._header_field.clear()
        self._header_value.clear()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_field).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        if self._disposition is None or self.found:
            return
        kind, options = parse_options_header(self._disposition)
        if kind != b"form-data" or options.get(b"name") != b"file":
            return
        self.found = True
        self._in_file = True
        raw_name = options.get(b"filename")
        if raw_name is not None:
            # Header bytes arrive as Latin-1; clients send UTF-8 names in them.
            try:
                self.filename = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                self.filename = raw_name.decode("latin-1")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        if len(self.data) + (end - start) > self.limit:
            raise _too_large(self.limit)
        chunk = data[start:end]
        self.data += chunk
        self.hasher.update(chunk)

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self.file_done = True

    def _end(self) -> None:
        self.ended = True


def _boundary(request: Request) -> bytes:
    header = request.headers.get("content-type", "")
    kind, options = parse_options_header(header)
    if kind != b"multipart/form-data":
        shown = kind.decode("latin-1") or "no content type"
        raise _bad_request(
            f"The upload must be multipart/form-data with a 'file' field (got {shown})."
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise _bad_request("The multipart/form-data content type has no boundary.")
    return boundary


async def receive_upload(
    request: Request, store: UploadStore, limit: int = MAX_UPLOAD_BYTES
) -> Path:
    """Read the request's multipart ``file`` field into ``store``; returns the saved path.

    Never holds much more than ``limit`` bytes: a declared length past the limit is refused
    before reading, and the streamed body is counted so a chunked or lying one is cut off.
    """
    boundary = _boundary(request)
    body_limit = limit + MULTIPART_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise _bad_request(f"The Content-Length header {declared!r} is not a number.") from None
        if length > body_limit:
            raise _too_large(limit)

    reader = _FormReader(limit)
    try:
        parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    except FormParserError as exc:
        raise _bad_request(f"The multipart body cannot be read: {exc}") from None
    received = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            received += len(chunk)
            if received > body_limit:
                raise _too_large(limit)
            parser.write(chunk)
            if reader.ended:
                # Anything after the closing boundary is an epilogue nobody needs.
                break
    except ClientDisconnect:
        raise _bad_request("The upload was cut off before it finished.") from None
    except FormParserError as exc:
        raise _bad_request(f"The multipart body is malformed: {exc}") from None
    parser.finalize()

    if not reader.ended:
        if reader.found and not reader.file_done:
            raise _bad_request("The multipart body ended in the middle of the 'file' field.")
        if not reader.found:
            raise _bad_request("The upload has no 'file' field.")
        raise _bad_request("The multipart body ended without its closing boundary.")
    if not reader.found:
        raise _bad_request("The upload has no 'file' field.")
    filename = reader.filename or _FALLBACK_NAME
    digest = reader.hasher.hexdigest()
    # Disk writes go to a thread so a slow disk never stalls the event loop.
    return await asyncio.to_thread(store._store, filename, reader.data, digest)
