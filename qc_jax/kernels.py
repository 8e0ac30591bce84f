"""jit-compiled atomic orbitals and electron densities on points, exactly as PySCF evaluates them.

Points are processed in chunks (``jax.lax.map`` over [chunk, 3] blocks), so memory stays bounded
on large 3-D grids, and densities are contracted as matrix products. Derivatives with respect to
the points come from forward-mode autodiff (``jax.jvp`` along x, y, z): of the whole AO kernel
in :func:`eval_ao`, and of the angular parts in :func:`ao_jet`, which differentiates the
Gaussians by hand because that is 2-2.5x faster for second derivatives (benchmarks/README.md);
both are tested against PySCF. Every function is differentiable with respect to
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
from jax import lax

from qc_jax import basis as basis_lib
from qc_jax.basis import Basis

#: Points evaluated together inside one ``lax.map`` step on CPU, by derivative order: chunks
#: small enough to keep the AO jet ([points, nao] per component) in cache. Measured against
#: 16,384-point chunks (benchmarks/README.md): rho + gradient + Laplacian 2.2-2.7x faster with
#: 288 points, canvases 1.4-1.5x; rho alone gains less and prefers 2,304.
CPU_CHUNK = {0: 2304, 1: 1152, 2: 288}

#: Points per step on GPUs and TPUs, which want large steps.
ACCELERATOR_CHUNK = 16384


def default_chunk(deriv: int = 0) -> int:
    """Points per ``lax.map`` step for AO derivatives up to ``deriv`` on the default backend."""
    return CPU_CHUNK[deriv] if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK

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


def _radial_matrices(basis: Basis) -> tuple[jax.Array, jax.Array]:
    """Primitive exponents and contractions of all shells as two sparse matrices.

    Returns ``exponent_matrix`` [n_atoms, P] with -a_p in the row of primitive p's atom, and
    ``contraction`` [P, S] with primitive p's normalised coefficient in the column of its shell,
    so that radial parts are ``exp(r2 @ exponent_matrix) @ contraction`` for r2 [..., n_atoms]:
    two matrix products around one elementwise exp, which XLA vectorises well.
    """
    exponent_blocks, contraction_blocks = [], []
    for g, l in enumerate(basis.ls):
        exponents = basis.exponents[g]  # [n_shells, n_prim]
        n_shells, n_prim = exponents.shape
        atom = jax.nn.one_hot(basis.shell_atom[g], basis.natm, dtype=exponents.dtype)
        exponent_blocks.append(
            (-atom[:, :, None] * exponents[:, None, :])
            .transpose(1, 0, 2)
            .reshape(basis.natm, n_shells * n_prim)
        )
        coefficients = _normalised_coefficients(l, exponents, basis.coefficients[g])
        shell = jnp.eye(n_shells, dtype=exponents.dtype)
        contraction_blocks.append(
            (coefficients[:, :, None] * shell[:, None, :]).reshape(n_shells * n_prim, n_shells)
        )
    return (
        jnp.concatenate(exponent_blocks, axis=1),
        jax.scipy.linalg.block_diag(*contraction_blocks),
    )


def _angular_parts(basis: Basis, d: jax.Array) -> list[jax.Array]:
    """Per shell group, [C, n_atoms, n_out] real solid harmonics (or Cartesian monomials) of
    the displacements ``d`` [C, n_atoms, 3] from every atom (Bohr)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    parts = []
    for l in basis.ls:
        monomials = jnp.stack(  # [C, n_atoms, n_cart]
            [
                lax.integer_pow(x, lx) * lax.integer_pow(y, ly) * lax.integer_pow(z, lz)
                for lx, ly, lz in basis_lib.cartesian_powers(l)
            ],
            axis=-1,
        )
        parts.append(monomials @ jnp.asarray(basis_lib.cartesian_to_output(l, basis.cart),
                                             d.dtype))
    return parts


def _assemble(basis: Basis, radial: jax.Array, angular: list[jax.Array]) -> jax.Array:
    """[C, nao] AOs in PySCF order from radial parts [C, S] and :func:`_angular_parts`."""
    values, first_shell = [], 0
    for g, part in enumerate(angular):
        n_shells = basis.shell_atom[g].shape[0]
        shell_radial = radial[:, first_shell : first_shell + n_shells, None]
        values.append((shell_radial * part[:, basis.shell_atom[g]]).reshape(radial.shape[0], -1))
        first_shell += n_shells
    return jnp.take(jnp.concatenate(values, axis=-1), basis.ao_index, axis=-1)


def _ao_values(basis: Basis, points: jax.Array) -> jax.Array:
    """[C, nao] AO values at ``points`` [C, 3] (Bohr), in PySCF's AO order."""
    return ao_jet(basis, points, deriv=0)[0]


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
    """[1 | 4 | 10, C, nao]: AOs, gradient, Hessian (xx, xy, xz, yy, yz, zz) as PySCF."""
    ao = functools.partial(_ao_values, basis)
    rows = [ao(points)]
    if deriv >= 1:
        rows.extend(_derivative(ao, points, axis)[1] for axis in range(3))
    if deriv >= 2:
        rows.extend(_derivative(ao, points, i, j)[2] for i, j in _HESSIAN_COMPONENTS)
    return jnp.stack(rows)


