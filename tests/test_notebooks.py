"""Every notebook runs top to bottom on small real inputs (H2; the tiny dummy records), is saved
with its outputs, and opens and installs in Colab from the repository URL of setup.cfg."""

import configparser
from pathlib import Path

import nbformat
import pytest
import quantum_canvas
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
DUMMY_STORE = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"

# notebook -> (environment, text its outputs must contain)
CASES = {
    "canvas_of_a_molecule": ({"QC_NOTEBOOK_PAIR": "H H"},
                             ["electrons:", "(48, 48, 10) float32"]),
    "dataset_and_model_zoo": ({"QC_NOTEBOOK_STORE": str(DUMMY_STORE), "QC_NOTEBOOK_EPOCHS": "2"},
                              ["'train': 17", "left out: {}", "(32, 32, 10) float32",
                               "'canvas': (8, 32, 32, 10)", "distance_ang"]),
}


def test_every_notebook_has_a_case():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_runs(name, tmp_path, monkeypatch):
    environment, expected = CASES[name]
    monkeypatch.setenv("QC_NOTEBOOK_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("QC_NOTEBOOK_DATA_DIR", str(tmp_path / "tfds"))
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for cell in notebook.cells
                      for o in cell.get("outputs", []))
    for text in expected:
        assert text in outputs, text
    images = [o for cell in notebook.cells for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the notebook shows no figure"


@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_opens_in_colab_and_installs_from_the_repository(name):
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    url = parser["metadata"]["url"]
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    repository = url.removeprefix("https://github.com/")
    badge = f"colab.research.google.com/github/{repository}/blob/main/notebooks/{name}.ipynb"
    assert badge in notebook.cells[0].source
    install = notebook.cells[1].source  # the first code cell, before any project import
    assert f'REPOSITORY = "{url}"' in install and 'find_spec("google.colab")' in install


@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_is_saved_with_its_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"][1:]  # not the install
    assert all(cell.outputs for cell in code), "run the notebook and save it with its outputs"
    assert not any(o.get("output_type") == "error" for cell in code for o in cell.outputs)
    assert not any(o.get("name") == "stderr" for cell in code for o in cell.outputs), \
        "saved by hand: run `make notebooks`, which keeps no stderr (progress bars, logs)"
