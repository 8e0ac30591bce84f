"""jit-compiled atomic orbitals and electron densities on points, exactly as PySCF evaluates them.

Every function here is written for one point ``r`` [3] (Bohr) and mapped over points in chunks
(``jax.lax.map`` with ``batch_size``), so memory stays bounded on large 3-D grids. Derivatives
with respect to the points come from forward-mode autodiff of the AO kernel (``jax.jacfwd``),
never from hand-written derivative formulas. Every function is differentiable with respect to
the basis leaves (atom positions, exponents, coefficients) and the density matrix, and runs in
float64 when ``jax_enable_x64`` is on, float32 otherwise (see ``docs/kernel.md`` for the
measured float32 error).

Shapes: ``points`` [N, 3] in Bohr; density matrices [nao, nao] or a stack [K, nao, nao] in PySCF
AO order; densities in electrons/Bohr^3.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from qc_jax import basis as basis_lib
from qc_jax.basis import Basis

#: Points evaluated together inside one ``lax.map`` step.
DEFAULT_CHUNK = 4096

#: PySCF's order of the second-derivative components (xx, xy, xz, yy, yz, zz).
_HESSIAN_COMPONENTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _normalised_coefficients(l: int, exponents: jax.Array, coefficients: jax.Array) -> jax.Array:
    """[n_shells, n_prim] coefficients of exp(-a r^2) r^l, normalised as PySCF does.

    Applies the primitive norms and renormalises each contraction, so a function stays
    normalised when its exponents change (it reproduces PySCF's stored values at PySCF's
    exponents). The overlap of two normalised primitives is (2 sqrt(a b) / (a + b))^(l + 3/2).
    """
    a, b = exponents[:, :, None], exponents[:, None, :]
    overlap = (2 * jnp.sqrt(a * b) / (a + b)) ** (l + 1.5)
    norm2 = jnp.einsum("sp,spq,sq->s", coefficients, overlap, coefficients)
    norm2 = jnp.where(norm2 > 0, norm2, 1.0)  # padded shells: zero coefficients stay zero
    primitive_norm = jnp.sqrt(2 * (2 * exponents) ** (l + 1.5) / math.gamma(l + 1.5))
    return coefficients * primitive_norm / jnp.sqrt(norm2)[:, None]


def _ao_at(basis: Basis, r: jax.Array) -> jax.Array:
    """[nao] AO values at one point ``r`` [3] (Bohr), in PySCF's AO order."""
    values = []
    for g, l in enumerate(basis.ls):
        exponents = basis.exponents[g]
        coefficients = _normalised_coefficients(l, exponents, basis.coefficients[g])
        d = r - basis.coords[basis.shell_atom[g]]  # [n_shells, 3]
        r2 = jnp.sum(d * d, axis=-1)
        radial = jnp.sum(coefficients * jnp.exp(-exponents * r2[:, None]), axis=-1)
        powers = [jnp.ones_like(d)]
        for _ in range(l):
            powers.append(powers[-1] * d)
        powers = jnp.stack(powers)  # [l + 1, n_shells, 3]
        lx, ly, lz = basis_lib.cartesian_powers(l).T
        monomials = powers[lx, :, 0] * powers[ly, :, 1] * powers[lz, :, 2]  # [n_cart, n_shells]
        c2s = jnp.asarray(basis_lib.cartesian_to_output(l, basis.cart), radial.dtype)
        values.append((radial * monomials).T @ c2s)  # [n_shells, n_out]
    return jnp.concatenate([v.reshape(-1) for v in values])[basis.ao_index]


def _ao_derivatives_at(basis: Basis, deriv: int, r: jax.Array) -> jax.Array:
    """[n_components, nao] AO values and derivatives at ``r`` in PySCF's component order."""
    ao = functools.partial(_ao_at, basis)
    rows = [ao(r)]
    if deriv >= 1:
        rows.extend(jax.jacfwd(ao)(r).T)
    if deriv >= 2:
        hessian = jax.jacfwd(jax.jacfwd(ao))(r)  # [nao, 3, 3]
        rows.extend(hessian[:, i, j] for i, j in _HESSIAN_COMPONENTS)
    return jnp.stack(rows)


def _density_at(basis: Basis, dm: jax.Array, r: jax.Array) -> jax.Array:
    """rho(r) = sum_ij dm_ij phi_i phi_j for dm [..., nao, nao]; returns [...]."""
    phi = _ao_at(basis, r)
    return jnp.einsum("...ij,i,j->...", dm, phi, phi)


def _density_derivatives_at(basis: Basis, dm: jax.Array, deriv: int, r: jax.Array) -> jax.Array:
    """[..., 1 | 4 | 5]: rho, then its gradient (deriv >= 1), then its Laplacian (deriv 2)."""
    rho = functools.partial(_density_at, basis, dm)
    parts = [rho(r)[..., None]]
    if deriv >= 1:
        parts.append(jax.jacfwd(rho)(r))
    if deriv >= 2:
        hessian = jax.jacfwd(jax.jacfwd(rho))(r)
        parts.append(jnp.trace(hessian, axis1=-2, axis2=-1)[..., None])
    return jnp.concatenate(parts, axis=-1)


def _kinetic_energy_density_at(
    basis: Basis, mo_coeff: jax.Array, mo_occ: jax.Array, r: jax.Array
) -> jax.Array:
    """tau(r) = 1/2 sum_i n_i |grad psi_i(r)|^2 (Hartree/Bohr^3, PySCF's convention)."""
    grad_ao = jax.jacfwd(functools.partial(_ao_at, basis))(r)  # [nao, 3]
    grad_mo = mo_coeff.T @ grad_ao  # [nmo, 3]
    return 0.5 * jnp.sum(mo_occ * jnp.sum(grad_mo**2, axis=-1))


