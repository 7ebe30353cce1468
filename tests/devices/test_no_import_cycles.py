"""The device layer's modules import each other without cycles (base.py imports none of them), counting imports
inside functions too: a lazy import is how a cycle hides."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import sparsebyte.devices


def sibling_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_the_device_modules_form_no_cycle() -> None:
    package = Path(sparsebyte.devices.__file__).parent
    graph = {p.stem: sibling_imports(p) for p in package.glob("*.py") if p.stem != "__init__"}
    assert graph["base"] == set() and graph["tools"] == {"base"}
    assert {"qemu", "local", "remote", "host", "adb", "ssh"} <= set(graph)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as e:
        raise AssertionError(f"import cycle in sparsebyte.devices: {e.args[1]}") from e
    assert order.index("base") < order.index("tools") < order.index("qemu")
