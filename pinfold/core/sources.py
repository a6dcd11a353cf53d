"""Objects under `file://` and `s3://` URLs: list them, stream their lines, write new ones.

Import jobs read every object under a URL prefix line by line; export jobs write JSON lines back.
Memory stays bounded whatever the object size. Every failure is a typed error naming the URL:
a bad URL or an unreadable store is InvalidInput, an empty prefix is NotFound.

Only botocore is used (boto3 is not a runtime dependency), so multipart upload is done here.
It runs past 400 lines because both stores sit behind one small interface (list, read, write) with
the confinement checks they share; it becomes a package when a third store arrives.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pinfold.config import Settings
from pinfold.core.errors import Forbidden, InvalidInput, NotFound

READ_CHUNK = 1024 * 1024
# A "line" with no newline in sight would otherwise grow until memory runs out.
MAX_LINE_BYTES = 16 * 1024 * 1024
# S3 wants parts of at least 5 MiB (except the last); 8 MiB is what the AWS SDKs use.
PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class S3Settings:
    """How to reach S3 or an S3-compatible store; None fields use AWS's default resolution."""

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> S3Settings:
        """The store Pinfold's own PINFOLD_S3_* settings name (lake, imports, exports, Firehose)."""
        return cls(endpoint_url=settings.s3_endpoint_url or None, region=settings.s3_region,
                   access_key_id=settings.s3_access_key_id or None,
                   secret_access_key=settings.s3_secret_access_key or None)


@dataclass(frozen=True)
class ObjectRef:
    """One object: its full URL (file:///abs/path or s3://bucket/key) and its size in bytes.

    `root` is the folder (or file) it was listed under: reading a file checks it is still there.
    """

    url: str
    size: int
    root: Path | None = field(default=None, compare=False)


def list_objects(url: str, s3: S3Settings) -> list[ObjectRef]:
    """Every object at or below the URL (a single object, or a folder including sub-folders), sorted by URL.

    "Below" is by whole components: `s3://b/t1` covers `t1` and `t1/...`, never `t10/...`.
    """
    where = locate(url)
    refs = _list_files(url, where) if where.scheme == "file" else _list_s3(url, where, s3)
    if not refs:
        raise NotFound(f"No objects found under {url}")
    return sorted(refs, key=lambda ref: ref.url)


def read_lines(ref: ObjectRef, s3: S3Settings) -> Iterator[bytes]:
    """The object's lines as bytes, streamed (line endings stripped), never the whole object in memory.

    The object is opened now, so a missing or unreadable one raises InvalidInput before any line.
    """
    if ref.url.startswith("file://"):
        return _split_lines(ref.url, _file_chunks(ref.url, _file_path(ref.url), ref.root))
    _scheme, location = _parse(ref.url)
    return _split_lines(ref.url, _s3_chunks(ref.url, location, s3))


def write_object(url: str, chunks: Iterable[bytes], s3: S3Settings, *, within: str | None = None) -> int:
    """Write an object (file:// creates parent folders; s3:// multipart for large bodies); returns bytes written.

    A file is written only inside `within` (a folder URL), checked on the folder actually opened.
    """
    if url.startswith("file://"):
        path = _file_path(url)
        if url.endswith("/") or path == Path("/"):
            raise InvalidInput(f"Cannot write {url}: the URL names a folder, not a file")
        root = Path("/", *locate(within).parts) if within else None
        return _write_file(url, path, chunks, root)
    where = locate(url)
    if where.folder or len(where.parts) < 2:
        raise InvalidInput(f"Cannot write {url}: the URL names a folder, not an object")
    return _write_s3(url, where.parts[0], "/".join(where.parts[1:]), chunks, s3)


