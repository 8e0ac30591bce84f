"""jit-compiled atomic orbitals and electron densities on points, exactly as PySCF evaluates them.

Points are processed in chunks (``jax.lax.map`` over [chunk, 3] blocks), so memory stays bounded
on large 3-D grids. A basis is first turned into dense tables (:func:`ao_tables`); then every
AO, its gradient and its Laplacian at a chunk of points are a few matrix products (Gaussians
against exponents and contractions, monomials of the displacements against polynomial tables)
and elementwise products, differentiated by hand (:func:`ao_jet`); densities are contracted as
matrix products. :func:`eval_ao` takes the Hessian components by forward-mode autodiff
(``jax.jvp`` along x, y, z). Every function is tested against PySCF, is differentiable with
respect to the basis leaves (atom positions, exponents, coefficients) and the density matrix,
and runs in float64 when ``jax_enable_x64`` is on, float32 otherwise (see ``docs/kernel.md``
for the measured float32 error).

Shapes: ``points`` [N, 3] in Bohr; density matrices [nao, nao] or a stack [K, nao, nao] in PySCF
AO order; densities in electrons/Bohr^3.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qc_jax import basis as basis_lib
from qc_jax.basis import Basis

#: Points evaluated together inside one ``lax.map`` step on CPU, by derivative order: chunks
#: small enough to keep the AO jet ([points, nao] per component) in cache. Measured against
#: 16,384-point chunks (``benchmarks/kernel_vs_pyscf.py --chunk-sweep``, benchmarks/README.md):
#: rho, gradient, Laplacian and tau 1.6-1.9x faster with 288 points, rho 1.2-1.6x with 288 or
#: 2,304 (2026-11-30; history, 2026-11-25, before the dense-table kernel: 2.2-2.7x, canvases
#: 1.4-1.5x).
CPU_CHUNK = {0: 2304, 1: 1152, 2: 288}

#: Molecules vmapped together in a step of :func:`density_many` on CPU: one at a time was the
#: fastest of 1, 4, 8, 16 and 64 on 64 diatomics on a 64x64 plane in two runs (2026-11-30; the
#: comparison's command is not in the repository, benchmarks/README.md has the earlier 8).
CPU_MOLECULES_PER_STEP = 1

#: Points per step on GPUs and TPUs, which want large steps.
ACCELERATOR_CHUNK = 16384


def default_chunk(deriv: int = 0) -> int:
    """Points per ``lax.map`` step for AO derivatives up to ``deriv`` on the default backend."""
    return CPU_CHUNK[deriv] if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK

class AOTables(NamedTuple):
    """A basis as the dense matrices :func:`ao_jet` multiplies (from :func:`ao_tables`).

    Sizes: ``natm`` atoms, ``P`` primitives, ``S`` shells, ``nao`` AOs (PySCF order), ``M``
    Cartesian monomials x^i y^j z^k of degree <= L per atom (L the highest l), ``K`` = 4
    (spherical) or 5 (Cartesian) angular kinds, ``Q`` primitives per shell. Padding any of
    P, S, nao, M, Q with zeros (exponents with ones, ``ao_shell`` with any valid shell) adds
    only zero functions (:func:`pad_tables`).
    """

    coords: jax.Array
    """[natm, 3] atom positions (Bohr)."""
    exponent_matrix: jax.Array
    """[natm, P]: -a_p in the row of primitive p's atom, 0 elsewhere (Bohr^-2)."""
    radial: jax.Array
    """[P, 3, S]: primitive p's normalised coefficient c_p in the column of its shell, times
    1, -2 a_p and 4 a_p^2 (the radial part R and the factors R1, R2 of its derivatives)."""
    shell_atom: jax.Array
    """[natm, S] one-hot atom of each shell."""
    shell_l: jax.Array
    """[S] angular momentum of each shell (float)."""
    ao_shell: jax.Array
    """[nao] int shell of each AO."""
    ao_atom: jax.Array
    """[natm, nao] one-hot atom of each AO."""
    angular: jax.Array
    """[natm * M, K * nao]: monomials of each atom to, per AO, the angular part A (a solid
    harmonic or Cartesian monomial with PySCF's factors), its derivatives A_x, A_y, A_z and,
    for Cartesian bases, its Laplacian (zero for solid harmonics)."""
    shell_exponents: jax.Array
    """[S, Q] exponents of each shell's primitives (1 for padding), for :func:`map_grid`."""
    shell_coefficients: jax.Array
    """[S, Q] their normalised coefficients (0 for padding)."""


#: PySCF's order of the second-derivative components (xx, xy, xz, yy, yz, zz).
_HESSIAN_COMPONENTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _normalised_coefficients(l: int, exponents: jax.Array, coefficients: jax.Array,
                             xp=jnp) -> jax.Array:
    """[n_shells, n_prim] coefficients of exp(-a r^2) r^l, normalised as PySCF does.

    Applies the primitive norms and renormalises each contraction, so a function stays
    normalised when its exponents change (it reproduces PySCF's stored values at PySCF's
    exponents). The overlap of two normalised primitives is (2 sqrt(a b) / (a + b))^(l + 3/2).
    """
    a, b = exponents[:, :, None], exponents[:, None, :]
    overlap = (2 * xp.sqrt(a * b) / (a + b)) ** (l + 1.5)
    norm2 = xp.einsum("sp,spq,sq->s", coefficients, overlap, coefficients)
    norm2 = xp.where(norm2 > 0, norm2, 1.0)  # padded shells: zero coefficients stay zero
    primitive_norm = xp.sqrt(2 * (2 * exponents) ** (l + 1.5) / math.gamma(l + 1.5))
    return coefficients * primitive_norm / xp.sqrt(norm2)[:, None]


