"""Objects under `file://` and `s3://` URLs: list them, stream their lines, write new ones.

Import jobs read every object under a URL prefix line by line; export jobs write JSON lines back.
Memory stays bounded whatever the object size. Every failure is a typed error naming the URL:
a bad URL or an unreadable store is InvalidInput, an empty prefix is NotFound.

Only botocore is used (boto3 is not a runtime dependency), so multipart upload is done here.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pinfold.domain.errors import InvalidInput, NotFound

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


@dataclass(frozen=True)
class ObjectRef:
    """One object: its full URL (file:///abs/path or s3://bucket/key) and its size in bytes."""

    url: str
    size: int


def list_objects(url: str, s3: S3Settings) -> list[ObjectRef]:
    """Every object under the URL (a single object, or a prefix including sub-folders), sorted by URL."""
    scheme, location = _parse(url)
    refs = _list_files(url, location) if scheme == "file" else _list_s3(url, location, s3)
    if not refs:
        raise NotFound(f"No objects found under {url}")
    return sorted(refs, key=lambda ref: ref.url)


def read_lines(ref: ObjectRef, s3: S3Settings) -> Iterator[bytes]:
    """The object's lines as bytes, streamed (line endings stripped), never the whole object in memory.

    The object is opened now, so a missing or unreadable one raises InvalidInput before any line.
    """
    scheme, location = _parse(ref.url)
    chunks = _file_chunks(ref.url, location) if scheme == "file" else _s3_chunks(ref.url, location, s3)
    return _split_lines(ref.url, chunks)


def write_object(url: str, chunks: Iterable[bytes], s3: S3Settings) -> int:
    """Write an object (file:// creates parent folders; s3:// multipart for large bodies); returns bytes written."""
    scheme, location = _parse(url)
    if scheme == "file":
        return _write_file(url, location, chunks)
    bucket, key = location
    if not key or key.endswith("/"):
        raise InvalidInput(f"Cannot write {url}: the URL names a folder, not an object")
    return _write_s3(url, bucket, key, chunks, s3)


# --- URLs -------------------------------------------------------------------------------------------


def _parse(url: str) -> tuple[str, Path | tuple[str, str]]:
    """("file", absolute Path) or ("s3", (bucket, key prefix)); anything else is InvalidInput."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("file", "s3"):
        raise InvalidInput(f"Unsupported URL {url!r}: use file:///absolute/path or s3://bucket/prefix")
    if scheme == "s3":
        # S3 keys are taken verbatim, as Pinpoint does: '#', '?' and '%' are ordinary key characters.
        bucket, _, key = rest.partition("/")
        if not bucket:
            raise InvalidInput(f"Malformed S3 URL {url!r}: it names no bucket")
        return "s3", (bucket, key)
    if rest.startswith("localhost/"):
        rest = rest[len("localhost"):]
    if not rest.startswith("/"):
        raise InvalidInput(f"Malformed file URL {url!r}: the path must be absolute (file:///abs/path)")
    return "file", Path(unquote(rest)).resolve()


# --- Local files ------------------------------------------------------------------------------------


def _list_files(url: str, path: Path) -> list[ObjectRef]:
    """The file itself, or every regular, non-hidden file below the directory."""
    try:
        if path.is_file():
            return [ObjectRef(path.as_uri(), path.stat().st_size)]
        if not path.is_dir():
            return []
        refs = []
        for folder, dirs, names in os.walk(path, onerror=_raise):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in names:
                child = Path(folder, name)
                if not name.startswith(".") and child.is_file():
                    refs.append(ObjectRef(child.as_uri(), child.stat().st_size))
        return refs
    except OSError as error:
        raise InvalidInput(f"Cannot read {url}: {error.strerror or error}") from error


def _raise(error: OSError) -> None:
    raise error


def _file_chunks(url: str, path: Path) -> Iterator[bytes]:
    try:
        stream = path.open("rb")
    except OSError as error:
        raise InvalidInput(f"Cannot read {url}: {error.strerror or error}") from error
    return _guarded(url, _read_stream(stream))


def _read_stream(stream) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(READ_CHUNK):
            yield chunk


def _write_file(url: str, path: Path, chunks: Iterable[bytes]) -> int:
    """Write beside the target, then rename, so readers never see a half-written file."""
    if url.endswith("/"):
        raise InvalidInput(f"Cannot write {url}: the URL names a folder, not a file")
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    written = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            for chunk in chunks:
                written += out.write(chunk)
        os.replace(partial, path)
    except OSError as error:
        raise InvalidInput(f"Cannot write {url}: {error.strerror or error}") from error
    finally:
        partial.unlink(missing_ok=True)
    return written


# --- S3 ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _client(s3: S3Settings):
    """One botocore client per settings (clients are thread-safe and slow to build)."""
    options = {"retries": {"mode": "standard", "max_attempts": 3}}
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


def _list_s3(url: str, location: tuple[str, str], s3: S3Settings) -> list[ObjectRef]:
    bucket, prefix = location
    refs = []
    with _s3_errors("list", url):
        for page in _client(s3).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                if not item["Key"].endswith("/"):  # a folder marker, not data
                    refs.append(ObjectRef(f"s3://{bucket}/{item['Key']}", item["Size"]))
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