def _map_points(fn, points: jax.Array, chunk_size: int) -> jax.Array:
    """Applies the one-point ``fn`` to every row of ``points`` [N, 3], ``chunk_size`` at a time."""
    if points.shape[0] <= chunk_size:
        return jax.vmap(fn)(points)
    return jax.lax.map(fn, points, batch_size=chunk_size)


@functools.partial(jax.jit, static_argnames=("deriv",))
def _eval_ao(basis: Basis, points: jax.Array, deriv: int) -> jax.Array:
    values = jax.vmap(functools.partial(_ao_derivatives_at, basis, deriv))(points)
    return jnp.moveaxis(values, 0, 1)  # [n_components, N, nao]


@functools.partial(jax.jit, static_argnames=("deriv", "chunk_size"))
def _density(
    basis: Basis, dm: jax.Array, points: jax.Array, deriv: int, chunk_size: int
) -> jax.Array:
    fn = functools.partial(_density_derivatives_at, basis, dm, deriv)
    return jnp.moveaxis(_map_points(fn, points, chunk_size), 0, -1)  # [..., n_components, N]


@functools.partial(jax.jit, static_argnames=("chunk_size",))
def _kinetic_energy_density(
    basis: Basis, mo_coeff: jax.Array, mo_occ: jax.Array, points: jax.Array, chunk_size: int
) -> jax.Array:
    fn = functools.partial(_kinetic_energy_density_at, basis, mo_coeff, mo_occ)
    return _map_points(fn, points, chunk_size)


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
    points: jax.Array,
    ao_mask: jax.Array | None = None,
    deriv: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
) -> jax.Array:
    """Electron density rho(r) = sum_ij P_ij phi_i(r) phi_j(r) (electrons/Bohr^3) on points.

    Args:
      basis: from :func:`qc_jax.basis.from_pyscf`.
      dm: density matrix [nao, nao], or a stack [K, nao, nao] evaluated with one AO pass.
      points: [N, 3] in Bohr.
      ao_mask: optional partition of the density. A vector [nao] keeps the rows mu in the mask
        (rho_mask = sum_{mu in mask} sum_nu P_mu,nu phi_mu phi_nu, so the masks of a complete
        partition, e.g. by ``basis.ao_l`` or ``|basis.ao_m|``, sum to rho); a matrix
        [nao, nao] weights P elementwise (e.g. the interatomic A-B block).
      deriv: 0 -> rho [..., N]; 1 -> [..., 4, N] (rho, d/dx, d/dy, d/dz);
        2 -> [..., 5, N] (then the Laplacian), all by autodiff.
      chunk_size: points evaluated at once; bounds memory on large grids.
    """
    if deriv not in (0, 1, 2):
        raise ValueError(f"deriv must be 0, 1 or 2, got {deriv!r}")
    points = _checked_points(points)
    dm = _checked_matrix("density matrix", dm, basis.nao)
    if ao_mask is not None:
        dm = dm * _mask_matrix(ao_mask, basis.nao).astype(dm.dtype)
    values = _density(basis, dm, points, deriv, chunk_size)
    return values[..., 0, :] if deriv == 0 else values


def kinetic_energy_density(
    basis: Basis,
    mo_coeff: jax.Array,
    mo_occ: jax.Array,
    points: jax.Array,
    chunk_size: int = DEFAULT_CHUNK,
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
    return _kinetic_energy_density(basis, mo_coeff, mo_occ, points, chunk_size)


def density_many(
    bases: Sequence[Basis],
    dms: Sequence[np.ndarray],
    points: jax.Array,
    deriv: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
) -> jax.Array:
    """Densities of many molecules of different sizes in one compiled, vmapped call.

    ``bases`` and ``dms`` ([nao_b, nao_b] or [K, nao_b, nao_b] each) are padded to a common
    layout (:func:`qc_jax.basis.stack`); ``points`` [N, 3] are shared or [B, N, 3] per molecule.
    Returns [B, ...] with the shape :func:`density` gives for one molecule.
    """
    if len(bases) != len(dms):
        raise ValueError(f"got {len(bases)} bases but {len(dms)} density matrices")
    stacked = basis_lib.stack(bases)
    padded = np.stack(
        [
            basis_lib.pad_matrix(_checked_matrix("density matrix", dm, b.nao), stacked.nao)
            for b, dm in zip(bases, dms, strict=True)
        ]
    )
    points = _checked_points(points, batched=True)
    points_axis = 0 if points.ndim == 3 else None
    batched = jax.vmap(density, in_axes=(0, 0, points_axis, None, None, None))
    return batched(stacked, padded, points, None, deriv, chunk_size)


def _checked_points(points: jax.Array, batched: bool = False) -> jax.Array:
    points = jnp.asarray(points)
    ok_shape = points.shape[-1:] == (3,) and points.ndim in ((2, 3) if batched else (2,))
    if not ok_shape:
        raise ValueError(f"points must be [N, 3] (Bohr), got shape {points.shape}")
    if not isinstance(points, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(points))):
        bad = int(jnp.sum(~jnp.all(jnp.isfinite(points), axis=-1)))
        raise ValueError(f"points contain NaN or inf ({bad} of {points.shape[-2]} points)")
    return points


def _checked_matrix(name: str, matrix: jax.Array, nao: int) -> jax.Array:
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