def _one_hot(indices, n: int, dtype, xp=jnp) -> jax.Array:
    """[len(indices), n] rows e_index."""
    return (xp.asarray(indices)[:, None] == xp.arange(n)).astype(dtype)


def _radial_matrices(basis: Basis, xp=jnp) -> tuple[jax.Array, ...]:
    """Primitive exponents and contractions of all shells, as two sparse matrices and per shell.

    Returns ``exponent_matrix`` [n_atoms, P] with -a_p in the row of primitive p's atom,
    ``contraction`` [P, S] with primitive p's normalised coefficient in the column of its shell
    (radial parts are ``exp(r2 @ exponent_matrix) @ contraction`` for r2 [..., n_atoms]: two
    matrix products around one elementwise exp, which XLA vectorises well), and the
    exponents and normalised coefficients [S, Q] of each shell's primitives (grouped order).
    """
    width = max(e.shape[-1] for e in basis.exponents)
    exponent_blocks, contraction_blocks, shell_exponents, shell_coefficients = [], [], [], []
    for g, l in enumerate(basis.ls):
        exponents = xp.asarray(basis.exponents[g])  # [n_shells, n_prim]
        n_shells, n_prim = exponents.shape
        atom = _one_hot(basis.shell_atom[g], basis.natm, exponents.dtype, xp)
        exponent_blocks.append(
            (-atom[:, :, None] * exponents[:, None, :])
            .transpose(1, 0, 2)
            .reshape(basis.natm, n_shells * n_prim)
        )
        coefficients = _normalised_coefficients(l, exponents, xp.asarray(basis.coefficients[g]),
                                                xp)  # fmt: skip
        shell = xp.eye(n_shells, dtype=exponents.dtype)
        contraction_blocks.append(
            (coefficients[:, :, None] * shell[:, None, :]).reshape(n_shells * n_prim, n_shells)
        )
        padding = ((0, 0), (0, width - n_prim))
        shell_exponents.append(xp.pad(exponents, padding, constant_values=1.0))
        shell_coefficients.append(xp.pad(coefficients, padding))
    widths = np.cumsum([0] + [block.shape[1] for block in contraction_blocks])
    contraction = xp.concatenate([  # block diagonal
        xp.concatenate([xp.zeros((block.shape[0], widths[g]), block.dtype), block,
                        xp.zeros((block.shape[0], widths[-1] - widths[g + 1]), block.dtype)],
                       axis=1)
        for g, block in enumerate(contraction_blocks)])  # fmt: skip
    return (xp.concatenate(exponent_blocks, axis=1), contraction,
            xp.concatenate(shell_exponents), xp.concatenate(shell_coefficients))  # fmt: skip


def _monomial_powers(degree: int) -> np.ndarray:
    """[M, 3] exponents (i, j, k) of the monomials x^i y^j z^k of degree <= ``degree``, by
    degree, each degree in PySCF's Cartesian order (so a lower degree's list is a prefix)."""
    return np.concatenate([basis_lib.cartesian_powers(l) for l in range(degree + 1)])


