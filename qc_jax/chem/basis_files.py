"""Writes the basis files bundled with :mod:`qc_jax.stored_basis`: ``python -m
qc_jax.chem.basis_files``.

Every basis that the default and the fast level of theory (:data:`qc_jax.chem.settings.DEFAULT`,
:data:`~qc_jax.chem.settings.FAST`) name for an element, as PySCF's ``gto.basis.load`` reads it,
written in NWChem format with every number in Python's shortest round-trip form (so reading the
file gives PySCF's float64 numbers back).
"""

from __future__ import annotations

from pyscf import __version__ as pyscf_version
from pyscf import gto

from qc_jax.chem.basis_sets import MissingBasisError, basis_spec
from qc_jax.chem.settings import DEFAULT, FAST
from qc_jax.elements import SYMBOLS
from qc_jax.stored_basis import BUNDLED_DIR, SHELL_LETTERS


def bundled_elements() -> dict[str, list[str]]:
    """Basis name -> the elements (by Z) that the default and fast levels of theory name it for
    (elements given as NWChem text, as Lu, are in the records themselves)."""
    names: dict[str, list[str]] = {}
    for settings in (DEFAULT, FAST):
        for element in SYMBOLS:
            try:
                name = basis_spec(element, settings.basis_map).basis
            except MissingBasisError:
                continue
            if "\n" not in name and element not in names.get(name, []):
                names.setdefault(name, []).append(element)
    return names


def nwchem_text(name: str, elements: list[str]) -> str:
    """The basis ``name`` of ``elements``, as PySCF reads it, in NWChem format."""
    lines = [f"# {name} from PySCF {pyscf_version} (gto.basis.load), written by "
             "`python -m qc_jax.chem.basis_files`"]  # fmt: skip
    for element in elements:
        for l, *primitives in gto.basis.load(name, element):
            lines.append(f"{element} {SHELL_LETTERS[l]}")
            lines += ["  " + " ".join(repr(float(x)) for x in row) for row in primitives]
    return "\n".join(lines) + "\n"


def main() -> None:
    BUNDLED_DIR.mkdir(exist_ok=True)
    for name, elements in bundled_elements().items():
        path = BUNDLED_DIR / f"{name}.nw"
        path.write_text(nwchem_text(name, elements))
        print(f"wrote {path} ({len(elements)} elements)")


if __name__ == "__main__":
    main()