# --- URLs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A URL after decoding and resolution: what is checked is exactly what is read or written.

    `parts` are the resolved path's components for file:// (symlinks followed) and the bucket then
    the key's segments for s3:// (dot segments resolved, empty segments dropped).
    """

    scheme: str
    parts: tuple[str, ...]
    folder: bool = False

    @property
    def url(self) -> str:
        tail = "/" if self.folder and len(self.parts) > (1 if self.scheme == "s3" else 0) else ""
        if self.scheme == "file":
            return Path("/", *self.parts).as_uri() + tail
        return f"s3://{'/'.join(self.parts)}{tail}"

    def within(self, prefix: Location) -> bool:
        """True when this location is the prefix or lies below it, compared component by component."""
        return self.scheme == prefix.scheme and self.parts[:len(prefix.parts)] == prefix.parts


def locate(url: str) -> Location:
    """Parse, percent-decode and resolve a file:// or s3:// URL; anything malformed is InvalidInput.

    Nothing may be checked against a raw URL: `file:///a/b/../c`, `%2e%2e` and a symlink all name
    somewhere other than their text, so a prefix check on the string would be worthless.
    """
    scheme, location = _parse(url)
    if scheme == "s3":
        bucket, key = location
        return Location("s3", (bucket, *_key_segments(url, key)), folder=not key or key.endswith("/"))
    return Location("file", location.parts[1:], folder=url.endswith("/"))


def _parse(url: str) -> tuple[str, Path | tuple[str, str]]:
    """("file", resolved absolute Path) or ("s3", (bucket, raw key)); anything else is InvalidInput."""
    if "\x00" in url:
        raise InvalidInput("The URL holds a NUL character")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("file", "s3"):
        raise InvalidInput(f"Unsupported URL {url!r}: use file:///absolute/path or s3://bucket/prefix")
    if scheme == "s3":
        bucket, _, key = rest.partition("/")
        if not _BUCKET.fullmatch(bucket):
            raise InvalidInput(f"Malformed S3 URL {url!r}: {bucket!r} is not a bucket name")
        return "s3", (bucket, key)
    try:
        return "file", _file_path(url).resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop, or a path too long to resolve
        raise InvalidInput(f"Cannot resolve {url}: {error}") from error


def _file_path(url: str) -> Path:
    """The absolute path a file:// URL spells, percent-decoded but not resolved."""
    rest = url.partition("://")[2]
    if rest.startswith("localhost/"):
        rest = rest[len("localhost"):]
    path = unquote(rest)
    if not path.startswith("/") or "\x00" in path:
        raise InvalidInput(f"Malformed file URL {url!r}: the path must be absolute (file:///abs/path)")
    return Path(path)


_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def _key_segments(url: str, key: str) -> list[str]:
    """The key's segments with `.` and `..` resolved as in a path, and `//` read as `/`.

    S3 itself takes keys verbatim, but S3-compatible stores and the tools that copy files out of
    them do not all agree, so a key is given one meaning here and that meaning is what is used.
    A segment that only percent-decodes to a dot segment is refused rather than guessed at.
    """
    resolved: list[str] = []
    for segment in key.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not resolved:
                raise Forbidden(f"{url} climbs above its bucket")
            resolved.pop()
        elif unquote(segment) in (".", ".."):
            raise Forbidden(f"{url} holds an encoded dot segment ({segment!r})")
        else:
            resolved.append(segment)
    return resolved


# --- Local files ------------------------------------------------------------------------------------


def _list_files(url: str, where: Location) -> list[ObjectRef]:
    """The file itself, or every regular, non-hidden file below the folder that resolves inside it."""
    root = Path("/", *where.parts)
    try:
        if root.is_file():
            return [ObjectRef(root.as_uri(), root.stat().st_size, root)]
        if not root.is_dir():
            return []
        refs = []
        for folder, dirs, names in os.walk(root, onerror=_raise):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in names:
                child = Path(folder, name)
                # A symlink may point anywhere; only what lands inside the folder is listed.
                if not name.startswith(".") and child.is_file() and child.resolve().is_relative_to(root):
                    refs.append(ObjectRef(child.resolve().as_uri(), child.stat().st_size, root))
        return refs
    except OSError as error:
        raise InvalidInput(f"Cannot read {url}: {error.strerror or error}") from error


def _raise(error: OSError) -> None:
    raise error


def _file_chunks(url: str, path: Path, root: Path | None) -> Iterator[bytes]:
    try:
        # The path was resolved when listed; a symlink put in its place since is not followed, and
        # one put in place of a folder above it is caught by _opened_within.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise InvalidInput(f"Cannot read {url}: {error.strerror or error}") from error
    try:
        _opened_within(fd, path, root, url)
        stream = os.fdopen(fd, "rb")
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.close(fd)
        if isinstance(error, OSError):
            raise InvalidInput(f"Cannot read {url}: {error.strerror or error}") from error
        raise
    return _guarded(url, _read_stream(stream))


def _opened_within(fd: int, path: Path, root: Path | None, url: str) -> None:
    """Refuse what was opened unless it is the file (or folder) that `path` resolves to now, inside `root`.

    Comparing device and inode of the open descriptor with those of the resolved path closes the
    race a symlink swapped in and out around the open would otherwise win.
    """
    try:
        resolved = path.resolve()
        same = os.path.samestat(os.fstat(fd), os.stat(resolved))
    except (OSError, RuntimeError):
        same, resolved = False, path
    if not same or (root is not None and resolved != root and not resolved.is_relative_to(root)):
        raise Forbidden(f"{url} no longer lies where it was checked")


def _read_stream(stream) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(READ_CHUNK):
            yield chunk


