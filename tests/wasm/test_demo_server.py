"""demos/browser/serve.py against hostile requests, on 127.0.0.1 only, each with a timeout: it serves exactly the page,
the engine's three files and the built assets; a NUL byte gets a 400 (not a dropped connection), folders and
everything else a 404, a foreign Host header (DNS rebinding) a 421."""

from __future__ import annotations

import http.client
import importlib.util
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from wasm_support import REPO

SERVE = REPO / "demos" / "browser" / "serve.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    assets = tmp_path_factory.mktemp("assets")
    (assets / "manifest.json").write_text('{"dense": "m.sbn"}')
    (assets / "m.sbn").write_bytes(b"SBN\0model")
    (assets / "sub").mkdir()
    (assets / "sub" / "hidden.txt").write_text("not an asset")
    (assets / ".secret").write_text("dotfile")
    spec = importlib.util.spec_from_file_location("sb_demo_serve", SERVE)
    assert spec is not None and spec.loader is not None
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    httpd = serve.make_server(0, assets)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], assets
    finally:
        httpd.shutdown()
        httpd.server_close()


def request(port: int, path: str, host: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    """A raw HTTP/1.1 request (the path and Host sent as given); (status, body). 0 when the server answered nothing."""
    head = f"{method} {path} HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "") + \
        "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data:
        return 0, b""
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def test_the_page_engine_and_assets_are_served(server: tuple[int, Path]) -> None:
    port, assets = server
    host = f"127.0.0.1:{port}"
    for path, file in [("/", SERVE.parent / "index.html"), ("/index.html", SERVE.parent / "index.html"),
                       ("/demo.js", SERVE.parent / "demo.js"), ("/web/src/index.js", REPO / "web/src/index.js"),
                       ("/assets/manifest.json", assets / "manifest.json"), ("/assets/m.sbn?x=1", assets / "m.sbn")]:
        assert request(port, path, host) == (200, file.read_bytes()), path
    conn = http.client.HTTPConnection("localhost", port, timeout=10)  # a browser's request, by name
    conn.request("HEAD", "/web/dist/sparsebyte.wasm")
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "application/wasm"
    # cross-origin isolated (the pthreads build needs SharedArrayBuffer)
    assert response.getheader("Cross-Origin-Opener-Policy") == "same-origin"
    assert response.getheader("Cross-Origin-Embedder-Policy") == "require-corp"
    conn.close()


@pytest.mark.parametrize("path", ["/%00", "/index.html%00", "/assets/m.sbn%00.txt", "/web/src/%00index.js"])
def test_a_nul_byte_is_a_400(server: tuple[int, Path], path: str) -> None:
    port, _ = server
    assert request(port, path, f"127.0.0.1:{port}")[0] == 400


@pytest.mark.parametrize("path", [
    "/web/src/", "/web/dist/", "/assets/", "/web/", "/assets", "/web/src",  # folder listings
    "/serve.py", "/build.py", "/web/src/layout_check.c", "/web/src/index.d.ts", "/web/build.sh",  # sources
    "/assets/sub/hidden.txt", "/assets/.secret", "/assets/../serve.py", "/assets/%2e%2e/serve.py",
    "/web/src/../../README.md", "/../../etc/passwd", "/web/dist/../../pyproject.toml", "/nothing",
])
def test_everything_else_is_a_404(server: tuple[int, Path], path: str) -> None:
    port, _ = server
    status, body = request(port, path, f"127.0.0.1:{port}")
    assert status == 404, path
    assert b"Directory listing" not in body and b"def " not in body


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "127.0.0.1.evil:{port}",
                                  "localhost.:{port}x", ""])
def test_a_foreign_host_is_refused(server: tuple[int, Path], host: str) -> None:
    port, _ = server
    assert request(port, "/", host.format(port=port))[0] == 421, host


def test_a_missing_host_is_a_400(server: tuple[int, Path]) -> None:
    port, _ = server
    assert request(port, "/", None)[0] == 400
