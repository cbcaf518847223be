"""The layers of ARCHITECTURE.md, enforced: imports point down only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "qunyun"

# package prefix → the qunyun packages it may import (besides itself)
ALLOWED: dict[str, tuple[str, ...]] = {
    "qunyun.core": (),
    "qunyun.db": ("qunyun.core",),
    "qunyun.community": ("qunyun.core", "qunyun.db"),
    "qunyun.points": ("qunyun.core", "qunyun.db"),
    "qunyun.analytics": ("qunyun.core", "qunyun.db", "qunyun.community", "qunyun.points"),
    "qunyun.pipeline": ("qunyun.core", "qunyun.db", "qunyun.community"),
    "qunyun.features": ("qunyun.core", "qunyun.db", "qunyun.community", "qunyun.points"),
    "qunyun.platforms": ("qunyun.core",),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "qunyun"]


def own_package(module: str) -> str:
    """The unit that may import itself freely: a feature or platform package, or a layer."""
    parts = module.split(".")
    if parts[1] in ("features", "platforms") and len(parts) > 2:
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = module_name(path)
        layer = next((p for p in ALLOWED if module == p or module.startswith(p + ".")), None)
        if layer is None:
            continue  # entry points and the composition root may import anything
        home = own_package(module)
        for line, name in imports_of(path):
            if name == home or name.startswith(home + "."):
                continue
            if not any(name == a or name.startswith(a + ".") for a in ALLOWED[layer]):
                found.append(f"{path.relative_to(SRC.parent)}:{line}: {module} imports {name}")
    return found


def test_imports_point_down_the_layers() -> None:
    assert violations() == []


@pytest.mark.parametrize(("source", "bad"), [
    ("from qunyun.pipeline.runner import Pipeline", "qunyun.pipeline.runner"),
    ("import qunyun.features.other.service", "qunyun.features.other.service"),
])
def test_the_checker_catches_a_violation(tmp_path: Path, source: str, bad: str) -> None:
    path = tmp_path / "mod.py"
    path.write_text(source + "\n")
    assert imports_of(path) == [(1, bad)]
    assert own_package("qunyun.features.stats.handlers") == "qunyun.features.stats"
    assert not bad.startswith(own_package("qunyun.features.stats.handlers"))