def _write_file(url: str, path: Path, chunks: Iterable[bytes], root: Path | None) -> int:
    """Write beside the target, then rename, so readers never see a half-written file.

    Everything happens relative to the opened parent folder, after checking that folder is inside
    `root`: the rename replaces a symlink planted at the target instead of writing through it.
    """
    name, partial = path.name, f".{path.name}.{uuid.uuid4().hex}.partial"
    parent = path.parent.resolve()
    if root is not None and parent != root and not parent.is_relative_to(root):
        raise Forbidden(f"Cannot write {url}: its folder lies outside where it may be written")
    written = 0
    try:
        parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise InvalidInput(f"Cannot write {url}: {error.strerror or error}") from error
    try:
        _opened_within(folder, parent, root, url)
        out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
        with os.fdopen(out, "wb") as stream:
            for chunk in chunks:
                written += stream.write(chunk)
        os.replace(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as error:
        raise InvalidInput(f"Cannot write {url}: {error.strerror or error}") from error
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial, dir_fd=folder)
        os.close(folder)
    return written


# --- S3 ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _client(s3: S3Settings):
    """One botocore client per settings (clients are thread-safe and slow to build)."""
    # Users point their own AWS clients at Pinfold with AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 or a
    # profile's endpoint_url; Pinfold's S3 must follow only its own settings, or it would call itself.
    options = {"retries": {"mode": "standard", "max_attempts": 3}, "ignore_configured_endpoint_urls": True}
    if s3.endpoint_url:
        # S3-compatible servers often lack virtual-host buckets and the newer default checksums.
        options.update(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")
    return botocore.session.get_session().create_client(
        "s3", region_name=s3.region, endpoint_url=s3.endpoint_url, aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key, config=Config(**options))


@contextlib.contextmanager
def _s3_errors(verb: str, url: str) -> Iterator[None]:
    """Turn botocore failures into InvalidInput naming the URL and S3's error code."""
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code, message = details.get("Code", "Error"), details.get("Message")
        suffix = f" ({message})" if message and message != code else ""
        raise InvalidInput(f"Cannot {verb} {url}: {code}{suffix}") from error
    except BotoCoreError as error:
        raise InvalidInput(f"Cannot {verb} {url}: {error}") from error


def _list_s3(url: str, where: Location, s3: S3Settings) -> list[ObjectRef]:
    bucket, key = where.parts[0], "/".join(where.parts[1:])
    folder = f"{key}/" if key else ""
    refs = []
    with _s3_errors("list", url):
        for page in _client(s3).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", ()):
                name = item["Key"]
                if name != key and not name.startswith(folder):
                    continue  # `t1` lists t1 and t1/..., not t10/...
                if name.endswith("/") or any(part in (".", "..") for part in name.split("/")):
                    continue  # a folder marker, or a key no store reads the same way
                refs.append(ObjectRef(f"s3://{bucket}/{name}", item["Size"]))
    return refs


def _s3_chunks(url: str, location: tuple[str, str], s3: S3Settings) -> Iterator[bytes]:
    bucket, key = location
    with _s3_errors("read", url):
        body = _client(s3).get_object(Bucket=bucket, Key=key)["Body"]
    return _guarded(url, _read_stream(body))


def _guarded(url: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A failure mid-stream (connection reset, disk error) is still InvalidInput naming the URL."""
    with _s3_errors("read", url):
        try:
            yield from chunks
        except OSError as error:
            raise InvalidInput(f"Cannot read {url}: {error.strerror or error}") from error


def _write_s3(url: str, bucket: str, key: str, chunks: Iterable[bytes], s3: S3Settings) -> int:
    """Small bodies in one PUT; from PART_SIZE on, a multipart upload that is aborted if anything fails."""
    client, buffer, written = _client(s3), bytearray(), 0
    upload_id, parts = None, []
    with _s3_errors("write", url):
        try:
            for chunk in chunks:
                buffer += chunk
                written += len(chunk)
                while len(buffer) >= PART_SIZE:
                    if upload_id is None:
                        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
                    parts.append(_upload_part(client, bucket, key, upload_id, len(parts) + 1, buffer[:PART_SIZE]))
                    del buffer[:PART_SIZE]
            if upload_id is None:
                client.put_object(Bucket=bucket, Key=key, Body=bytes(buffer))
                return written
            if buffer:
                parts.append(_upload_part(client, bucket, key, upload_id, len(parts) + 1, buffer))
            client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
        except BaseException:
            if upload_id is not None:
                # Uncompleted parts are billed storage until aborted.
                with contextlib.suppress(ClientError, BotoCoreError):
                    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
    return written


def _upload_part(client, bucket: str, key: str, upload_id: str, number: int, data: bytearray) -> dict:
    response = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(data))
    return {"PartNumber": number, "ETag": response["ETag"]}


# --- Lines ------------------------------------------------------------------------------------------


def _split_lines(url: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Split on \\n only (a lone \\r is data, as in CSV fields), dropping a \\r before it; keep blank lines."""
    pending, number = b"", 0
    for chunk in chunks:
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            yield line[:-1] if line.endswith(b"\r") else line
        if len(pending) > MAX_LINE_BYTES:
            raise InvalidInput(f"Cannot read {url}: line {number + 1} is longer than {MAX_LINE_BYTES} bytes")
    if pending:
        yield pending[:-1] if pending.endswith(b"\r") else pending
