"""Serves the browser demo on 127.0.0.1: the page (demos/browser/index.html, demo.js), its assets (the files build.py
writes) and the wasm engine (web/src/index.js, web/dist/sparsebyte{,-mt}.{js,wasm} and the pthreads' worker script).
Nothing else is reachable: no folder listings, no sources; requests for another Host than 127.0.0.1 or localhost are
refused (DNS rebinding). Every answer carries COOP/COEP headers, so the page is cross-origin isolated (threads).

    python demos/browser/build.py && python demos/browser/serve.py [--port 8000] [--assets DIR]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


# Everything the page loads, and nothing else: the page itself, the engine's ES module, its emscripten glue and wasm.
PAGE_FILES = {"/": HERE / "index.html", "/index.html": HERE / "index.html", "/demo.js": HERE / "demo.js",
              "/pose.js": HERE / "pose.js", "/options.js": HERE / "options.js"}
ENGINE_FILES = ("web/src/index.js", "web/dist/sparsebyte.js", "web/dist/sparsebyte.wasm", "web/dist/sparsebyte-mt.js",
                "web/dist/sparsebyte-mt.wasm", "web/dist/mt-worker/sparsebyte-mt.worker.js")


def allowed_file(url_path: str, assets: Path) -> Path | None:
    """The file a decoded URL path serves: a page file, an engine file, or a file directly inside the assets folder
    (no subfolders, no dotfiles); None for anything else, folders included (so nothing is ever listed)."""
    if url_path in PAGE_FILES:
        return PAGE_FILES[url_path]
    if url_path.lstrip("/") in ENGINE_FILES and url_path.startswith("/"):
        return REPO / url_path.lstrip("/")
    name = url_path.removeprefix("/assets/")
    if name != url_path and name and "/" not in name and not name.startswith(".") and (assets / name).is_file():
        return assets / name
    return None


class DemoHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".sbn": "application/octet-stream",
    }

    def __init__(self, *args: object, assets: Path, **kwargs: object) -> None:
        self.assets = assets
        super().__init__(*args, directory=str(HERE), **kwargs)  # type: ignore[arg-type]

    def send_head(self):  # type: ignore[no-untyped-def] # noqa: ANN201 (the base class's untyped signature)
        """Every GET/HEAD passes here first: the Host check (a page on another name that resolves to 127.0.0.1 must
        not read this server: DNS rebinding), then the allowlist."""
        host = self.headers.get("Host")
        port = self.server.server_address[1]
        if host is None:
            self.send_error(400, "Host header required")
            return None
        if host.lower() not in {f"127.0.0.1:{port}", f"localhost:{port}"}:
            self.send_error(421, "Misdirected Request", "this server answers only for 127.0.0.1 and localhost")
            return None
        if "\0" in unquote(urlsplit(self.path).path):
            self.send_error(400, "NUL byte in the path")
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        target = allowed_file(unquote(urlsplit(path).path), self.assets)
        return str(target) if target is not None else str(HERE / "__not_found__")

    def list_directory(self, path: str | os.PathLike[str]) -> None:  # never reached: folders are not allowed
        self.send_error(404, "File not found")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        # Cross-origin isolation: the page gets SharedArrayBuffer, so loadModel(.., {threads}) runs the pthreads build.
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        sys.stderr.write(f"serve: {format % args}\n")


def make_server(port: int = 8000, assets: Path = HERE / "assets") -> http.server.ThreadingHTTPServer:
    """A server bound to 127.0.0.1 (port 0 picks a free one); call serve_forever()."""
    handler = functools.partial(DemoHandler, assets=assets.resolve())
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--assets", type=Path, default=HERE / "assets")
    ns = parser.parse_args()
    if not (ns.assets / "manifest.json").is_file():
        print(f"{ns.assets}/manifest.json not found: run `python demos/browser/build.py` first", file=sys.stderr)
        return 2
    if not (REPO / "web" / "dist" / "sparsebyte.wasm").is_file():
        print("web/dist/sparsebyte.wasm not found: run web/build.sh first", file=sys.stderr)
        return 2
    server = make_server(ns.port, ns.assets)
    print(f"serving the sparsebyte demo on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