def _degree_of(n_monomials: int) -> int:
    """The degree L whose :func:`_monomial_powers` has ``n_monomials`` rows."""
    return next(l for l in range(basis_lib.MAX_L + 1)
                if (l + 1) * (l + 2) * (l + 3) // 6 == n_monomials)


def _component_offsets(cart: bool) -> np.ndarray:
    """Row of the first output component of each l in :func:`_angular_polynomials`."""
    sizes = [basis_lib.n_functions(l, cart) for l in range(basis_lib.MAX_L + 1)]
    return np.cumsum([0, *sizes])


@functools.cache
def _angular_polynomials(cart: bool) -> np.ndarray:
    """[n_components, M, 5]: for every output component of a shell of every l <= MAX_L (rows
    by l, then PySCF's component order), the coefficients over the monomials of degree <=
    MAX_L of its angular part A (PySCF's factors included), of dA/dx, dA/dy, dA/dz, and of
    its Laplacian (zero for solid harmonics). Derivatives of monomials are exact integers."""
    powers = _monomial_powers(basis_lib.MAX_L)
    row = {tuple(p): i for i, p in enumerate(powers)}
    tables = []
    for l in range(basis_lib.MAX_L + 1):
        for output in basis_lib.cartesian_to_output(l, cart).T:
            table = np.zeros((len(powers), 5))
            for coefficient, power in zip(output, basis_lib.cartesian_powers(l), strict=True):
                table[row[tuple(power)], 0] += coefficient
                for k in range(3):
                    step = np.eye(3, dtype=int)[k]
                    if power[k] >= 1:
                        table[row[tuple(power - step)], 1 + k] += coefficient * power[k]
                    if power[k] >= 2:
                        table[row[tuple(power - 2 * step)], 4] += (
                            coefficient * power[k] * (power[k] - 1))
            tables.append(table)
    return np.stack(tables)


def _grouped_maps(basis: Basis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Static maps in grouped order (see :mod:`qc_jax.basis`): per AO, its row of
    :func:`_angular_polynomials` and its shell; per shell, its l."""
    offsets = _component_offsets(basis.cart)
    component, shell, shell_l = [], [], []
    for g, l in enumerate(basis.ls):
        n_shells, n_functions = basis.shell_atom[g].shape[-1], basis_lib.n_functions(l, basis.cart)
        component.append(np.tile(offsets[l] + np.arange(n_functions), n_shells))
        shell.append(len(shell_l) + np.repeat(np.arange(n_shells), n_functions))
        shell_l.extend([l] * n_shells)
    return np.concatenate(component), np.concatenate(shell), np.array(shell_l)


def ao_tables(basis: Basis, xp=jnp) -> AOTables:
    """The :class:`AOTables` of a basis (one molecule), differentiable with respect to its atom
    positions, exponents and coefficients. Build them once, outside a loop over chunks;
    ``xp=numpy`` builds them on the host (no compilation per basis layout)."""
    exponent_matrix, contraction, shell_exponents, shell_coefficients = _radial_matrices(
        basis, xp)  # [natm, P], [P, S], [S, Q], [S, Q]
    dtype = exponent_matrix.dtype
    a = -xp.sum(exponent_matrix, axis=0)[:, None]  # [P, 1]
    radial = xp.stack([contraction, -2 * a * contraction, 4 * a * a * contraction], axis=1)
    component, shell, shell_l = _grouped_maps(basis)
    ao_index = xp.asarray(basis.ao_index)
    ao_shell = xp.asarray(shell)[ao_index]
    shell_atom = xp.concatenate([xp.asarray(atoms) for atoms in basis.shell_atom])
    ao_atom = _one_hot(shell_atom[ao_shell], basis.natm, dtype, xp).T  # [natm, nao]
    n_monomials = len(_monomial_powers(max(basis.ls)))
    kinds = 5 if basis.cart else 4
    polynomials = _angular_polynomials(basis.cart)[:, :n_monomials, :kinds].astype(dtype)
    per_ao = xp.asarray(polynomials)[xp.asarray(component)[ao_index]]  # [nao, M, K]
    angular = xp.einsum("au,umk->amku", ao_atom, per_ao)
    return AOTables(
        coords=xp.asarray(basis.coords, dtype),
        exponent_matrix=exponent_matrix,
        radial=radial,
        shell_atom=_one_hot(shell_atom, basis.natm, dtype, xp).T,
        shell_l=xp.asarray(shell_l, dtype),
        ao_shell=ao_shell,
        ao_atom=ao_atom,
        angular=angular.reshape(basis.natm * n_monomials, kinds * basis.nao),
        shell_exponents=shell_exponents,
        shell_coefficients=shell_coefficients,
    )


def pad_tables(tables: AOTables, n_primitives: int, n_shells: int, nao: int,
               n_monomials: int, width: int) -> AOTables:
    """The same functions in larger tables (host arrays; sizes >= the current ones; ``width``
    primitives per shell), plus zero functions: AOs ``nao_old..nao - 1`` are zero. Tables of
    one padded size share one compiled kernel."""
    t = jax.tree.map(np.asarray, tables)
    natm, n_rows = t.coords.shape[0], t.angular.shape[0]
    old_nao, old_monomials = t.ao_shell.shape[0], n_rows // natm
    kinds = t.angular.shape[1] // old_nao

    pad = basis_lib.pad_to
    angular = pad(t.angular.reshape(natm, old_monomials, kinds, old_nao),
                  (natm, n_monomials, kinds, nao))
    return AOTables(
        coords=t.coords,
        exponent_matrix=pad(t.exponent_matrix, (natm, n_primitives)),
        radial=pad(t.radial, (n_primitives, 3, n_shells)),
        shell_atom=pad(t.shell_atom, (natm, n_shells)),
        shell_l=pad(t.shell_l, (n_shells,)),
        ao_shell=pad(t.ao_shell, (nao,)),
        ao_atom=pad(t.ao_atom, (natm, nao)),
        angular=angular.reshape(natm * n_monomials, kinds * nao),
        shell_exponents=pad(t.shell_exponents, (n_shells, width), fill=1.0),
        shell_coefficients=pad(t.shell_coefficients, (n_shells, width)),
    )


def join_tables(parts: Sequence[AOTables]) -> AOTables:
    """The tables of a molecule from those of its fragments (host arrays; e.g. single atoms),
    whose atoms and AOs follow one another in the molecule's order, as PySCF orders AOs by
    atom: block-diagonal, the monomial axis padded to the largest."""
    parts = [jax.tree.map(np.asarray, part) for part in parts]
    n_monomials = max(p.angular.shape[0] // p.coords.shape[0] for p in parts)
    kinds = {p.angular.shape[1] // p.ao_shell.shape[0] for p in parts}
    if len(kinds) > 1:
        raise ValueError("cannot join Cartesian and spherical tables")
    width = max(p.shell_exponents.shape[1] for p in parts)
    parts = [pad_tables(p, p.radial.shape[0], p.radial.shape[2], p.ao_shell.shape[0],
                        n_monomials, width) for p in parts]  # fmt: skip
    shells = np.cumsum([0] + [p.radial.shape[2] for p in parts])
    natm = sum(p.coords.shape[0] for p in parts)
    angular = _block_diagonal([p.angular.reshape(p.coords.shape[0], n_monomials, -1,
                                                 p.ao_shell.shape[0]) for p in parts],
                              (0, 3))  # fmt: skip
    return AOTables(
        coords=np.concatenate([p.coords for p in parts]),
        exponent_matrix=_block_diagonal([p.exponent_matrix for p in parts], (0, 1)),
        radial=_block_diagonal([p.radial for p in parts], (0, 2)),
        shell_atom=_block_diagonal([p.shell_atom for p in parts], (0, 1)),
        shell_l=np.concatenate([p.shell_l for p in parts]),
        ao_shell=np.concatenate([p.ao_shell + first
                                 for p, first in zip(parts, shells[:-1], strict=True)]),
        ao_atom=_block_diagonal([p.ao_atom for p in parts], (0, 1)),
        angular=angular.reshape(natm * n_monomials, -1),
        shell_exponents=np.concatenate([p.shell_exponents for p in parts]),
        shell_coefficients=np.concatenate([p.shell_coefficients for p in parts]),
    )


def _block_diagonal(blocks: list[np.ndarray], axes: tuple[int, int]) -> np.ndarray:
    """Blocks placed one after the other along both ``axes`` (other axes equal), zeros
    elsewhere."""
    shape = list(blocks[0].shape)
    for axis in axes:
        shape[axis] = sum(block.shape[axis] for block in blocks)
    out = np.zeros(shape, blocks[0].dtype)
    starts = [0, 0]
    for block in blocks:
        where = [slice(None)] * block.ndim
        for i, axis in enumerate(axes):
            where[axis] = slice(starts[i], starts[i] + block.shape[axis])
            starts[i] += block.shape[axis]
        out[tuple(where)] = block
    return out


def _monomials(d: jax.Array, n_monomials: int) -> jax.Array:
    """[C, n_atoms * M]: the monomials of :func:`_monomial_powers` of the displacements ``d``
    [C, n_atoms, 3] from every atom, atom-major."""
    degree = _degree_of(n_monomials)
    powers = [[jnp.ones_like(d[..., k])] for k in range(3)]
    for k in range(3):
        for _ in range(degree):
            powers[k].append(powers[k][-1] * d[..., k])
    monomials = jnp.stack(
        [powers[0][i] * powers[1][j] * powers[2][k] for i, j, k in _monomial_powers(degree)],
        axis=-1)  # fmt: skip
    return monomials.reshape(d.shape[0], -1)


def ao_jet(tables: AOTables, points: jax.Array, deriv: int) -> tuple[jax.Array, ...]:
    """AO values and their derivatives for the product rule, at points [C, 3] (Bohr).

    Returns ``(phi,)`` [C, nao]; for deriv >= 1 also ``gradient`` [3, C, nao] (d/dx, d/dy,
    d/dz); for deriv 2 also ``laplacian`` [C, nao]. ``tables`` from :func:`ao_tables`. For use
    inside jit (no input checks); chunk large grids with :func:`map_chunks`.

    Each AO is phi = R(r^2) A(d) with d = r - A_atom, R = sum_p c_p exp(-a_p r^2) and A a
    polynomial (solid harmonic or monomial), differentiated by hand, exactly: with
    R1 = sum_p -2 a_p c_p exp(-a_p r^2) and R2 = sum_p 4 a_p^2 c_p exp(-a_p r^2),
    d/dk phi = R1 d_k A + R dA/dk and, as A is homogeneous of degree l (d . grad A = l A),
    laplacian phi = ((3 + 2 l) R1 + r^2 R2) A + R laplacian A. All are matrix products with
    the tables and elementwise products; the tests compare every component with PySCF.
    """
    d = points[:, None, :] - tables.coords  # [C, n_atoms, 3]
    r2 = jnp.sum(d * d, axis=-1)
    gaussians = jnp.exp(r2 @ tables.exponent_matrix)  # [C, P]
    n_primitives, _, n_shells = tables.radial.shape
    radial = gaussians @ tables.radial[:, : deriv + 1].reshape(n_primitives, -1)
    return _jet(tables, d, r2, radial.reshape(-1, deriv + 1, n_shells), deriv)


def _jet(tables: AOTables, d: jax.Array, r2: jax.Array, radial: jax.Array, deriv: int
         ) -> tuple[jax.Array, ...]:
    """:func:`ao_jet` from displacements d [C, n_atoms, 3], their squares r2 [C, n_atoms] and
    the radial parts [C, R | R1 | R2, S]."""
    nao = tables.ao_shell.shape[0]
    kinds = 1 if deriv == 0 else tables.angular.shape[1] // nao
    angular = _monomials(d, tables.angular.shape[0] // tables.coords.shape[0]) @ (
        tables.angular[:, : kinds * nao])
    angular = angular.reshape(-1, kinds, nao)  # [C, A | dA/dk | laplacian A, nao]
    r_phi = radial[:, 0][:, tables.ao_shell]
    phi = r_phi * angular[:, 0]
    if deriv == 0:
        return (phi,)
    r1_phi = radial[:, 1][:, tables.ao_shell] * angular[:, 0]
    gradient = jnp.stack([(d[..., k] @ tables.ao_atom) * r1_phi + r_phi * angular[:, 1 + k]
                          for k in range(3)])  # fmt: skip
    if deriv == 1:
        return phi, gradient
    laplacian_radial = ((3 + 2 * tables.shell_l) * radial[:, 1]
                        + (r2 @ tables.shell_atom) * radial[:, 2])  # fmt: skip
    laplacian = laplacian_radial[:, tables.ao_shell] * angular[:, 0]
    if kinds == 5:  # Cartesian monomials: laplacian A != 0
        laplacian += r_phi * angular[:, 4]
    return phi, gradient, laplacian


class Grid(NamedTuple):
    """A rectilinear grid: every point (x_i, y_j, z_k) of three axes (Bohr), x-major (the
    flattened index is (i * ny + j) * nz + k, as ``np.meshgrid(x, y, z, indexing="ij")``).
    Planes (one y) and boxes are grids; the kernels evaluate the Gaussians on them by axis."""

    x: jax.Array
    """[nx] (Bohr)."""
    y: jax.Array
    """[ny] (Bohr)."""
    z: jax.Array
    """[nz] (Bohr)."""

    @property
    def size(self) -> int:
        return self.x.shape[-1] * self.y.shape[-1] * self.z.shape[-1]

    def points(self) -> jax.Array:
        """[nx * ny * nz, 3] the points, in grid order."""
        return jnp.stack(jnp.meshgrid(self.x, self.y, self.z, indexing="ij"), -1).reshape(-1, 3)


def map_grid(fn, tables: AOTables, grid: Grid, deriv: int, chunk_size: int) -> jax.Array:
    """``fn`` (an :func:`ao_jet` of order ``deriv`` at C points -> [..., C]) over the points of
    ``grid`` -> [..., N], blocks of x values at a time (about ``chunk_size`` points). A
    Gaussian is a product of one factor per axis, exp(-a |r - A|^2) = exp(-a (x - A_x)^2)
    exp(-a (y - A_y)^2) exp(-a (z - A_z)^2), so exponentials are taken on the axes only and
    multiplied out per shell."""
    exponents, coefficients = tables.shell_exponents, tables.shell_coefficients  # [S, Q]
    centres = tables.shell_atom.T @ tables.coords  # [S, 3]
    weights = jnp.stack([coefficients, -2 * exponents * coefficients,
                         4 * exponents**2 * coefficients])[: deriv + 1]  # [K, S, Q]  # fmt: skip

    def factors(axis_values, axis):  # [n] -> [Q, n, S]: primitives first, for the sums
        offsets = axis_values[:, None] - centres[:, axis]
        return jnp.exp(-exponents.T[:, None, :] * offsets**2)

    plane = factors(grid.y, 1)[:, :, None] * factors(grid.z, 2)[:, None]  # [Q, ny, nz, S]
    plane = plane.reshape(exponents.shape[1], -1, 1, exponents.shape[0]) * (
        jnp.moveaxis(weights, -1, 0)[:, None])  # [Q, ny * nz, K, S]
    n_plane = plane.shape[1]
    nx = grid.x.shape[0]
    n_blocks = -(-nx // max(1, chunk_size // n_plane))
    rows = -(-nx // n_blocks)  # balanced blocks: the least padding
    xs = jnp.pad(grid.x, (0, n_blocks * rows - nx), mode="edge").reshape(n_blocks, rows)
    yz = jnp.stack(jnp.meshgrid(grid.y, grid.z, indexing="ij"), -1).reshape(-1, 2)

    def block(x):  # [rows] -> [..., rows * ny * nz]
        # [rows, ny * nz, K, S]
        radial = jnp.sum(factors(x, 0)[:, :, None, None] * plane[:, None], axis=0)
        points = jnp.concatenate([jnp.broadcast_to(x[:, None, None], (rows, n_plane, 1)),
                                  jnp.broadcast_to(yz, (rows, n_plane, 2))], -1).reshape(-1, 3)
        d = points[:, None, :] - tables.coords
        return fn(_jet(tables, d, jnp.sum(d * d, axis=-1),
                       radial.reshape(-1, deriv + 1, exponents.shape[0]), deriv))

    values = jax.lax.map(block, xs)  # [n_blocks, ..., rows * nyz]
    values = jnp.moveaxis(values, 0, -2)
    return values.reshape(*values.shape[:-2], -1)[..., : grid.size]


def _derivative(fn, points: jax.Array, *axes: int) -> tuple[jax.Array, ...]:
    """Nested forward-mode derivatives of ``fn`` along Cartesian ``axes`` at every point.

    Returns ``fn(points)``, the derivative along ``axes[0]`` and, for two axes, the second
    derivative along ``axes[0]`` then ``axes[1]`` (every value and lower order comes for free).
    Valid because each output row depends on its own point only, so a tangent that is e_k at
    every point gives d/dk at every point.
    """

    def unit(axis):
        return jnp.zeros_like(points).at[..., axis].set(1)

    if len(axes) == 1:
        return jax.jvp(fn, (points,), (unit(axes[0]),))

    def first(p):
        return jax.jvp(fn, (p,), (unit(axes[0]),))

    (value, first_derivative), (_, second_derivative) = jax.jvp(first, (points,), (unit(axes[1]),))
    return value, first_derivative, second_derivative


def _ao_derivatives(basis: Basis, deriv: int, points: jax.Array) -> jax.Array:
    """[1 | 4 | 10, C, nao]: AOs, gradient, Hessian (xx, xy, xz, yy, yz, zz) as PySCF, by
    autodiff of the AO values."""
    tables = ao_tables(basis)

    def ao(p):
        return ao_jet(tables, p, deriv=0)[0]

    rows = [ao(points)]
    if deriv >= 1:
        rows.extend(_derivative(ao, points, axis)[1] for axis in range(3))
    if deriv >= 2:
        rows.extend(_derivative(ao, points, i, j)[2] for i, j in _HESSIAN_COMPONENTS)
    return jnp.stack(rows)


def density_from_jet(jet: tuple[jax.Array, ...], dm: jax.Array) -> jax.Array:
    """[..., 1 | 4 | 6, C]: rho, its gradient, its Laplacian and tau from :func:`ao_jet` of
    the same order and dm [..., nao, nao] (not necessarily symmetric, e.g. row-masked), by the
    product rule: d rho = sum_ij P_ij (d phi_i phi_j + phi_i d phi_j), laplacian rho =
    sum_ij P_ij (lap phi_i phi_j + phi_i lap phi_j) + 4 tau, tau = 1/2 sum_ij P_ij grad phi_i
    . grad phi_j (PySCF's MGGA rows)."""
    phi = jet[0]
    phi_dm = phi @ dm  # [..., C, nao]: sum_i phi_i P_ij
    dm_phi = phi @ jnp.swapaxes(dm, -1, -2)  # sum_j P_ij phi_j
    rows = [jnp.sum(phi_dm * phi, axis=-1)[..., None, :]]
    if len(jet) >= 2:
        gradient = jet[1][:, None] if dm.ndim > 2 else jet[1]  # [3, (K,) C, nao]
        rows.append(jnp.moveaxis(jnp.sum(phi_dm * gradient + dm_phi * gradient, axis=-1), 0, -2))
    if len(jet) == 3:
        cross = jnp.sum((gradient @ dm) * gradient, axis=(0, -1))
        laplacian = jnp.sum((phi_dm + dm_phi) * jet[2], axis=-1) + 2 * cross
        rows.extend([laplacian[..., None, :], 0.5 * cross[..., None, :]])
    return jnp.concatenate(rows, axis=-2)


def mo_densities_from_jet(
    jet: tuple[jax.Array, ...], mo_coeff: jax.Array, mo_occ: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """rho [..., C], grad rho [..., 3, C] and tau [..., C] of occupied MOs, from an
    :func:`ao_jet` of order >= 1, MO coefficients [..., nao, nmo] and occupations [..., nmo]
    (``...``: e.g. a spin axis), by :func:`mo_values_from_jet` and :func:`mo_densities`."""
    return mo_densities(*mo_values_from_jet(jet, mo_coeff), mo_occ)


def mo_values_from_jet(jet: tuple[jax.Array, ...], mo_coeff: jax.Array
                       ) -> tuple[jax.Array, jax.Array]:
    """MO values psi [..., C, nmo] and gradients [..., 3, C, nmo] from an :func:`ao_jet` of
    order >= 1 and MO coefficients [..., nao, nmo], in one matrix product for all of them."""
    lead, (nao, nmo) = mo_coeff.shape[:-2], mo_coeff.shape[-2:]
    n_points = jet[0].shape[0]
    side_by_side = jnp.moveaxis(mo_coeff.reshape(-1, nao, nmo), 0, 1).reshape(nao, -1)
    values = jnp.concatenate([jet[0], jet[1].reshape(-1, nao)]) @ side_by_side  # one product
    values = jnp.moveaxis(values.reshape(4 * n_points, -1, nmo), 1, 0)
    values = values.reshape(*lead, 4, n_points, nmo)
    return values[..., 0, :, :], values[..., 1:, :, :]


def mo_densities(psi: jax.Array, grad_psi: jax.Array, mo_occ: jax.Array
                 ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """rho = sum_i n_i psi_i^2 [..., C] (e/Bohr^3), grad rho = 2 sum_i n_i psi_i grad psi_i
    [..., 3, C] and tau = 1/2 sum_i n_i |grad psi_i|^2 [..., C] (Hartree/Bohr^3, PySCF's
    convention) from MO values psi [..., C, nmo], gradients [..., 3, C, nmo] and occupations
    [..., nmo]."""
    occ = mo_occ[..., None, :]  # [..., 1, nmo]
    rho = jnp.sum(occ * psi**2, axis=-1)
    grad_rho = 2 * jnp.sum(occ[..., None, :, :] * psi[..., None, :, :] * grad_psi, axis=-1)
    tau = 0.5 * jnp.sum(occ[..., None, :, :] * grad_psi**2, axis=(-3, -1))
    return rho, grad_rho, tau


def kinetic_energy_density_from_jet(
    jet: tuple[jax.Array, ...], mo_coeff: jax.Array, mo_occ: jax.Array
) -> jax.Array:
    """[C] tau = 1/2 sum_i n_i |grad psi_i|^2 (Hartree/Bohr^3, PySCF's convention) from an
    :func:`ao_jet` of order >= 1, MO coefficients [nao, nmo] and occupations [nmo]."""
    return mo_densities_from_jet(jet, mo_coeff, mo_occ)[2]


def map_chunks(fn, points: jax.Array, chunk_size: int) -> jax.Array:
    """``fn`` ([C, 3] -> [..., C]) over ``points`` [N, 3], about ``chunk_size`` at a time
    (in equal chunks) -> [..., N]."""
    n = points.shape[0]
    if n <= chunk_size:
        return fn(points)
    n_chunks = -(-n // chunk_size)
    chunk_size = -(-n // (8 * n_chunks)) * 8  # balanced chunks: the least padding
    padded = jnp.pad(points, ((0, n_chunks * chunk_size - n), (0, 0)))
    values = jax.lax.map(fn, padded.reshape(n_chunks, chunk_size, 3))  # [n_chunks, ..., C]
    values = jnp.moveaxis(values, 0, -2)
    return values.reshape(*values.shape[:-2], -1)[..., :n]


@functools.partial(jax.jit, static_argnames=("deriv",))
def _eval_ao(basis: Basis, points: jax.Array, deriv: int) -> jax.Array:
    return _ao_derivatives(basis, deriv, points)


@functools.partial(jax.jit, static_argnames=("deriv", "chunk_size"))
def _density(
    basis: Basis, dm: jax.Array, points: jax.Array | Grid, deriv: int, chunk_size: int
) -> jax.Array:
    def fn(jet):  # [..., 1 | 4 | 5, C]: rho, its gradient, its Laplacian
        return density_from_jet(jet, dm)

    tables = ao_tables(basis)
    if isinstance(points, Grid):
        values = map_grid(fn, tables, points, deriv, chunk_size)
    else:
        values = map_chunks(lambda p: fn(ao_jet(tables, p, deriv)), points, chunk_size)
    return values[..., 0, :] if deriv == 0 else values  # [..., N] or [..., 4 | 6, N]


@functools.partial(jax.jit, static_argnames=("chunk_size",))
def _kinetic_energy_density(
    basis: Basis, mo_coeff: jax.Array, mo_occ: jax.Array, points: jax.Array, chunk_size: int
) -> jax.Array:
    tables = ao_tables(basis)

    def fn(chunk_points):
        return kinetic_energy_density_from_jet(ao_jet(tables, chunk_points, 1), mo_coeff, mo_occ)

    return map_chunks(fn, points, chunk_size)


def eval_ao(basis: Basis, points: jax.Array, deriv: int = 0) -> jax.Array:
    """Atomic orbitals (and derivatives) on points, as ``pyscf.dft.numint.eval_ao``.

    Args:
      basis: from :func:`qc_jax.basis.from_pyscf`.
      points: [N, 3] in Bohr.
      deriv: 0 -> [N, nao]; 1 -> [4, N, nao] (value, d/dx, d/dy, d/dz); 2 -> [10, N, nao]
        (then xx, xy, xz, yy, yz, zz), PySCF's component order.
    """
    if deriv not in (0, 1, 2):
        raise ValueError(f"deriv must be 0, 1 or 2, got {deriv!r}")
    points = _checked_points(points)
    values = _eval_ao(basis, points, deriv)
    return values[0] if deriv == 0 else values


def density(
    basis: Basis,
    dm: jax.Array,
    points: jax.Array | Grid,
    ao_mask: jax.Array | None = None,
    deriv: int = 0,
    chunk_size: int | None = None,
) -> jax.Array:
    """Electron density rho(r) = sum_ij P_ij phi_i(r) phi_j(r) (electrons/Bohr^3) on points.

    Args:
      basis: from :func:`qc_jax.basis.from_pyscf`.
      dm: density matrix [nao, nao], or a stack [K, nao, nao] evaluated with one AO pass.
      points: [N, 3] in Bohr, or a :class:`Grid` of N points (faster: its Gaussians are
        evaluated per axis).
      ao_mask: optional partition of the density. A vector [nao] keeps the rows mu in the mask
        (rho_mask = sum_{mu in mask} sum_nu P_mu,nu phi_mu phi_nu, so the masks of a complete
        partition, e.g. by ``basis.ao_l`` or ``|basis.ao_m|``, sum to rho); a matrix
        [nao, nao] weights P elementwise (e.g. the interatomic A-B block).
      deriv: 0 -> rho [..., N]; 1 -> [..., 4, N] (rho, d/dx, d/dy, d/dz); 2 -> [..., 6, N]
        (then the Laplacian and tau = 1/2 sum_ij P_ij grad phi_i . grad phi_j), the rows of
        PySCF's MGGA ``eval_rho(..., with_lapl=True)``.
      chunk_size: points evaluated at once (default :func:`default_chunk` of ``deriv``);
        bounds memory on large grids.
    """
    if deriv not in (0, 1, 2):
        raise ValueError(f"deriv must be 0, 1 or 2, got {deriv!r}")
    points = _checked_points(points)
    dm = _checked_matrix("density matrix", dm, basis.nao)
    if ao_mask is not None:
        dm = dm * _mask_matrix(ao_mask, basis.nao).astype(dm.dtype)
    return _density(basis, dm, points, deriv, chunk_size or default_chunk(deriv))


def kinetic_energy_density(
    basis: Basis,
    mo_coeff: jax.Array,
    mo_occ: jax.Array,
    points: jax.Array,
    chunk_size: int | None = None,
) -> jax.Array:
    """Kinetic-energy density tau = 1/2 sum_i n_i |grad psi_i|^2 [N] (Hartree/Bohr^3).

    ``mo_coeff`` [nao, nmo] (PySCF's ``mf.mo_coeff``), ``mo_occ`` [nmo] occupations,
    ``points`` [N, 3] in Bohr. Equals PySCF's MGGA ``tau`` from ``eval_rho``.
    """
    points = _checked_points(points)
    if mo_coeff.ndim != 2 or mo_coeff.shape[0] != basis.nao:
        raise ValueError(f"mo_coeff must be [nao={basis.nao}, nmo], got {mo_coeff.shape}")
    if mo_occ.shape != mo_coeff.shape[1:]:
        raise ValueError(f"mo_occ must be [nmo={mo_coeff.shape[1]}], got {mo_occ.shape}")
    return _kinetic_energy_density(basis, mo_coeff, mo_occ, points,
                                   chunk_size or default_chunk(1))


def density_many(
    bases: Sequence[Basis],
    dms: Sequence[np.ndarray],
    points: jax.Array | Grid,
    deriv: int = 0,
    chunk_size: int | None = None,
    molecules_per_step: int | None = None,
) -> jax.Array:
    """Densities of many molecules of different sizes in one compiled call.

    ``bases`` and ``dms`` ([nao_b, nao_b] or [K, nao_b, nao_b] each) are padded to a common
    layout (:func:`qc_jax.basis.stack`); ``points`` [N, 3] or a :class:`Grid` are shared,
    [B, N, 3] are per molecule.
    The molecules go through ``jax.lax.map``, ``molecules_per_step`` of them vmapped together:
    by default :data:`CPU_MOLECULES_PER_STEP` on CPU (see ``benchmarks/README.md``) and all at
    once on GPU/TPU. Returns [B, ...], the shape :func:`density` gives for one molecule.
    """
    if len(bases) != len(dms):
        raise ValueError(f"got {len(bases)} bases but {len(dms)} density matrices")
    if len({np.shape(dm)[:-2] for dm in dms}) > 1:
        raise ValueError("all density matrices must have the same leading (stack) shape")
    if deriv not in (0, 1, 2):
        raise ValueError(f"deriv must be 0, 1 or 2, got {deriv!r}")
    stacked = basis_lib.stack(bases)
    padded = np.stack(
        [
            basis_lib.pad_matrix(
                np.asarray(_checked_matrix("density matrix", dm, b.nao)), stacked.nao
            )
            for b, dm in zip(bases, dms, strict=True)
        ]
    )
    points = _checked_points(points, batched=True)
    if not isinstance(points, Grid) and points.ndim == 3 and points.shape[0] != len(bases):
        raise ValueError(f"got points for {points.shape[0]} molecules but {len(bases)} bases")
    if molecules_per_step is None:
        on_cpu = jax.default_backend() == "cpu"
        molecules_per_step = CPU_MOLECULES_PER_STEP if on_cpu else len(bases)
    return _density_many(stacked, padded, points, deriv, chunk_size or default_chunk(deriv),
                         molecules_per_step)


@functools.partial(jax.jit, static_argnames=("deriv", "chunk_size", "molecules_per_step"))
def _density_many(
    bases: Basis,
    dms: jax.Array,
    points: jax.Array | Grid,
    deriv: int,
    chunk_size: int,
    molecules_per_step: int | None,
) -> jax.Array:
    def one(args):
        basis, dm, molecule_points = args
        molecule_points = points if molecule_points is None else molecule_points
        return _density(basis, dm, molecule_points, deriv, chunk_size)

    per_molecule = points if not isinstance(points, Grid) and points.ndim == 3 else None
    return jax.lax.map(one, (bases, dms, per_molecule), batch_size=molecules_per_step)


def _checked_points(points: jax.Array | Grid, batched: bool = False) -> jax.Array | Grid:
    """Points (or a Grid's axes) of the right shape and finite; host arrays stay on the host
    (jit moves them), so the check costs no device round trip."""
    if isinstance(points, Grid):
        axes = [_checked_points(np.stack([a, a, a], -1) if isinstance(a, np.ndarray)
                                else jnp.stack([a, a, a], -1)) for a in points]  # fmt: skip
        return Grid(*(a[:, 0] for a in axes))
    if not isinstance(points, np.ndarray | jax.core.Tracer):
        points = jnp.asarray(points)
    ok_shape = points.shape[-1:] == (3,) and points.ndim in ((2, 3) if batched else (2,))
    if not ok_shape:
        raise ValueError(f"points must be [N, 3] (Bohr), got shape {points.shape}")
    if not isinstance(points, jax.core.Tracer):
        finite = np.isfinite(np.asarray(points)).all(axis=-1)
        if not finite.all():
            raise ValueError(
                f"points contain NaN or inf ({int((~finite).sum())} of {finite.size} points)"
            )
    return points


def _checked_matrix(name: str, matrix: jax.Array, nao: int) -> jax.Array:
    if not isinstance(matrix, np.ndarray | jax.core.Tracer):
        matrix = jnp.asarray(matrix)
    if matrix.ndim < 2 or matrix.shape[-2:] != (nao, nao):
        raise ValueError(f"{name} must be [..., {nao}, {nao}] for this basis, got {matrix.shape}")
    return matrix


def _mask_matrix(ao_mask: jax.Array, nao: int) -> jax.Array:
    mask = jnp.asarray(ao_mask)
    if mask.shape == (nao,):
        return mask[:, None]
    if mask.shape == (nao, nao):
        return mask
    raise ValueError(f"ao_mask must be [{nao}] or [{nao}, {nao}], got {mask.shape}")
