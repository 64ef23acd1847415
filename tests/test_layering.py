"""The written layering rule, checked: hw_templates <- cost_models <- codesign, heavy frameworks only
where needed (DESIGN.md, STYLE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"torch", "brevitas", "hls4ml", "qonnx", "onnx", "onnxruntime", "optuna", "sklearn", "tensorflow"}
FORBIDDEN = {
    "hw_templates": HEAVY | {"cost_models", "codesign", "pydantic", "yaml"},
    "cost_models": HEAVY | {"codesign"},
}


def _imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_never_import_upper_layers_or_frameworks(package: str) -> None:
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imports(path, top_level_only=False) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_codesign_package_import_stays_light() -> None:
    for path in [ROOT / "codesign" / "__init__.py", *sorted((ROOT / "codesign" / "cli").glob("*.py"))]:
        bad = _imports(path, top_level_only=True) & HEAVY
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} at module level"


def test_importing_cost_models_loads_no_framework() -> None:
    code = "import sys, cost_models, codesign.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in %r))"
    out = subprocess.run([sys.executable, "-c", code % sorted(HEAVY)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
