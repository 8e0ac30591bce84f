"""The basis of a stored record without PySCF (qc_jax.stored_basis), against PySCF's own ``Mole``
and AOs, and the import layers: rendering a stored record needs no PySCF."""

import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from pyscf import gto
from pyscf.dft import numint

from qc_jax import basis as basis_lib
from qc_jax import canvas, kernels, stored_basis
from qc_jax.chem.basis_files import bundled_elements
from qc_jax.chem.basis_sets import basis_spec
from qc_jax.chem.molecule import build_mole
from qc_jax.compact import ShippedRecords
from qc_jax.units import BOHR_ANGSTROM

#: Atoms (Angstrom) in the default basis map: def2-SVP (H, C, O), def2-SVP with a def2 ECP (Au, I),
#: CRENBL with its ECP (Th), def2-SVP given as NWChem text (Lu), and diatomics off the z axis.
GEOMETRIES = {
    "H": [("H", (0.1, -0.2, 0.3))],
    "C": [("C", (0.0, 0.0, 0.0))],
    "O": [("O", (0.0, 0.0, -0.6))],
    "Au": [("Au", (0.2, 0.0, 0.0))],
    "I": [("I", (0.0, 0.0, 1.3))],
    "Th": [("Th", (0.0, 0.0, 0.0))],
    "Lu": [("Lu", (0.0, 0.1, 0.0))],
    "CO": [("C", (0.1, 0.2, -0.55)), ("O", (-0.1, 0.3, 0.58))],
    "AuI": [("I", (0.0, 0.0, -1.25)), ("Au", (0.3, -0.2, 1.25))],
    "HTh": [("H", (0.0, 0.0, -1.0)), ("Th", (0.0, 0.0, 1.1))],
}


def ours_and_pyscf(name: str) -> tuple[basis_lib.Basis, gto.Mole]:
    """The Basis from the stored names/text of the atoms' basis sets, and PySCF's Mole."""
    symbols = tuple(s for s, _ in GEOMETRIES[name])
    positions = np.array([p for _, p in GEOMETRIES[name]])
    specs = {element: basis_spec(element) for element in symbols}
    ours = stored_basis.for_atoms(symbols, positions / BOHR_ANGSTROM,
                                  {element: spec.basis for element, spec in specs.items()})
    return ours, build_mole(symbols, positions, specs)


@pytest.mark.parametrize("name", GEOMETRIES)
def test_basis_from_stored_text_equals_pyscfs(name):
    ours, mol = ours_and_pyscf(name)
    reference = basis_lib.from_pyscf(mol)
    assert (ours.ls, ours.cart) == (reference.ls, reference.cart)
    assert ours.nao == mol.nao
    for leaf, expected in zip(jax.tree.leaves(ours), jax.tree.leaves(reference), strict=True):
        assert leaf.shape == expected.shape
        if np.issubdtype(np.asarray(expected).dtype, np.integer):
            np.testing.assert_array_equal(leaf, expected)
        else:
            np.testing.assert_allclose(leaf, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", GEOMETRIES)
def test_aos_from_stored_text_match_pyscf(name):
    ours, mol = ours_and_pyscf(name)
    rng = np.random.default_rng(0)
    points = np.vstack([mol.atom_coords(), mol.atom_coords()[0] + 2 * rng.standard_normal((60, 3))])
    reference = numint.eval_ao(mol, points, deriv=1)
    with jax.enable_x64(True):
        values = np.asarray(kernels.eval_ao(ours, points, deriv=1))
    assert values.shape == reference.shape
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-10 * np.abs(reference).max())


def test_bundled_basis_files_hold_pyscfs_numbers():
    """Every basis the default and fast levels of theory name, for every element, read from the
    bundled files gives PySCF's shells and float64 numbers; no other file is bundled."""
    names = bundled_elements()
    assert {"def2-svp", "crenbl", "sto-3g"} <= set(names)
    assert {path.stem for path in stored_basis.BUNDLED_DIR.glob("*.nw")} == set(names)
    for name, elements in names.items():
        assert stored_basis.bundled(name) == {e: gto.basis.load(name, e) for e in elements}, name


def test_nwchem_text_is_parsed_as_pyscf_parses_it():
    """Shells out of l order, a Fortran exponent, a primitive with zero coefficients, a general
    contraction and a comment."""
    text = textwrap.dedent("""\
        # comment
        C    P
          4.0  0.5  0.0
          1.0D-1  0.7  1.0
        C    S
          10.0  0.2
          2.0   0.0
        C    D
          0.8  1.0
        """)
    assert stored_basis.parse_nwchem(text) == {"C": gto.basis.parse(text, "C")}
    for bad in ("C S\nC S P\n", "C S\nC SP\n", "C S\n1.0 1.0\nBASIS\n", "1.0 1.0\n"):
        with pytest.raises(ValueError, match="line"):
            stored_basis.parse_nwchem(bad)


def test_solid_harmonics_are_pyscfs():
    """Bit for bit up to g (l = 4), the highest l of the project's basis sets."""
    for l in range(basis_lib.MAX_L + 1):
        ours = basis_lib.cartesian_to_output(l, cart=False)
        if l <= 4:
            np.testing.assert_array_equal(ours, gto.cart2sph(l))
        np.testing.assert_allclose(ours, gto.cart2sph(l), rtol=1e-15, atol=0)


def run_without_pyscf(code: str) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter in which importing PySCF fails."""
    script = 'import sys\nsys.modules["pyscf"] = None  # "import pyscf" raises ImportError\n'
    return subprocess.run([sys.executable, "-c", script + textwrap.dedent(code)],
                          capture_output=True, text=True, check=False)


def test_the_render_layers_import_no_pyscf_and_no_chemistry():
    result = subprocess.run([sys.executable, "-c", textwrap.dedent("""\
        import sys
        import qc_jax.canvas, qc_jax.record, qc_jax.store, qc_jax.stored_basis
        print(sorted(m for m in sys.modules if m.split(".")[0] == "pyscf"
                     or m.startswith("qc_jax.chem")))
        """)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_stored_record_renders_without_pyscf(tmp_path):
    """Shipped records (def2-SVP with a def2 ECP for Au; CRENBL for Th) render in a process that
    cannot import PySCF, to the same canvas as here."""
    from quantum_canvas.records import SHIPPED_DIR

    pairs, spec = ["Cl_Na", "Au_Th"], canvas.CanvasSpec(height=8, width=12, supersample=2)
    out = tmp_path / "canvases.npy"
    result = run_without_pyscf(f"""
        import numpy as np
        from qc_jax import canvas
        from qc_jax.compact import ShippedRecords
        shipped = ShippedRecords({str(SHIPPED_DIR)!r})
        records = [shipped.get(name) for name in {pairs!r}]
        spec = canvas.CanvasSpec(height=8, width=12, supersample=2)
        np.save({str(out)!r}, canvas.render_many(records, spec, progress=False))
        """)
    assert result.returncode == 0, result.stderr
    shipped = ShippedRecords(SHIPPED_DIR)
    expected = canvas.render_many([shipped.get(name) for name in pairs], spec, progress=False)
    assert np.array_equal(np.load(out), expected)