def ao_jet(basis: Basis, points: jax.Array, deriv: int) -> tuple[jax.Array, ...]:
    """AO values and their derivatives for the product rule, at points [C, 3] (Bohr).

    Returns ``(phi,)`` [C, nao]; for deriv >= 1 also ``gradient`` [3, C, nao] (d/dx, d/dy,
    d/dz); for deriv 2 also ``second`` [3, C, nao] (d2/dx2, d2/dy2, d2/dz2). For use inside
    jit (no input checks); chunk large grids with :func:`map_chunks`.

    The angular parts are differentiated by forward-mode autodiff; the Gaussians by hand, which
    is exact and cheap: with t_p = -a_p (r - A_p)_k, d/dk exp(-a_p |r - A_p|^2) = 2 t_p g_p and
    d2/dk2 = (4 t_p^2 - 2 a_p) g_p. The tests compare every component with PySCF.
    """
    d = points[:, None, :] - basis.coords  # [C, n_atoms, 3]
    exponent_matrix, contraction = _radial_matrices(basis)  # [n_atoms, P], [P, S]
    gaussians = jnp.exp(jnp.sum(d * d, axis=-1) @ exponent_matrix)  # [C, P]
    radial = gaussians @ contraction
    angular_fn = functools.partial(_angular_parts, basis)
    angular = angular_fn(d)
    jet = [_assemble(basis, radial, angular)]
    if deriv == 0:
        return tuple(jet)
    minus_exponents = jnp.sum(exponent_matrix, axis=0)  # [P]: -a_p
    gradient, second = [], []
    for axis in range(3):
        t = d[..., axis] @ exponent_matrix  # [C, P]
        radial_k = (2 * t * gaussians) @ contraction
        tangent = jnp.zeros_like(d).at[..., axis].set(1)
        if deriv == 1:
            _, angular_k = jax.jvp(angular_fn, (d,), (tangent,))
        else:
            def first(dd, tangent=tangent):
                return jax.jvp(angular_fn, (dd,), (tangent,))

            (_, angular_k), (_, angular_kk) = jax.jvp(first, (d,), (tangent,))
        gradient.append(_assemble(basis, radial_k, angular) + _assemble(basis, radial, angular_k))
        if deriv == 2:
            radial_kk = ((4 * t * t + 2 * minus_exponents) * gaussians) @ contraction
            second.append(_assemble(basis, radial_kk, angular)
                          + 2 * _assemble(basis, radial_k, angular_k)
                          + _assemble(basis, radial, angular_kk))
    jet.append(jnp.stack(gradient))
    if deriv == 2:
        jet.append(jnp.stack(second))
    return tuple(jet)


def density_from_jet(jet: tuple[jax.Array, ...], dm: jax.Array) -> jax.Array:
    """[..., 1 | 4 | 5, C]: rho, its gradient, its Laplacian from :func:`ao_jet` of the same
    order and dm [..., nao, nao] (not necessarily symmetric, e.g. row-masked), by the product
    rule: d rho = sum_ij P_ij (d phi_i phi_j + phi_i d phi_j)."""
    phi = jet[0]
    phi_dm = phi @ dm  # [..., C, nao]: sum_i phi_i P_ij
    dm_phi = phi @ jnp.swapaxes(dm, -1, -2)  # sum_j P_ij phi_j
    rows = [jnp.sum(phi_dm * phi, axis=-1)[..., None, :]]
    if len(jet) >= 2:
        gradient = jet[1][:, None] if dm.ndim > 2 else jet[1]  # [3, (K,) C, nao]
        rows.append(jnp.moveaxis(jnp.sum(phi_dm * gradient + dm_phi * gradient, axis=-1), 0, -2))
    if len(jet) == 3:
        second = jet[2][:, None] if dm.ndim > 2 else jet[2]
        cross = jnp.sum((gradient @ dm) * gradient, axis=(0, -1))
        laplacian = jnp.sum((phi_dm + dm_phi) * second, axis=(0, -1)) + 2 * cross
        rows.append(laplacian[..., None, :])
    return jnp.concatenate(rows, axis=-2)


