"""PySCF ``Mole`` objects of diatomics (canonical orientation), of free atoms and of records."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from qc_jax.chem.basis_sets import BasisSpec, basis_spec, pyscf_basis
from qc_jax.elements import canonical_order, symbol

if TYPE_CHECKING:
    from qc_jax.record import PairRecord


class BondLengthError(ValueError):
    """A bond length that is not a positive finite number."""


def canonical_positions(bond_length_ang: float) -> np.ndarray:
    """Positions [2, 3] (Angstrom) of a diatomic along z: A at z = -R/2, B at z = +R/2."""
    check_bond_length(bond_length_ang)
    half = 0.5 * bond_length_ang
    return np.array([[0.0, 0.0, -half], [0.0, 0.0, half]])


def check_bond_length(bond_length: float) -> None:
    """Raise :class:`BondLengthError` unless ``bond_length`` is a positive finite number."""
    if not (isinstance(bond_length, int | float | np.floating) and math.isfinite(bond_length)):
        raise BondLengthError(f"bond length must be a finite number, got {bond_length!r}")
    if bond_length <= 0:
        raise BondLengthError(f"bond length must be positive, got {bond_length}")


def build_mole(
    symbols: tuple[str, ...],
    positions_ang: np.ndarray,
    specs: Mapping[str, BasisSpec],
    charge: int = 0,
    cart: bool = False,
):
    """A built PySCF ``Mole`` of atoms ``symbols`` at ``positions_ang`` [n_atoms, 3] (Angstrom),
    element e with the basis/ECP ``specs[e]``. The spin is the lowest allowed (0 or 1): with one
    Fermi level for both spins the smeared calculations find the moment themselves
    (:mod:`qc_jax.chem.scf`), so it only fixes the parity."""
    from pyscf import gto

    symbols = tuple(symbol(s) for s in symbols)
    basis, ecp = {}, {}
    for element in dict.fromkeys(symbols):
        basis[element], element_ecp = pyscf_basis(specs[element], element)
        if element_ecp is not None:
            ecp[element] = element_ecp
    mol = gto.Mole()
    mol.atom = [
        (s, tuple(float(x) for x in p)) for s, p in zip(symbols, positions_ang, strict=True)
    ]
    mol.unit = "Angstrom"
    mol.basis, mol.ecp, mol.charge, mol.cart, mol.verbose = basis, ecp, charge, cart, 0
    mol.spin = None  # PySCF sets it to (number of electrons) % 2
    return mol.build()


def _specs(symbols: tuple[str, ...], basis_map: str) -> dict[str, BasisSpec]:
    return {element: basis_spec(element, basis_map) for element in symbols}


def diatomic(a: str, b: str, bond_length_ang: float, basis_map: str, charge: int = 0):
    """``Mole`` of the pair in canonical order and orientation at bond length R (Angstrom)."""
    symbols = canonical_order(a, b)
    return build_mole(
        symbols, canonical_positions(bond_length_ang), _specs(symbols, basis_map), charge
    )


def free_atom(element: str, basis_map: str, charge: int = 0):
    """``Mole`` of one atom at the origin."""
    element = symbol(element)
    return build_mole((element,), np.zeros((1, 3)), _specs((element,), basis_map), charge)


def record_mole(record: PairRecord):
    """The ``Mole`` of a record: its atoms, geometry, basis and ECPs (as the record stores
    them), charge and AO order.

    Raises:
      ValueError: for a failed record (no geometry).
    """
    if record.status == "failed":
        raise ValueError(f"{record.pair}: failed record has no geometry ({record.reason})")
    specs = {element: BasisSpec(*record.basis[element]) for element in record.symbols}
    return build_mole(record.symbols, record.positions, specs, record.charge, record.cart)
