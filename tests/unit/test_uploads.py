"""Uploads through a real Starlette app: streaming with a size limit, safe names, clear errors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from agentapi.errors import UploadError, UploadTooLarge
from agentapi.server.problems import problem_for
from agentapi.server.uploads import (
    MAX_UPLOAD_BYTES,
    MULTIPART_OVERHEAD_BYTES,
    UploadStore,
    receive_upload,
    safe_name,
)

SMALL = 1000


def make_client(store: UploadStore, limit: int) -> TestClient:
    async def upload(request: Request) -> Response:
        try:
            path = await receive_upload(request, store, limit=limit)
        except UploadError as exc:
            return problem_for(exc)
        return JSONResponse({"ok": True, "filePath": str(path)})

    return TestClient(Starlette(routes=[Route("/upload", upload, methods=["POST"])]))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UploadStore]:
    s = UploadStore(tmp_path / "uploads")
    yield s
    s.cleanup()


@pytest.fixture
def client(store: UploadStore) -> TestClient:
    return make_client(store, SMALL)


def post_file(client: TestClient, name: str, data: bytes) -> tuple[int, dict[str, object]]:
    response = client.post("/upload", files={"file": (name, data, "application/octet-stream")})
    return response.status_code, response.json()


def test_binary_round_trip(client: TestClient, store: UploadStore) -> None:
    data = bytes(range(256)) * 3
    status, body = post_file(client, "all-bytes.bin", data)
    assert status == 200, body
    path = Path(str(body["filePath"]))
    assert path.is_absolute()
    assert path.read_bytes() == data
    assert path.name == "all-bytes.bin"
    assert path.parent.name == hashlib.sha256(data).hexdigest()[:16]
    assert path.parent.parent == store.root


def test_same_content_twice_and_other_fields_ignored(client: TestClient) -> None:
    first = client.post(
        "/upload",
        data={"note": "hello"},
        files={"file": ("a.txt", b"same", "text/plain")},
    ).json()
    second = client.post("/upload", files={"file": ("a.txt", b"same", "text/plain")}).json()
    assert first["filePath"] == second["filePath"]
    assert Path(second["filePath"]).read_bytes() == b"same"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\x", "x"),
        ("/abs/name", "name"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        ("..", "upload"),
        (".", "upload"),
        ("", "upload"),
        ("dir/", "upload"),
        ("naïve 日本.txt", "naïve 日本.txt"),
    ],
)
def test_names_stay_inside_the_root(
    client: TestClient, store: UploadStore, name: str, expected: str
) -> None:
    status, body = post_file(client, name, b"content")
    assert status == 200, body
    path = Path(str(body["filePath"]))
    assert path.resolve().is_relative_to(store.root)
    assert path.parent.parent == store.root
    assert path.name == expected
    assert path.read_bytes() == b"content"


def test_safe_name_trims_long_names_and_control_characters() -> None:
    assert safe_name("a\x00b\nc.txt") == "abc.txt"
    long = safe_name("x" * 300 + ".tar.gz")
    assert long.endswith(".gz") and len(long.encode()) == 255
    wide = safe_name("日" * 200)
    assert len(wide.encode()) <= 255 and set(wide) == {"日"}


def test_exactly_the_limit_is_accepted(client: TestClient) -> None:
    status, body = post_file(client, "full.bin", b"\xab" * SMALL)
    assert status == 200, body
    assert Path(str(body["filePath"])).stat().st_size == SMALL


def test_one_byte_over_is_refused(client: TestClient, store: UploadStore) -> None:
    status, body = post_file(client, "over.bin", b"\xab" * (SMALL + 1))
    assert status == 413
    assert body["title"] == "Payload Too Large"
    assert body["detail"] == "The file is larger than the 1000 bytes upload limit."
    assert list(store.root.iterdir()) == []


async def test_declared_length_past_the_limit_is_refused_before_reading(
    store: UploadStore,
) -> None:
    reads = 0

    async def receive() -> dict[str, object]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=b"),
            (b"content-length", str(SMALL + MULTIPART_OVERHEAD_BYTES + 1).encode()),
        ],
    }
    with pytest.raises(UploadTooLarge):
        await receive_upload(Request(scope, receive), store, limit=SMALL)
    assert reads == 0


def test_a_big_declared_body_gets_413_through_the_app(store: UploadStore) -> None:
    client = make_client(store, SMALL)
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
    body = head.encode() + b"x" * (SMALL + 70 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    response = client.post(
        "/upload",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413


def test_a_chunked_body_of_other_fields_is_cut_off_too(store: UploadStore) -> None:
    client = make_client(store, SMALL)
    boundary = "chunky"

    def body() -> Iterator[bytes]:
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="junk"\r\n\r\n'.encode()
        for _ in range(1000):
            yield b"z" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/upload",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert list(store.root.iterdir()) == []


def test_a_chunked_body_is_cut_off_at_the_limit(store: UploadStore) -> None:
    client = make_client(store, SMALL)
    boundary = "chunky"

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big"\r\n\r\n'
        ).encode()
        for _ in range(100):
            yield b"y" * 100
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/upload",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert list(store.root.iterdir()) == []


def test_no_file_field(client: TestClient) -> None:
    response = client.post("/upload", files={"document": ("a.txt", b"x", "text/plain")})
    assert response.status_code == 400
    assert response.json()["detail"] == "The upload has no 'file' field."


def test_a_file_part_without_a_filename_is_named_upload(client: TestClient) -> None:
    response = client.post("/upload", files={"file": (None, b"just text")})
    assert response.status_code == 200, response.text
    path = Path(response.json()["filePath"])
    assert path.name == "upload" and path.read_bytes() == b"just text"


def test_not_multipart(client: TestClient) -> None:
    response = client.post("/upload", json={"file": "x"})
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "The upload must be multipart/form-data with a 'file' field (got application/json)."
    )
    assert client.post("/upload", content=b"raw").status_code == 400


def test_no_boundary(client: TestClient) -> None:
    response = client.post("/upload", content=b"x", headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400
    assert "no boundary" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"this is not multipart at all",
        b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nhalf a file',
        b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--b',
    ],
)
def test_malformed_multipart(client: TestClient, store: UploadStore, body: bytes) -> None:
    response = client.post(
        "/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Bad Request"
    assert list(store.root.iterdir()) == []


def test_real_limit_of_ten_mib(store: UploadStore) -> None:
    client = make_client(store, MAX_UPLOAD_BYTES)
    data = bytes(range(256)) * (MAX_UPLOAD_BYTES // 256)
    assert len(data) == MAX_UPLOAD_BYTES
    status, body = post_file(client, "ten.bin", data)
    assert status == 200, body
    assert Path(str(body["filePath"])).read_bytes() == data
    status, body = post_file(client, "ten-plus.bin", data + b"!")
    assert status == 413
    assert body["detail"] == "The file is larger than the 10 MiB upload limit."


def test_default_root_is_a_fresh_private_folder() -> None:
    first, second = UploadStore(), UploadStore()
    try:
        assert first.root != second.root
        assert first.root.name.startswith("agentapi-uploads-")
        assert (first.root.stat().st_mode & 0o777) == 0o700
        path = first.store("x.txt", b"data")
        assert path.read_bytes() == b"data"
    finally:
        first.cleanup()
        second.cleanup()
    assert not first.root.exists()


async def test_an_endless_body_stops_being_read_at_the_limit(store: UploadStore) -> None:
    reads = 0
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="inf"\r\n\r\n'

    async def receive() -> dict[str, object]:
        nonlocal reads
        reads += 1
        chunk = head if reads == 1 else b"w" * 100
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
    }
    with pytest.raises(UploadTooLarge):
        await receive_upload(Request(scope, receive), store, limit=SMALL)
    # The parser holds back a boundary's length of data, so a few chunks past the limit.
    assert reads <= 1 + SMALL // 100 + 2
