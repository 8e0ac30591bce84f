"""Contracted Gaussian basis sets as JAX pytrees, built from contracted shells.

A :class:`Basis` splits into *static* layout (Python ints, part of the pytree structure, so a
jit'd kernel is traced once per layout) and *array* leaves (exponents, coefficients, centres,
AO index maps) that can be differentiated, batched with ``vmap`` and moved to any device.

Shells are grouped by angular momentum ``l``: group ``g`` holds every shell of ``ls[g]`` as
arrays ``exponents[g]`` / ``coefficients[g]`` of shape [n_shells, n_primitives] (padded with
zero coefficients) and ``shell_atom[g]`` [n_shells]. A kernel evaluates the groups one after the
other ("grouped order") and ``ao_index`` permutes the result into PySCF's AO order
(``mol.ao_labels()``). Molecules of different sizes are stacked by :func:`stack` into one
padded Basis with a leading batch axis; padded shells are exactly zero functions.

A Basis is built by :func:`from_shells` from a list of :class:`Shell`: :func:`from_pyscf` takes
them from a built PySCF ``Mole``, :mod:`qc_jax.stored_basis` from the basis names and text that
records store (no PySCF needed).

Units: Bohr for coordinates, Bohr^-2 for exponents.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

import jax
import numpy as np

if TYPE_CHECKING:
    from pyscf import gto

#: Highest angular momentum the kernels support (h functions; def2-TZVP needs g = 4).
MAX_L = 5

#: pi to 50 digits, for the correctly rounded harmonics of :func:`cartesian_to_output`.
_PI = Decimal("3.14159265358979323846264338327950288419716939937510")


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=[
        "coords",
        "exponents",
        "coefficients",
        "shell_atom",
        "ao_index",
        "ao_l",
        "ao_m",
        "ao_atom",
    ],
    meta_fields=["ls", "cart"],
)
@dataclasses.dataclass(frozen=True)
class Basis:
    """A contracted Gaussian basis on a set of atoms.

    Attributes:
      ls: angular momentum of each shell group (static).
      cart: Cartesian (True) or real spherical (False) functions, as PySCF's ``mol.cart``.
      coords: [n_atoms, 3] atom positions in Bohr.
      exponents: per group, [n_shells, n_primitives] primitive exponents (Bohr^-2); padding is 1.
      coefficients: per group, [n_shells, n_primitives] contraction coefficients of the
        primitive-normalised Gaussians (PySCF's ``mol.bas_ctr_coeff``); padding is 0.
      shell_atom: per group, [n_shells] int index of the atom a shell sits on.
      ao_index: [nao] int, position in grouped order of each AO in PySCF order.
      ao_l: [nao] int angular momentum of each AO (-1 for padding).
      ao_m: [nao] int magnetic quantum number about z of each AO (PySCF's real harmonics:
        p = (x, y, z) -> m = (1, -1, 0); l >= 2 -> m = -l..l); None for Cartesian bases.
      ao_atom: [nao] int atom of each AO (-1 for padding).
    """

    ls: tuple[int, ...]
    cart: bool
    coords: jax.Array
    exponents: tuple[jax.Array, ...]
    coefficients: tuple[jax.Array, ...]
    shell_atom: tuple[jax.Array, ...]
    ao_index: jax.Array
    ao_l: jax.Array
    ao_m: jax.Array | None
    ao_atom: jax.Array

    @property
    def nao(self) -> int:
        """Number of AOs (padded size for a stacked batch)."""
        return int(self.ao_index.shape[-1])

    @property
    def natm(self) -> int:
        """Number of atoms (padded size for a stacked batch)."""
        return int(self.coords.shape[-2])

    def astype(self, dtype) -> Basis:
        """The same basis with its floating-point leaves (coords, exponents, ...) in ``dtype``."""
        return jax.tree.map(
            lambda x: x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x, self
        )


def n_functions(l: int, cart: bool) -> int:
    """Number of AOs in one shell of angular momentum ``l``."""
    return (l + 1) * (l + 2) // 2 if cart else 2 * l + 1


def cartesian_powers(l: int) -> np.ndarray:
    """[n_cart, 3] exponents (lx, ly, lz) of the Cartesian monomials in PySCF's order."""
    return np.array(
        [(lx, ly, l - lx - ly) for lx in range(l, -1, -1) for ly in range(l - lx, -1, -1)]
    )


@functools.cache
def cartesian_to_output(l: int, cart: bool) -> np.ndarray:
    """[n_cart, n_out] matrix from monomials x^lx y^ly z^lz to PySCF's AO components.

    Includes PySCF's factors for s and p shells (1/sqrt(4 pi), sqrt(3/(4 pi))), so that the
    normalised radial part x monomials @ this matrix reproduces ``pyscf.dft.numint.eval_ao``.
    Spherical components are the real solid harmonics r^l Y_lm, m in :func:`magnetic_numbers`
    order (for l <= 4 the same float64 numbers as PySCF's ``gto.cart2sph``).
    """
    if cart:
        factor = {0: 1 / math.sqrt(4 * math.pi), 1: math.sqrt(3 / (4 * math.pi))}.get(l, 1.0)
        return factor * np.eye(n_functions(l, cart=True))
    row = {tuple(power): i for i, power in enumerate(cartesian_powers(l))}
    matrix = np.zeros((len(row), n_functions(l, cart=False)))
    for column, m in enumerate(magnetic_numbers(l)):
        for power, coefficient in _solid_harmonic(l, m).items():
            matrix[row[power], column] = coefficient
    return matrix


def _solid_harmonic(l: int, m: int) -> dict[tuple[int, int, int], float]:
    """r^l Y_lm (real, normalised on the unit sphere) as {(lx, ly, lz): coefficient}.

    The expansion of T. Helgaker, P. Jorgensen, J. Olsen, Molecular Electronic-Structure
    Theory (2000), eq. 6.4.48, with 2v = k (k even for m >= 0: cos(m phi); odd for m < 0:
    sin(|m| phi)), in exact rational arithmetic; each coefficient is sign x sqrt(q / pi) for a
    rational q, rounded once to float64.
    """
    am, parity = abs(m), int(m < 0)
    terms: dict[tuple[int, int, int], Fraction] = {}
    for t in range((l - am) // 2 + 1):
        for u in range(t + 1):
            for k in range(parity, am + 1, 2):
                power = (2 * t + am - 2 * u - k, 2 * u + k, l - 2 * t - am)
                terms[power] = terms.get(power, Fraction(0)) + (
                    Fraction((-1) ** (t + (k - parity) // 2), 4**t) * math.comb(l, t)
                    * math.comb(l - t, am + t) * math.comb(t, u) * math.comb(am, k))  # fmt: skip
    # N_lm^2 (Racah normalisation) x (2l + 1) / 4, to be divided by pi.
    norm = Fraction(2 * math.factorial(l + am) * math.factorial(l - am) * (2 * l + 1),
                    (1 + (m == 0)) * 4 * (2**am * math.factorial(l)) ** 2)  # fmt: skip
    exact = decimal.Context(prec=40)
    coefficients = {}
    for power, c in terms.items():
        if c:
            q = c * c * norm
            root = exact.sqrt(exact.divide(exact.divide(q.numerator, q.denominator), _PI))
            coefficients[power] = math.copysign(float(root), c)
    return coefficients


def magnetic_numbers(l: int) -> list[int]:
    """m about z of each real spherical AO of a shell, in PySCF's order."""
    return [1, -1, 0] if l == 1 else list(range(-l, l + 1))


class Shell(NamedTuple):
    """One contracted shell: ``exponents`` [n_prim] (Bohr^-2) and ``coefficients`` [n_prim] of
    the primitive-normalised Gaussians (PySCF's ``mol.bas_ctr_coeff``, one column), angular
    momentum ``l``, on atom ``atom``."""

    atom: int
    l: int
    exponents: np.ndarray
    coefficients: np.ndarray


def from_shells(shells: Sequence[Shell], coords: np.ndarray, cart: bool = False) -> Basis:
    """The :class:`Basis` of ``shells`` on atoms at ``coords`` [n_atoms, 3] (Bohr).

    The AOs are those of the shells in the order given, each shell's components in PySCF's
    order (:func:`cartesian_powers`, or :func:`magnetic_numbers` for spherical shells).

    Raises:
      ValueError: for no shells or a shell above :data:`MAX_L`.
    """
    if not shells:
        raise ValueError("no basis functions")
    for shell in shells:
        if shell.l > MAX_L:
            raise ValueError(f"a shell on atom {shell.atom} has angular momentum l={shell.l}; "
                             f"the kernels support l <= {MAX_L}")
    ls = tuple(sorted({shell.l for shell in shells}))
    sizes = [n_functions(shell.l, cart) for shell in shells]
    first_ao = np.cumsum([0, *sizes[:-1]])
    ao_index = np.empty(sum(sizes), int)
    exponents, coefficients, shell_atom = [], [], []
    grouped = 0
    for l in ls:
        group = [i for i, shell in enumerate(shells) if shell.l == l]
        n_prim = max(len(shells[i].exponents) for i in group)
        exp, coef = np.ones((len(group), n_prim)), np.zeros((len(group), n_prim))
        for row, i in enumerate(group):
            exp[row, : len(shells[i].exponents)] = shells[i].exponents
            coef[row, : len(shells[i].coefficients)] = shells[i].coefficients
            ao_index[first_ao[i]:first_ao[i] + sizes[i]] = np.arange(grouped, grouped + sizes[i])
            grouped += sizes[i]
        exponents.append(exp)
        coefficients.append(coef)
        shell_atom.append(np.array([shells[i].atom for i in group]))
    return Basis(
        ls=ls,
        cart=cart,
        coords=np.asarray(coords, float),
        exponents=tuple(exponents),
        coefficients=tuple(coefficients),
        shell_atom=tuple(shell_atom),
        ao_index=ao_index,
        ao_l=np.repeat([shell.l for shell in shells], sizes),
        ao_m=None if cart else np.concatenate([magnetic_numbers(shell.l) for shell in shells]),
        ao_atom=np.repeat([shell.atom for shell in shells], sizes),
    )


def from_pyscf(mol: gto.Mole) -> Basis:
    """The :class:`Basis` of a PySCF molecule (after ``mol.build()``), AOs in PySCF's order.

    Every contraction of a generally contracted PySCF shell becomes its own shell; ECPs only
    change which shells exist, so they need nothing here.

    Raises:
      ValueError: if the molecule has no basis functions or a shell above :data:`MAX_L`.
    """
    if mol.nbas == 0:
        raise ValueError("the molecule has no basis functions (was mol.build() called?)")
    shells = [Shell(mol.bas_atom(ib), mol.bas_angular(ib), mol.bas_exp(ib), column)
              for ib in range(mol.nbas) for column in mol.bas_ctr_coeff(ib).T]  # fmt: skip
    return from_shells(shells, mol.atom_coords(unit="Bohr"), bool(mol.cart))


@dataclasses.dataclass(frozen=True)
class Layout:
    """The padded shape shared by stacked bases: per angular momentum ``ls[g]``, ``n_shells[g]``
    shells of ``n_prims[g]`` primitives, on ``natm`` atoms."""

    cart: bool
    ls: tuple[int, ...]
    n_shells: tuple[int, ...]
    n_prims: tuple[int, ...]
    natm: int

    @property
    def nao(self) -> int:
        shells = zip(self.ls, self.n_shells, strict=True)
        return sum(n * n_functions(l, self.cart) for l, n in shells)

    def holds(self, other: Layout) -> bool:
        """Whether every basis of layout ``other`` can be padded to this one."""
        mine = dict(zip(self.ls, zip(self.n_shells, self.n_prims, strict=True), strict=True))
        return (
            other.cart == self.cart
            and other.natm <= self.natm
            and all(
                l in mine and n <= mine[l][0] and p <= mine[l][1]
                for l, n, p in zip(other.ls, other.n_shells, other.n_prims, strict=True)
            )
        )


def layout_of(bases: Sequence[Basis]) -> Layout:
    """The smallest :class:`Layout` that holds every basis in ``bases``.

    Raises:
      ValueError: for an empty list or a mix of Cartesian and spherical bases.
    """
    if not bases:
        raise ValueError("need at least one basis")
    if len({b.cart for b in bases}) > 1:
        raise ValueError("cannot stack Cartesian and spherical bases together")
    ls = tuple(sorted({l for b in bases for l in b.ls}))
    return Layout(
        cart=bases[0].cart,
        ls=ls,
        n_shells=tuple(max(_group_shape(b, l)[0] for b in bases) for l in ls),
        n_prims=tuple(max(_group_shape(b, l)[1] for b in bases) for l in ls),
        natm=max(b.natm for b in bases),
    )


def stack(bases: Sequence[Basis], layout: Layout | None = None) -> Basis:
    """Pads bases of different molecules to one layout and stacks them on a new leading axis.

    The layout defaults to :func:`layout_of` the bases (the union of angular momenta, the largest
    shell and primitive counts per ``l``, the largest atom count); pass a larger one to give
    every batch of a long job the same shapes, so it compiles once. Padded shells have zero
    coefficients, so they evaluate to zero functions. AO ``i < nao`` of molecule ``b`` keeps its
    PySCF position; padded AOs follow at the end (``ao_l == -1``). Pad density matrices with
    :func:`pad_matrix`.

    Raises:
      ValueError: for an empty list, a mix of Cartesian and spherical bases, or a basis that
        does not fit ``layout``.
    """
    needed = layout_of(bases)
    layout = layout or needed
    if not layout.holds(needed):
        raise ValueError(f"the bases need the layout {needed}, larger than {layout}")
    return jax.tree.map(lambda *leaves: np.stack(leaves), *[_pad(b, layout) for b in bases])


def pad_to(array: np.ndarray, shape: Sequence[int], fill: float = 0.0) -> np.ndarray:
    """``array`` grown to ``shape`` (each size >= the current one) by ``fill`` at the end of
    every axis: the one padding rule of bases, tables, density matrices and canvas inputs."""
    array = np.asarray(array)
    return np.pad(array, [(0, size - n) for n, size in zip(array.shape, shape, strict=True)],
                  constant_values=fill)


def pad_matrix(matrix: np.ndarray, nao: int) -> np.ndarray:
    """Pads [..., n, n] matrices (density matrices, AO masks) with zeros to [..., nao, nao]."""
    return pad_to(matrix, (*np.shape(matrix)[:-2], nao, nao))


def _group_shape(basis: Basis, l: int) -> tuple[int, int]:
    if l not in basis.ls:
        return 0, 1
    return basis.exponents[basis.ls.index(l)].shape


def _pad(basis: Basis, layout: Layout) -> Basis:
    """One basis in the padded layout of :func:`stack`."""
    exponents, coefficients, shell_atom = [], [], []
    new_position = []  # grouped position of the old grouped AOs, in old grouped order
    grouped = 0
    nao, natm = layout.nao, layout.natm
    for l, ns, npr in zip(layout.ls, layout.n_shells, layout.n_prims, strict=True):
        nf = n_functions(l, basis.cart)
        exp, coef, atom = np.ones((ns, npr)), np.zeros((ns, npr)), np.zeros(ns, int)
        if l in basis.ls:
            g = basis.ls.index(l)
            old_ns, old_np = basis.exponents[g].shape
            exp[:old_ns, :old_np] = basis.exponents[g]
            coef[:old_ns, :old_np] = basis.coefficients[g]
            atom[:old_ns] = basis.shell_atom[g]
            new_position.extend(range(grouped, grouped + old_ns * nf))
        exponents.append(exp)
        coefficients.append(coef)
        shell_atom.append(atom)
        grouped += ns * nf
    new_position = np.array(new_position, int)
    ao_index = new_position[np.asarray(basis.ao_index)]
    taken = np.zeros(nao, bool)
    taken[ao_index] = True
    padding = np.flatnonzero(~taken)
    n_pad = nao - basis.nao

    def extend(values, fill):
        return np.concatenate([np.asarray(values), np.full(n_pad, fill)])

    coords = np.zeros((natm, 3))
    coords[: basis.natm] = basis.coords
    return Basis(
        ls=layout.ls,
        cart=basis.cart,
        coords=coords,
        exponents=tuple(exponents),
        coefficients=tuple(coefficients),
        shell_atom=tuple(shell_atom),
        ao_index=np.concatenate([ao_index, padding]),
        ao_l=extend(basis.ao_l, -1),
        ao_m=None if basis.ao_m is None else extend(basis.ao_m, 0),
        ao_atom=extend(basis.ao_atom, -1),
    )
