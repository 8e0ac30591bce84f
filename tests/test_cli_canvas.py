"""`qc-canvas show` and `qc-canvas cube` on H2 from a fresh store."""

import numpy as np
import pytest

from qc_app import cli
from qc_jax.elements import parse_pair


@pytest.mark.parametrize("text, expected", [("CO", ("C", "O")), ("C_O", ("C", "O")),
                                             ("Fe2", ("Fe", "Fe")), ("NaCl", ("Na", "Cl"))])
def test_pair_formulas(text, expected):
    assert parse_pair(text) == expected


@pytest.mark.parametrize("text", ["CO2", "C", "co", "H2O"])
def test_bad_formulas_are_rejected_with_exit_code_2(text, capsys):
    assert cli.main(["show", text]) == 2
    assert "not a diatomic" in capsys.readouterr().err


def test_show_and_cube_write_a_png_and_a_normalised_density(tmp_path):
    store = str(tmp_path / "store")
    png = tmp_path / "h2.png"
    assert cli.main(["show", "H2", "--store", store, "--out", str(png), "--size", "16"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    cube = tmp_path / "h2.cube"
    assert cli.main(["cube", "H_H", "--store", store, "--out", str(cube), "--points", "50",
                     "--margin", "5"]) == 0
    lines = cube.read_text().splitlines()
    n_atoms = lines[2].split()[0]
    steps = [float(lines[3 + axis].split()[1 + axis]) for axis in range(3)]
    values = np.array(" ".join(lines[6 + int(n_atoms):]).split(), float)
    assert values.size == 50**3
    assert values.sum() * np.prod(steps) == pytest.approx(2.0, abs=0.05)  # two electrons
