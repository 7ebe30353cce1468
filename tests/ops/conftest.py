"""Make the shared test helpers (tests/converter/*.py, tests/ops/op_cases.py) importable by module name."""

import sys
from pathlib import Path

for _d in ("converter", "ops"):
    _p = str(Path(__file__).resolve().parent.parent / _d)
    if _p not in sys.path:
        sys.path.insert(0, _p)
