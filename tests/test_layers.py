"""The packages depend on each other one way (README, "Layout"):
qc_app -> qc_models -> quantum_canvas -> qc_jax.chem (PySCF) -> qc_jax (kernel, canvas).
Every import statement of every module, also those inside functions, is checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("qc_jax", "qc_jax.chem", "quantum_canvas", "qc_models", "qc_app")
"""Lowest first: a module may import its own layer and the layers before it."""
FOLDERS = {"qc_jax": ROOT / "qc_jax", "quantum_canvas": ROOT / "datasets" / "quantum_canvas",
           "qc_models": ROOT / "models" / "qc_models", "qc_app": ROOT / "qc_app"}


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the deepest layer that contains ``module`` (None: not ours)."""
    found = [i for i, layer in enumerate(LAYERS) if f"{module}.".startswith(f"{layer}.")]
    return max(found) if found else None


def modules() -> list[tuple[str, Path]]:
    found = []
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            found.append((".".join((package, *parts)).removesuffix(".__init__"), path))
    return found


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_package_folder_is_found():
    found = {module.split(".")[0] for module, _ in modules()}
    assert found == set(FOLDERS)


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_imports_point_down_the_layers(module, path):
    own = layer_of(module)
    upward = sorted(name for name in imported(path)
                    if (layer := layer_of(name)) is not None and layer > own)
    assert not upward, f"{module} ({LAYERS[own]}) imports a higher layer: {upward}"
