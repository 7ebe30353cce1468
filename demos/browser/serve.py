"""Serves the browser demo on 127.0.0.1: the page (demos/browser/), its assets (build.py) and the wasm engine
(web/src, web/dist). Only those folders are reachable.

    python demos/browser/build.py && python demos/browser/serve.py [--port 8000] [--assets DIR]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def routes(assets: Path) -> dict[str, Path]:
    """URL prefix -> folder."""
    return {"/assets/": assets, "/web/src/": REPO / "web" / "src", "/web/dist/": REPO / "web" / "dist", "/": HERE}


class DemoHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".sbn": "application/octet-stream",
    }

    def __init__(self, *args: object, routes: dict[str, Path], **kwargs: object) -> None:
        self.routes = routes
        super().__init__(*args, directory=str(HERE), **kwargs)  # type: ignore[arg-type]

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        if url_path == "/":
            return str(HERE / "index.html")
        for prefix, folder in self.routes.items():
            if url_path.startswith(prefix):
                target = (folder / url_path[len(prefix) :]).resolve()
                if target == folder.resolve() or folder.resolve() in target.parents:
                    return str(target)
                break
        return str(HERE / "__not_found__")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        sys.stderr.write(f"serve: {format % args}\n")


def make_server(port: int = 8000, assets: Path = HERE / "assets") -> http.server.ThreadingHTTPServer:
    """A server bound to 127.0.0.1 (port 0 picks a free one); call serve_forever()."""
    handler = functools.partial(DemoHandler, routes=routes(assets))
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