def mo_densities_from_jet(
    jet: tuple[jax.Array, ...], mo_coeff: jax.Array, mo_occ: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """rho [..., C], grad rho [..., 3, C] and tau [..., C] of occupied MOs, from an
    :func:`ao_jet` of order >= 1, MO coefficients [..., nao, nmo] and occupations [..., nmo]
    (``...``: e.g. a spin axis): rho = sum_i n_i psi_i^2 (e/Bohr^3), grad rho = 2 sum_i n_i
    psi_i grad psi_i, tau = 1/2 sum_i n_i |grad psi_i|^2 (Hartree/Bohr^3, PySCF's convention)."""
    occ = mo_occ[..., None, :]  # [..., 1, nmo]
    psi = jet[0] @ mo_coeff  # [..., C, nmo]
    grad_psi = jet[1] @ mo_coeff[..., None, :, :]  # [..., 3, C, nmo]
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


def _density_derivatives(basis: Basis, dm: jax.Array, deriv: int, points: jax.Array):
    """[..., 1 | 4 | 5, C]: rho, then its gradient (deriv >= 1), then its Laplacian (deriv 2)."""
    return density_from_jet(ao_jet(basis, points, deriv), dm)


def _kinetic_energy_density_values(
    basis: Basis, mo_coeff: jax.Array, mo_occ: jax.Array, points: jax.Array
) -> jax.Array:
    return kinetic_energy_density_from_jet(ao_jet(basis, points, 1), mo_coeff, mo_occ)


def map_chunks(fn, points: jax.Array, chunk_size: int) -> jax.Array:
    """``fn`` ([C, 3] -> [..., C]) over ``points`` [N, 3], ``chunk_size`` at a time -> [..., N]."""
    n = points.shape[0]
    if n <= chunk_size:
        return fn(points)
    n_chunks = -(-n // chunk_size)
    padded = jnp.pad(points, ((0, n_chunks * chunk_size - n), (0, 0)))
    values = jax.lax.map(fn, padded.reshape(n_chunks, chunk_size, 3))  # [n_chunks, ..., C]
    values = jnp.moveaxis(values, 0, -2)
    return values.reshape(*values.shape[:-2], -1)[..., :n]


@functools.partial(jax.jit, static_argnames=("deriv",))
def _eval_ao(basis: Basis, points: jax.Array, deriv: int) -> jax.Array:
    return _ao_derivatives(basis, deriv, points)


@functools.partial(jax.jit, static_argnames=("deriv", "chunk_size"))
def _density(
    basis: Basis, dm: jax.Array, points: jax.Array, deriv: int, chunk_size: int
) -> jax.Array:
    fn = functools.partial(_density_derivatives, basis, dm, deriv)
    return map_chunks(fn, points, chunk_size)  # [..., n_components, N]


@functools.partial(jax.jit, static_argnames=("chunk_size",))
def _kinetic_energy_density(
    basis: Basis, mo_coeff: jax.Array, mo_occ: jax.Array, points: jax.Array, chunk_size: int
) -> jax.Array:
    fn = functools.partial(_kinetic_energy_density_values, basis, mo_coeff, mo_occ)
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
    points: jax.Array,
    ao_mask: jax.Array | None = None,
    deriv: int = 0,
    chunk_size: int | None = None,
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
      chunk_size: points evaluated at once (default :func:`default_chunk` of ``deriv``);
        bounds memory on large grids.
    """
    if deriv not in (0, 1, 2):
        raise ValueError(f"deriv must be 0, 1 or 2, got {deriv!r}")
    points = _checked_points(points)
    dm = _checked_matrix("density matrix", dm, basis.nao)
    if ao_mask is not None:
        dm = dm * _mask_matrix(ao_mask, basis.nao).astype(dm.dtype)
    values = _density(basis, dm, points, deriv, chunk_size or default_chunk(deriv))
    return values[..., 0, :] if deriv == 0 else values


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
    points: jax.Array,
    deriv: int = 0,
    chunk_size: int | None = None,
    molecules_per_step: int | None = None,
) -> jax.Array:
    """Densities of many molecules of different sizes in one compiled call.

    ``bases`` and ``dms`` ([nao_b, nao_b] or [K, nao_b, nao_b] each) are padded to a common
    layout (:func:`qc_jax.basis.stack`); ``points`` [N, 3] are shared or [B, N, 3] per molecule.
    The molecules go through ``jax.lax.map``, ``molecules_per_step`` of them vmapped together:
    by default one at a time on CPU (measured fastest there, see ``benchmarks/README.md``) and
    all at once on GPU/TPU. Returns [B, ...], the shape :func:`density` gives for one molecule.
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
    if points.ndim == 3 and points.shape[0] != len(bases):
        raise ValueError(f"got points for {points.shape[0]} molecules but {len(bases)} bases")
    if molecules_per_step is None and jax.default_backend() != "cpu":
        molecules_per_step = len(bases)
    return _density_many(stacked, padded, points, deriv, chunk_size or default_chunk(deriv),
                         molecules_per_step)


@functools.partial(jax.jit, static_argnames=("deriv", "chunk_size", "molecules_per_step"))
def _density_many(
    bases: Basis,
    dms: jax.Array,
    points: jax.Array,
    deriv: int,
    chunk_size: int,
    molecules_per_step: int | None,
) -> jax.Array:
    def one(args):
        basis, dm, molecule_points = args
        molecule_points = points if molecule_points is None else molecule_points
        values = _density(basis, dm, molecule_points, deriv, chunk_size)
        return values[..., 0, :] if deriv == 0 else values

    per_molecule = points if points.ndim == 3 else None
    return jax.lax.map(one, (bases, dms, per_molecule), batch_size=molecules_per_step)


def _checked_points(points: jax.Array, batched: bool = False) -> jax.Array:
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
