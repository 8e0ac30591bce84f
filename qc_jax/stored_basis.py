"""The :class:`qc_jax.basis.Basis` of the basis sets that records store, without PySCF.

A record gives each element's basis (``record.basis[element][0]``) as a PySCF basis name
(``"def2-svp"``) or as NWChem-format text (:mod:`qc_jax.chem.basis_sets`). The names that the
project's levels of theory use are read from the basis files bundled in :data:`BUNDLED_DIR`
(PySCF's own data in NWChem format, written by ``python -m qc_jax.chem.basis_files``); any other
name is read from PySCF's copy, so it needs PySCF. ECPs only remove core electrons, not basis
functions, so the ECP a record stores plays no part here.

Shells, primitives and contractions are ordered and normalised as a PySCF ``Mole`` does (AOs by
atom, then by l in the order given; primitives by decreasing exponent; every contraction
normalised), so the AOs are PySCF's, in PySCF's order, and the contraction coefficients are
``mol.bas_ctr_coeff``'s float64 numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.special

from qc_jax import basis as basis_lib

BUNDLED_DIR = Path(__file__).parent / "basis_files"
"""The bundled basis files, one ``<name>.nw`` per PySCF basis name."""

SHELL_LETTERS = tuple("SPDFGHIK")
"""NWChem's letter of each angular momentum l (its index)."""

#: PySCF's internal format of one shell: [l, [exponent, c_1, ..., c_k], ...] (k contractions).
RawShell = list


def parse_nwchem(text: str) -> dict[str, list[RawShell]]:
    """Element -> shells in PySCF's internal format, of NWChem-format basis text.

    Shell headers are ``<element> <letter>`` lines, followed by one ``exponent c_1 .. c_k`` line
    per primitive (Fortran ``D`` exponents allowed); ``#`` lines are comments. As PySCF's parser,
    each element's shells are ordered by l (stably) and primitives whose coefficients are all
    zero are dropped.

    Raises:
      ValueError: for a line of another form or an unknown shell letter.
    """
    shells: dict[str, list[RawShell]] = {}
    current: RawShell | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0][0].isalpha():
            if len(words) != 2 or words[1].upper() not in SHELL_LETTERS:
                raise ValueError(f"line {number}: expected '<element> <shell letter>': {line!r}")
            current = [SHELL_LETTERS.index(words[1].upper())]
            shells.setdefault(words[0], []).append(current)
        elif current is not None:
            current.append([float(word.upper().replace("D", "E")) for word in words])
        else:
            raise ValueError(f"line {number}: a primitive before any shell header: {line!r}")
    return {element: _pyscf_parse_order(element_shells)
            for element, element_shells in shells.items()}  # fmt: skip


def _pyscf_parse_order(shells: list[RawShell]) -> list[RawShell]:
    """Shells ordered by l (stably), without all-zero primitives or empty shells."""
    kept = ([shell[0], *(row for row in shell[1:] if any(c != 0 for c in row[1:]))]
            for shell in sorted(shells, key=lambda shell: shell[0]))  # fmt: skip
    return [shell for shell in kept if len(shell) > 1]


@functools.cache
def bundled(name: str) -> dict[str, list[RawShell]]:
    """Element -> shells of the bundled basis ``name`` (empty if it is not bundled)."""
    files = {path.stem: path for path in BUNDLED_DIR.glob("*.nw")}
    return parse_nwchem(files[name].read_text()) if name in files else {}


def raw_shells(element: str, basis: str) -> list[RawShell]:
    """The shells of ``element`` in ``basis`` (a PySCF basis name or NWChem text, as records
    store it), in PySCF's internal format and order.

    Raises:
      KeyError: if the text has no shells for ``element``; for a name that is not bundled,
        PySCF's error if PySCF has no such basis (ImportError without PySCF).
    """
    if "\n" in basis:
        return parse_nwchem(basis)[element]
    if element in bundled(basis):
        return bundled(basis)[element]
    from pyscf import gto  # a basis that is not bundled: PySCF's copy

    return gto.basis.load(basis, element)


def contracted(l: int, primitives: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """(exponents [n_prim], coefficients [n_prim, n_ctr]) of one shell given as rows
    ``[exponent, c_1, .., c_k]``, as a PySCF ``Mole`` holds it (``bas_exp``, ``bas_ctr_coeff``).

    Rows are sorted in decreasing order (PySCF's ``make_bas_env``). With N_p the norm of the
    primitive r^l exp(-a_p r^2) (N_p^-2 = int_0^inf r^(2l+2) exp(-2 a_p r^2) dr), each
    contraction c is scaled so that sum_pq c_p N_p S_pq N_q c_q = 1, S_pq the overlap of the
    unnormalised primitives p, q; the coefficients returned multiply normalised primitives.
    Computed in PySCF's order of operations, so the float64 numbers are PySCF's.
    """
    rows = np.array(sorted(primitives, reverse=True), dtype=float)
    exponents, coefficients = rows[:, 0], rows[:, 1:]
    norm = 1 / np.sqrt(_radial_integral(l, 2 * exponents))
    coefficients = coefficients * norm[:, None]
    overlap = _radial_integral(l, exponents[:, None] + exponents[None, :])
    length = np.sqrt(np.einsum("pi,pq,qi->i", coefficients, overlap, coefficients))
    return exponents, coefficients * (1 / length)[None, :] * (1 / norm)[:, None]


def _radial_integral(l: int, a: np.ndarray) -> np.ndarray:
    """int_0^inf r^(2l+2) exp(-a r^2) dr = Gamma(l + 3/2) / (2 a^(l + 3/2)), elementwise."""
    return scipy.special.gamma(l + 1.5) / (2.0 * a ** (l + 1.5))


def for_atoms(symbols: Sequence[str], coords: np.ndarray, basis: Mapping[str, str],
              cart: bool = False) -> basis_lib.Basis:
    """The :class:`qc_jax.basis.Basis` of atoms ``symbols`` at ``coords`` [n_atoms, 3] (Bohr),
    element e in ``basis[e]`` (a PySCF basis name or NWChem text: ``record.basis[e][0]``).

    Raises:
      KeyError: for an element without a basis; ValueError as :func:`qc_jax.basis.from_shells`.
    """
    shells = []
    for atom, element in enumerate(symbols):
        for l, *primitives in raw_shells(element, basis[element]):
            exponents, coefficients = contracted(l, primitives)
            shells += [basis_lib.Shell(atom, l, exponents, column) for column in coefficients.T]
    return basis_lib.from_shells(shells, coords, cart)
