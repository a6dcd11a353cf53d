"""pinfold.core.sources against the local filesystem and a real S3 server (moto_server in a subprocess).

Under CI=true the S3 server must start; elsewhere these tests skip when it cannot.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from pinfold.core.errors import InvalidInput, NotFound
from pinfold.core.sources import PART_SIZE, READ_CHUNK, ObjectRef, S3Settings, list_objects, read_lines, write_object

BUCKET = "pinfold-sources"
# Lines of varied length, so chunk boundaries fall mid-line and between \r and \n.
BIG_LINES = [f"{n},{'x' * (n % 97)}".encode() for n in range(150_000)]
BIG_BODY = b"".join(line + (b"\r\n" if n % 3 == 0 else b"\n") for n, line in enumerate(BIG_LINES))


@pytest.fixture(scope="module")
def s3_settings(moto_s3: str) -> S3Settings:
    """The session's moto S3 server, with BUCKET filled with the fixture objects."""
    settings = S3Settings(endpoint_url=moto_s3, access_key_id="test", secret_access_key="test")
    _fill_bucket(_boto3_client(settings))
    return settings


def _boto3_client(settings: S3Settings):
    """boto3, not pinfold.core.sources, puts the fixtures in place and checks what was written."""
    import boto3

    return boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url,
                        aws_access_key_id=settings.access_key_id, aws_secret_access_key=settings.secret_access_key)


def _fill_bucket(client) -> None:
    client.create_bucket(Bucket=BUCKET)
    objects = {
        "imports/a.csv": b"Id,Address\r\n1,a@example.com\r\n",
        "imports/sub/b.json": b'{"Id": "2"}\n\n{"Id": "3"}',
        "imports/sub/": b"",
        "imports/deeper/nested/c.csv": b"Id\n4\n",
        "imports/big.csv": BIG_BODY,
        "other/d.csv": b"Id\n5\n",
    }
    for key, body in objects.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)


