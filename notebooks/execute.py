"""Runs the notebooks top to bottom with their default settings and saves them with their outputs.

    make notebooks                                  # every notebook
    python notebooks/execute.py canvas_of_a_molecule

The kernel starts in the repository root, so the notebooks' relative paths (`data/store`,
`data/tfds`, `out/`) are the ones `make demo` uses. What a run writes to stderr (progress bars,
TensorFlow's and absl's log lines) is not kept: the saved notebook shows results, not a log.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent
ROOT = NOTEBOOKS.parent


def without_stderr(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every stderr stream output removed (in place)."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.output_type == "stream" and o.name == "stderr")]
    return notebook


def execute(name: str) -> float:
    """Runs `notebooks/<name>.ipynb` from the repository root and saves it; returns seconds."""
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    nbformat.write(without_stderr(notebook), path)
    return time.perf_counter() - start


def main(names: list[str]) -> None:
    for name in names or sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")):
        print(f"{name}: {execute(name):.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