def _url(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


def test_s3_prefix_lists_sub_folders_sorted_and_skips_folder_markers(s3_settings):
    refs = list_objects(_url("imports/"), s3_settings)
    assert refs == [
        ObjectRef(_url("imports/a.csv"), 29),
        ObjectRef(_url("imports/big.csv"), len(BIG_BODY)),
        ObjectRef(_url("imports/deeper/nested/c.csv"), 5),
        ObjectRef(_url("imports/sub/b.json"), 24),
    ]


def test_s3_single_key_lists_that_object(s3_settings):
    assert list_objects(_url("other/d.csv"), s3_settings) == [ObjectRef(_url("other/d.csv"), 5)]


def test_s3_empty_prefix_is_not_found(s3_settings):
    with pytest.raises(NotFound, match=f"No objects found under {_url('nothing/here/')}"):
        list_objects(_url("nothing/here/"), s3_settings)


def test_s3_missing_bucket_is_invalid_input(s3_settings):
    with pytest.raises(InvalidInput, match="Cannot list s3://no-such-bucket-x/data: NoSuchBucket"):
        list_objects("s3://no-such-bucket-x/data", s3_settings)


def test_s3_missing_object_is_invalid_input_when_opened(s3_settings):
    with pytest.raises(InvalidInput, match="Cannot read s3://pinfold-sources/gone.csv: NoSuchKey"):
        read_lines(ObjectRef(_url("gone.csv"), 1), s3_settings)


def test_s3_reads_lines_exactly(s3_settings):
    assert list(read_lines(ObjectRef(_url("imports/a.csv"), 29), s3_settings)) == [b"Id,Address",
                                                                                    b"1,a@example.com"]
    # A blank line is kept (line numbers stay true) and a last line without a newline is not lost.
    assert list(read_lines(ObjectRef(_url("imports/sub/b.json"), 24), s3_settings)) == [
        b'{"Id": "2"}', b"", b'{"Id": "3"}']


def test_s3_large_object_splits_across_chunk_boundaries(s3_settings):
    assert len(BIG_BODY) > 4 * READ_CHUNK
    lines = read_lines(ObjectRef(_url("imports/big.csv"), len(BIG_BODY)), s3_settings)
    assert list(lines) == BIG_LINES


def test_s3_write_round_trip(s3_settings):
    url = _url(f"exports/{uuid.uuid4().hex}.jsonl")
    written = write_object(url, iter([b'{"a": 1}\n', b'{"b"', b": 2}\n"]), s3_settings)
    assert written == 18
    assert list_objects(url, s3_settings) == [ObjectRef(url, 18)]
    assert list(read_lines(list_objects(url, s3_settings)[0], s3_settings)) == [b'{"a": 1}', b'{"b": 2}']


def test_s3_write_large_body_uses_multipart(s3_settings):
    url = _url(f"exports/{uuid.uuid4().hex}.jsonl")
    line = b'{"n": "' + b"y" * 1000 + b'"}\n'
    count = PART_SIZE * 2 // len(line) + 10  # two full parts and a short last one
    assert write_object(url, (line for _ in range(count)), s3_settings) == count * len(line)
    [ref] = list_objects(url, s3_settings)
    assert ref.size == count * len(line)
    assert sum(1 for _ in read_lines(ref, s3_settings)) == count
    head = _boto3_client(s3_settings).head_object(Bucket=BUCKET, Key=url.removeprefix(f"s3://{BUCKET}/"))
    assert head["ETag"].endswith('-3"')  # a multipart ETag counts its parts


def test_s3_write_to_a_folder_url_is_invalid_input(s3_settings):
    with pytest.raises(InvalidInput, match="names a folder"):
        write_object(_url("exports/"), [b"x"], s3_settings)


def test_file_directory_lists_recursively_and_skips_hidden(tmp_path: Path):
    (tmp_path / "sub" / "deep").mkdir(parents=True)
    (tmp_path / ".hidden-dir").mkdir()
    (tmp_path / "a.csv").write_bytes(b"Id\n1\n")
    (tmp_path / "sub" / "deep" / "b.csv").write_bytes(b"Id\r\n2")
    (tmp_path / ".secret.csv").write_bytes(b"no")
    (tmp_path / ".hidden-dir" / "c.csv").write_bytes(b"no")
    refs = list_objects(tmp_path.as_uri() + "/", S3Settings())
    assert refs == [ObjectRef((tmp_path / "a.csv").as_uri(), 5),
                    ObjectRef((tmp_path / "sub" / "deep" / "b.csv").as_uri(), 5)]
    assert list(read_lines(refs[1], S3Settings())) == [b"Id", b"2"]


def test_file_single_file_and_missing_path(tmp_path: Path):
    target = tmp_path / "one file.csv"
    target.write_bytes(b"Id\n")
    assert list_objects(target.as_uri(), S3Settings()) == [ObjectRef(target.as_uri(), 3)]
    with pytest.raises(NotFound, match="No objects found under"):
        list_objects((tmp_path / "missing").as_uri(), S3Settings())


def test_file_large_file_streams_lines(tmp_path: Path):
    target = tmp_path / "big.csv"
    target.write_bytes(BIG_BODY)
    assert list(read_lines(ObjectRef(target.as_uri(), len(BIG_BODY)), S3Settings())) == BIG_LINES


def test_file_write_round_trip_creates_folders(tmp_path: Path):
    url = (tmp_path / "out" / "nested" / "export.jsonl").as_uri()
    assert write_object(url, [b'{"a": 1}\n', b'{"b": 2}\n'], S3Settings()) == 18
    assert [ref.url for ref in list_objects(url, S3Settings())] == [url]
    assert list(read_lines(ObjectRef(url, 18), S3Settings())) == [b'{"a": 1}', b'{"b": 2}']
    assert os.listdir(tmp_path / "out" / "nested") == ["export.jsonl"]  # no partial file left behind


def test_file_access_errors_are_invalid_input(tmp_path: Path):
    # A directory where a file is expected fails even as root, unlike a chmod-based check.
    with pytest.raises(InvalidInput, match="Cannot read .*: Is a directory"):
        read_lines(ObjectRef(tmp_path.as_uri(), 0), S3Settings())
    (tmp_path / "taken").mkdir()
    with pytest.raises(InvalidInput, match="Cannot write .*taken: Is a directory"):
        write_object((tmp_path / "taken").as_uri(), [b"x"], S3Settings())
    assert os.listdir(tmp_path) == ["taken"]  # the partial file was removed


@pytest.mark.parametrize("url", ["file://relative/dir/", "file:relative.csv", "http://example.com/x.csv",
                                 "ftp://host/x", "/abs/path/without/scheme", "s3:///key-without-bucket"])
def test_bad_urls_are_invalid_input_naming_the_url(url: str):
    with pytest.raises(InvalidInput) as raised:
        list_objects(url, S3Settings())
    assert url in raised.value.message


def test_overlong_line_is_invalid_input(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("pinfold.core.sources.MAX_LINE_BYTES", 10)
    monkeypatch.setattr("pinfold.core.sources.READ_CHUNK", 4)
    target = tmp_path / "long.csv"
    target.write_bytes(b"short\n" + b"z" * 50 + b"\n")
    with pytest.raises(InvalidInput, match="line 2 is longer than 10 bytes"):
        list(read_lines(ObjectRef(target.as_uri(), 57), S3Settings()))


def test_pinfold_s3_clients_ignore_the_endpoints_users_configure_for_their_own_clients(tmp_path, monkeypatch):
    """AWS_ENDPOINT_URL and friends point users' clients at Pinfold; Pinfold's S3 must not follow them."""
    import socket

    from pinfold.core import sources
    from pinfold.events.sinks.lake import Lake

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0)
    trap = f"http://127.0.0.1:{listener.getsockname()[1]}"
    (tmp_path / "config").write_text(f"[default]\nregion = us-east-1\nendpoint_url = {trap}\n")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.setenv(name, trap)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    sources._client.cache_clear()
    settings = S3Settings(access_key_id="test", secret_access_key="test")
    with pytest.raises(InvalidInput):  # AWS itself is out of reach here; what matters is who was called
        list_objects("s3://some-bucket/x/", settings)
    with pytest.raises(OSError):
        Lake("s3://some-bucket/lake", settings).filesystem.get_file_info("some-bucket/lake/x")
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody knocked
    listener.close()
    sources._client.cache_clear()
