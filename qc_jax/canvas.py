"""The quantum canvas: physical fields of a pair record on the bond plane.

A canvas is a float32 image [H, W, C] of the y = 0 plane (rows along x, top row at +x; columns
along z, atom A of lower Z on the left at z = -R/2), each pixel the average of
``supersample**2`` sub-pixel samples (nuclear cusps alias otherwise). The C channels are those of
the spec's channel set (:data:`CHANNEL_SETS`): by default :data:`PHYSICAL`, the ten real fields
of :data:`CHANNELS` computed from the spin-resolved SCF density matrices, MOs and AOs with the
JAX kernel (see ``docs/canvas.md`` for formulas); stored values are physical, never rescaled; use
:class:`DisplayTransform` for models and plots.

    spec = CanvasSpec()                        # 32 x 32, fixed 8 Angstrom box, 3 x 3 samples
    image = render(record, spec)               # [32, 32, 10] float32
    images = render_many(records, spec)        # [B, 32, 32, 10], compiled once per AO size class
    spec.channel_set.index("elf")              # 5: where a channel is on the last axis
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qc_jax import basis as basis_lib
from qc_jax import kernels, orbitals, stamps
from qc_jax.channels import Channel, ChannelSet
from qc_jax.units import BOHR_ANGSTROM

if TYPE_CHECKING:
    from qc_jax.record import PairRecord

BOHR_PER_ANGSTROM = 1 / BOHR_ANGSTROM

#: Below this density (e/Bohr^3) ELF is set to 0: D / D0 is noise where both vanish.
ELF_DENSITY_FLOOR = 1e-6

#: ELF's D0 = ELF_D0_COEFFICIENT (rho_alpha^(5/3) + rho_beta^(5/3)) (Hartree/Bohr^3), the summed
#: uniform-gas kinetic energy densities of the two spins; for rho_alpha = rho_beta = rho / 2 it is
#: the closed-shell 3/10 (3 pi^2)^(2/3) rho^(5/3).
ELF_D0_COEFFICIENT = 2 ** (2 / 3) * 0.3 * (3 * math.pi**2) ** (2 / 3)

#: The occupied-MO axis of a batch is padded to a multiple of this.
MO_PADDING = 8

#: MOs with a smaller occupation are left out of the MO sums (tau and the spin densities of ELF;
#: Fermi smearing gives every virtual MO a tiny one: exp(-33) at 0.1 Ha above the Fermi level
#: with sigma = 0.003 Ha).
OCCUPATION_FLOOR = 1e-14


CHANNELS: tuple[Channel, ...] = (
    Channel(
        "rho_sp",
        "O-Map s+p",
        "e/Bohr^3",
        "rho_{l<=1} = sum_{mu: l(mu)<=1} sum_nu P_mu,nu phi_mu phi_nu",
    ),
    Channel("rho_df", "O-Map d+f", "e/Bohr^3", "rho_{l>=2}, the same row partition"),
    Channel(
        "rho_sigma",
        "angular sigma (RIP-GAF)",
        "e/Bohr^3",
        "rho_{m=0}: rows of AOs with m = 0 about the bond axis",
    ),
    Channel("rho_pi", "angular pi/delta (RIP-GAF)", "e/Bohr^3", "rho_{|m|>=1}"),
    Channel(
        "neg_laplacian",
        "field (RIP-MTF)",
        "e/Bohr^5",
        "-laplacian rho (charge concentration > 0), by autodiff",
    ),
    Channel(
        "elf",
        "field (RIP-MTF)",
        "1",
        "spin-polarised electron localisation function 1 / (1 + (D/D0)^2), D = sum_s (tau_s - "
        "|grad rho_s|^2 / (8 rho_s)), D0 = 2^(2/3) 3/10 (3 pi^2)^(2/3) sum_s rho_s^(5/3), "
        "s = alpha, beta; 0 where rho < 1e-6",
    ),
    Channel(
        "bond_density",
        "co-occupancy (COM)",
        "e/Bohr^3",
        "2 sum_{mu in A, nu in B} P_mu,nu phi_mu phi_nu (interatomic overlap density)",
    ),
    Channel(
        "frontier",
        "co-occupancy (COM)",
        "1/Bohr^3",
        "(|HOMO|^2 + |LUMO|^2) / 2, each averaged over its degenerate set of spin-orbitals "
        "(HOMO: highest with occupation > 0.01, LUMO: lowest with occupation < 0.99; "
        "integrates to 1)",
    ),
    Channel(
        "charge_accumulation", "charge (Q-Image +)", "e/Bohr^3", "max(rho - rho_promolecule, 0)"
    ),
    Channel("charge_depletion", "charge (Q-Image -)", "e/Bohr^3", "max(rho_promolecule - rho, 0)"),
)
"""The ten physical fields, the channels of :data:`PHYSICAL`."""

SPIN_DENSITY = Channel("spin_density", "spin (ours)", "e/Bohr^3",
                       "rho_alpha - rho_beta, each spin's density from its MOs (> 0 where alpha "
                       "electrons are in excess; integrates to N_alpha - N_beta)")
"""The eleventh field, in :data:`PHYSICAL_SPIN`."""


@dataclasses.dataclass(frozen=True)
class CanvasSpec:
    """Image size, box, sampling and storage of a canvas.

    Attributes:
      height, width: pixels (rows along x, columns along z).
      extent_angstrom: width of the box along z (Angstrom); pixels are square, so the box is
        ``height / width * extent_angstrom`` high. Fixed by default, so a pixel means the same
        distance in every canvas (8 Angstrom holds the paper's longest bond, 5.6 Angstrom, with
        1.2 Angstrom to spare on each side).
      adaptive: if True, the box width is the bond length + 2 * ``margin_angstrom`` instead.
      margin_angstrom: space beyond each atom in adaptive mode.
      supersample: sub-pixel samples per side, averaged (1 = pixel centres only).
      channels: the name of a channel set of :data:`CHANNEL_SETS`: "physical" (the ten fields
        of :data:`CHANNELS`), "physical_spin" (those and the spin density) or "stamps" (the
        paper's population-stamp encoder, :mod:`qc_jax.stamps`, for control experiments; box
        and supersampling do not apply to it).
      dtype: storage dtype of the returned images.
      precision: arithmetic of the generation, "float64" (default, CPU/GPU) or "float32" (TPUs
        have no float64; error measured in ``docs/canvas.md``).
    """

    height: int = 32
    width: int = 32
    extent_angstrom: float = 8.0
    adaptive: bool = False
    margin_angstrom: float = 2.5
    supersample: int = 3
    channels: str = "physical"
    dtype: str = "float32"
    precision: str = "float64"

    def __post_init__(self):
        if self.height < 1 or self.width < 1:
            raise ValueError(f"canvas size must be positive, got {self.height} x {self.width}")
        if not (self.extent_angstrom > 0 and self.margin_angstrom > 0):
            raise ValueError("extent_angstrom and margin_angstrom must be positive")
        if self.supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {self.supersample}")
        if self.channels not in CHANNEL_SETS:
            raise ValueError(f"channels must be one of {sorted(CHANNEL_SETS)}, got "
                             f"{self.channels!r}")
        if self.dtype not in ("float16", "float32", "float64"):
            raise ValueError(f"dtype must be float16, float32 or float64, got {self.dtype!r}")
        if self.precision not in ("float32", "float64"):
            raise ValueError(f"precision must be float32 or float64, got {self.precision!r}")

    @property
    def channel_set(self) -> ChannelSet:
        """The channel set the spec names (:data:`CHANNEL_SETS`)."""
        return CHANNEL_SETS[self.channels]

    def box_width_angstrom(self, bond_length_angstrom: float) -> float:
        """Width of the box along z (Angstrom) for a bond of this length."""
        if self.adaptive:
            return bond_length_angstrom + 2 * self.margin_angstrom
        return self.extent_angstrom

    def geometry(self, bond_length_angstrom: float) -> dict[str, float]:
        """Pixel geometry stored with every canvas (Angstrom): box size, pixel size, and the
        (z, x) coordinates of the centre of pixel [0, 0] (top left)."""
        width = self.box_width_angstrom(bond_length_angstrom)
        pixel = width / self.width
        height = pixel * self.height
        return {
            "box_width_angstrom": width,
            "box_height_angstrom": height,
            "pixel_angstrom": pixel,
            "origin_z_angstrom": -width / 2 + pixel / 2,
            "origin_x_angstrom": height / 2 - pixel / 2,
        }

    def sample_grid(self, bond_length_angstrom: float) -> kernels.Grid:
        """The sub-pixel sample points as a grid (Bohr): x [H * s] (row, then sub-row), y [1]
        = 0, z [W * s] (column, then sub-column); the same points as :meth:`sample_points`."""
        points = self.sample_points(bond_length_angstrom)
        return kernels.Grid(points[:, 0, :, 0, 0].reshape(-1), np.zeros(1),
                            points[0, :, 0, :, 2].reshape(-1))

    def sample_points(self, bond_length_angstrom: float) -> np.ndarray:
        """[H, W, s, s, 3] sub-pixel sample points in Bohr (s = ``supersample``)."""
        geometry = self.geometry(bond_length_angstrom)
        pixel, s = geometry["pixel_angstrom"], self.supersample
        offsets = ((np.arange(s) + 0.5) / s - 0.5) * pixel
        z = geometry["origin_z_angstrom"] + pixel * np.arange(self.width)
        x = geometry["origin_x_angstrom"] - pixel * np.arange(self.height)
        xs = x[:, None, None, None] - offsets[None, None, :, None]  # [H, 1, s, 1]
        zs = z[None, :, None, None] + offsets[None, None, None, :]  # [1, W, 1, s]
        xs, zs = np.broadcast_arrays(xs, zs)
        points = np.stack([xs, np.zeros_like(xs), zs], axis=-1)
        return points * BOHR_PER_ANGSTROM


@dataclasses.dataclass(frozen=True)
class DisplayTransform:
    """Invertible signed-asinh transform for models and plots: y = asinh(x / scale) per channel.

    Fitted on a training split only (:meth:`fit`); the stored canvases stay physical. asinh is
    linear below ``scale`` and logarithmic above it, so nuclear cusps (rho ~ 100 e/Bohr^3) and
    valence tails (~ 1e-3) are both visible, and signed channels keep their sign.
    """

    scale: tuple[float, ...]
    """[C] per-channel scale in the channel's unit."""

    @classmethod
    def fit(cls, canvases: np.ndarray, quantile: float = 0.5) -> DisplayTransform:
        """Scales = the ``quantile`` of |x| over the non-zero pixels of each channel of
        ``canvases`` [B, H, W, C] (a training split)."""
        magnitudes = np.abs(np.asarray(canvases, np.float64)).reshape(-1, canvases.shape[-1])
        scales = []
        for column in magnitudes.T:
            nonzero = column[column > 0]
            scales.append(float(np.quantile(nonzero, quantile)) if nonzero.size else 1.0)
        return cls(tuple(scales))

    def __call__(self, canvases: np.ndarray) -> np.ndarray:
        """Physical [..., C] -> transformed [..., C]."""
        return np.arcsinh(np.asarray(canvases) / np.asarray(self.scale, np.float32))

    def inverse(self, transformed: np.ndarray) -> np.ndarray:
        """Transformed [..., C] -> physical [..., C]."""
        return np.sinh(np.asarray(transformed)) * np.asarray(self.scale, np.float32)


def frontier_orbitals(record: PairRecord) -> tuple[np.ndarray, np.ndarray]:
    """Channel 7 as weighted spin-orbitals: coefficients [nao, F] and weights [F] such that
    the channel is sum_k w_k psi_k^2, the mean of |psi|^2 over the HOMO set plus that over the
    LUMO set, halved: the sets of spin-orbitals of :func:`qc_jax.orbitals.frontier` (the
    definition the labels use); the HOMO set's mean alone without a LUMO. Integrates to 1."""
    levels = orbitals.frontier(record.mo_energy, record.mo_occ)
    if not levels.homo_set.any():
        raise ValueError(f"{record.pair}: no occupied spin-orbital, no frontier density")
    sets = [s for s in (levels.homo_set, levels.lumo_set) if s.any()]
    weights = sum(s / (s.sum() * len(sets)) for s in sets)  # [2, nmo]
    spin, mo = np.nonzero(weights)
    return record.mo_coeff[spin, :, mo].T, weights[spin, mo]


def frontier_density_matrix(record: PairRecord) -> np.ndarray:
    """[nao, nao] spin-summed density matrix of channel 7 (:func:`frontier_orbitals`)."""
    coefficients, weights = frontier_orbitals(record)
    return (coefficients * weights) @ coefficients.T


class FieldInputs(NamedTuple):
    """The arrays the channels are computed from, in PySCF AO order (zero-padded when stacked,
    then with a leading batch axis). Spin axis [2] = (alpha, beta); occupations per spin-orbital
    (0..1). The total density matrix is sum_s C_s n_s C_s^T of the MOs here."""

    mo_coeff: np.ndarray
    """[2, nao, nocc] coefficients of the nocc most occupied MOs of each spin, nocc the larger
    count of MOs above :data:`OCCUPATION_FLOOR` of the two spins."""
    mo_occ: np.ndarray
    """[2, nocc] their occupations."""
    frontier_coeff: np.ndarray
    """[nao, F] the spin-orbitals of channel 7 (:func:`frontier_orbitals`)."""
    frontier_weight: np.ndarray
    """[F] their weights."""
    dm_bond: np.ndarray
    """[nao, nao] 2 P_mu,nu for mu on atom A and nu on B, else 0 (P the total density matrix;
    channel 6 is sum phi_nu dm_bond_nu,mu phi_mu)."""
    dm_promolecule: np.ndarray
    """[nao, nao] free-atom (spin-summed) density matrix."""

    @property
    def nocc(self) -> int:
        """Width of the MO axis (per spin)."""
        return self.mo_occ.shape[-1]


def field_inputs(record: PairRecord) -> tuple[basis_lib.Basis, FieldInputs]:
    """The basis and arrays of a record (anything but a failed one) for :func:`fields`.

    Raises:
      ValueError: for a failed record (no density) or a Cartesian basis (no m about the axis).
    """
    from qc_jax import stored_basis

    inputs = _inputs(record)
    coords = np.asarray(record.positions) * BOHR_PER_ANGSTROM
    names = {element: basis for element, (basis, _ecp) in record.basis.items()}
    return stored_basis.for_atoms(record.symbols, coords, names), inputs


def _inputs(record: PairRecord) -> FieldInputs:
    if record.status == "failed" or record.dm.size == 0:
        raise ValueError(
            f"{record.pair}: a failed record has no density to render ({record.reason})"
        )
    if record.cart:
        raise ValueError(f"{record.pair}: canvases need a spherical basis (m about the bond axis)")
    nocc = int((record.mo_occ > OCCUPATION_FLOOR).sum(axis=1).max())
    occupied = np.argsort(-record.mo_occ, axis=1, kind="stable")[:, :nocc]  # [2, nocc]
    dm_promolecule = record.dm_promolecule
    dm_bond = np.zeros_like(dm_promolecule)
    n_a = _atom_tables(record.symbols[0], *record.basis[record.symbols[0]])[1].shape[0]
    dm_bond[n_a:, :n_a] = 2 * record.dm_total[n_a:, :n_a]  # PySCF orders AOs by atom
    return FieldInputs(
        np.take_along_axis(record.mo_coeff, occupied[:, None, :], axis=2),
        np.take_along_axis(record.mo_occ, occupied, axis=1),
        *frontier_orbitals(record),
        dm_bond,
        dm_promolecule,
    )


def fields(basis: basis_lib.Basis, inputs: FieldInputs, points: jax.Array | kernels.Grid,
           names: Sequence[str] = tuple(c.name for c in CHANNELS)) -> jax.Array:
    """[N, C] values of the channels ``names`` (atomic units; default the ten of
    :data:`CHANNELS`, any of :data:`PHYSICAL_SPIN`) at points [N, 3] (Bohr) or the N points of a
    :class:`qc_jax.kernels.Grid`.

    Every channel comes from one AO jet per chunk of points and the MOs: with
    P = sum_s C_s n_s C_s^T, rho = sum n psi^2, the row partitions are sums of
    phi_mu (P phi)_mu, the Laplacian's cross term sum_ij P_ij grad phi_i . grad phi_j is
    2 (tau_alpha + tau_beta), and the spin densities of ELF come from the MOs. Per point this
    costs products of the AO jet with the 2 nocc MOs (four: values and gradients), of the AOs
    with the bond and promolecule matrices and the frontier orbitals, and of 2 nocc MO values
    with the MOs (P phi).

    Differentiable with respect to the basis (atom positions, exponents), the inputs and the
    points, at fixed density matrix: the SCF is not differentiated.
    """
    points = points if isinstance(points, kernels.Grid) else jnp.asarray(points)
    return _fields(kernels.ao_tables(basis), inputs, row_partitions(basis), points, tuple(names))


def row_partitions(basis: basis_lib.Basis) -> np.ndarray:
    """[nao, 4] 0/1 membership of each AO in the row partitions of channels 0-3: l <= 1,
    l >= 2, m = 0, m != 0 (padded AOs, l = -1, in none)."""
    l, m = np.asarray(basis.ao_l), np.asarray(basis.ao_m)
    return np.stack([(l >= 0) & (l <= 1), l >= 2, (l >= 0) & (m == 0), (l >= 0) & (m != 0)],
                    axis=-1).astype(np.float64)  # fmt: skip


def _fields(tables: kernels.AOTables, inputs: FieldInputs, partitions: jax.Array,
            points: jax.Array | kernels.Grid, names: tuple[str, ...]) -> jax.Array:
    """:func:`fields` from the AO tables of a diatomic and :func:`row_partitions`, at points
    [N, 3] or the N points of a grid (whose Gaussians are evaluated per axis)."""
    nao = inputs.mo_coeff.shape[1]
    mos = jnp.concatenate(inputs.mo_coeff, axis=1)  # [nao, 2 nocc]: alpha, then beta
    occupations = jnp.concatenate(inputs.mo_occ)
    n_frontier = inputs.frontier_weight.shape[0]
    with_phi = jnp.concatenate([inputs.frontier_coeff, inputs.dm_bond, inputs.dm_promolecule],
                               axis=1)  # fmt: skip
    partitions = partitions.astype(mos.dtype)

    def channels(jet):  # AO jet at P points -> [len(names), P]
        phi, laplacian_phi = jet[0], jet[2]
        n_points = phi.shape[0]
        psi, grad_psi = kernels.mo_values_from_jet(jet, inputs.mo_coeff)  # per spin
        products = phi @ with_phi
        frontier = jnp.sum(inputs.frontier_weight * products[:, :n_frontier] ** 2, axis=-1)
        bond, promolecule = jnp.sum(products[:, n_frontier:].reshape(n_points, 2, nao)
                                    * phi[:, None], axis=-1).T  # fmt: skip
        p_phi = (jnp.moveaxis(psi, 0, 1).reshape(n_points, -1) * occupations) @ mos.T  # P phi
        rho_spin, grad_rho_spin, tau_spin = kernels.mo_densities(psi, grad_psi, inputs.mo_occ)
        rho = jnp.sum(rho_spin, axis=0)
        laplacian = 2 * jnp.sum(p_phi * laplacian_phi, axis=-1) + 4 * jnp.sum(tau_spin, axis=0)
        deformation = rho - promolecule
        rho_sp, rho_df, rho_sigma, rho_pi = ((phi * p_phi) @ partitions).T
        values = {
            "rho_sp": rho_sp,
            "rho_df": rho_df,
            "rho_sigma": rho_sigma,
            "rho_pi": rho_pi,
            "neg_laplacian": -laplacian,
            "elf": _elf(rho, rho_spin, grad_rho_spin, tau_spin),
            "bond_density": bond,
            "frontier": frontier,
            "charge_accumulation": jnp.maximum(deformation, 0),
            "charge_depletion": jnp.maximum(-deformation, 0),
            "spin_density": rho_spin[0] - rho_spin[1],
        }
        return jnp.stack([values[name] for name in names])

    chunk_size = kernels.default_chunk(deriv=2)
    if isinstance(points, kernels.Grid):
        return kernels.map_grid(channels, tables, points, 2, chunk_size).T
    return kernels.map_chunks(lambda p: channels(kernels.ao_jet(tables, p, deriv=2)), points,
                              chunk_size).T  # fmt: skip


def _elf(
    rho: jax.Array, rho_spin: jax.Array, grad_rho_spin: jax.Array, tau_spin: jax.Array
) -> jax.Array:
    """[C] spin-polarised ELF from rho [C] and rho_s [2, C] (e/Bohr^3), grad rho_s [2, 3, C] and
    tau_s [2, C] (Hartree/Bohr^3, 1/2 sum_i n_i |grad psi_i|^2); 0 where rho <
    :data:`ELF_DENSITY_FLOOR`. A spin with no density adds nothing to D or D0 (its Weizsaecker
    term 0/0 is taken as 0)."""
    present = rho_spin > 0
    safe_rho_spin = jnp.where(present, rho_spin, 1.0)
    weizsaecker = jnp.where(present, jnp.sum(grad_rho_spin**2, axis=1) / (8 * safe_rho_spin), 0.0)
    d = jnp.sum(tau_spin - weizsaecker, axis=0)
    d0 = ELF_D0_COEFFICIENT * jnp.sum(jnp.where(present, safe_rho_spin, 0.0) ** (5 / 3), axis=0)
    above = rho > ELF_DENSITY_FLOOR
    return jnp.where(above, 1 / (1 + (d / jnp.where(above, d0, 1.0)) ** 2), 0.0)


@functools.partial(jax.jit, static_argnames=("names", "supersample", "molecules_per_step"))
def _render_batch(tables: kernels.AOTables, inputs: FieldInputs, partitions: jax.Array,
                  samples: jax.Array | kernels.Grid, names: tuple[str, ...], supersample: int,
                  molecules_per_step: int | None) -> jax.Array:
    """[B, H, W, C] canvases of the channels ``names`` from stacked tables, inputs and
    partitions of one padded shape and the stacked sample grids (:meth:`CanvasSpec.sample_grid`)
    or points [B, H, W, s, s, 3] (:meth:`CanvasSpec.sample_points`)."""

    def one(args):
        molecule_samples, s = args[-1], supersample
        if isinstance(molecule_samples, kernels.Grid):
            height, width = molecule_samples.x.shape[0] // s, molecule_samples.z.shape[0] // s
            values = _fields(*args, names).reshape(height, s, width, s, len(names))
            return values.mean(axis=(1, 3))
        height, width = molecule_samples.shape[:2]
        values = _fields(*args[:-1], molecule_samples.reshape(-1, 3), names)
        return values.reshape(height, width, s * s, len(names)).mean(axis=2)

    return jax.lax.map(one, (tables, inputs, partitions, samples), batch_size=molecules_per_step)


def padded_mo_count(nocc: int) -> int:
    """Occupied MOs per spin (:attr:`FieldInputs.nocc`) rounded up to a multiple of
    :data:`MO_PADDING`: the width of the MO axis of a batch (fewer distinct shapes to compile)."""
    return -(-nocc // MO_PADDING) * MO_PADDING


RENDER_THREADS: int | None = None
"""Canvas calls running at once (host threads; None: the cores in the process's affinity mask on
CPU, 2 on an accelerator). XLA:CPU runs one call on about one core whatever its thread pool, so
on this 2-core machine two threads render twice as many canvases a second as one
(``benchmarks/README.md``)."""

#: The AO axis of a canvas call is padded to the first of these sizes that holds it (then to a
#: multiple of the last), and every other axis to the largest in its size class among the
#: records rendered together: each class compiles once (see benchmarks/README.md).
AO_SIZE_CLASSES = (16, 32, 48, 64, 96, 128, 192)


def _size_class(nao: int) -> int:
    largest = AO_SIZE_CLASSES[-1]
    return next((size for size in AO_SIZE_CLASSES if size >= nao), -(-nao // largest) * largest)


class _Prepared(NamedTuple):
    """What one record's canvas call needs, as host arrays."""

    tables: kernels.AOTables
    inputs: FieldInputs
    partitions: np.ndarray


def _prepare(record: PairRecord) -> _Prepared:
    """The tables of a record from those of its atoms, built once per element and basis
    (building a PySCF ``Mole`` per record took longer than rendering a small canvas)."""
    inputs = _inputs(record)
    atoms = [_atom_tables(element, *record.basis[element]) for element in record.symbols]
    tables = kernels.join_tables([tables for tables, _ in atoms])
    tables = tables._replace(coords=np.asarray(record.positions) * BOHR_PER_ANGSTROM)
    return _Prepared(tables, inputs, np.concatenate([partitions for _, partitions in atoms]))


@functools.cache
def _atom_tables(element: str, basis_text: str, ecp_text: str
                 ) -> tuple[kernels.AOTables, np.ndarray]:
    """AO tables (atom at the origin) and :func:`row_partitions` of one spherical atom, its
    basis as a record stores it (:mod:`qc_jax.stored_basis`; the ECP changes no AO)."""
    from qc_jax import stored_basis

    atom_basis = stored_basis.for_atoms((element,), np.zeros((1, 3)), {element: basis_text})
    return kernels.ao_tables(atom_basis, xp=np), row_partitions(atom_basis)


def _padded(prepared: list[_Prepared]) -> list[_Prepared]:
    """The records of one size class, padded to one shape."""
    nao = _size_class(max(p.partitions.shape[0] for p in prepared))
    n_primitives, n_shells = (max(p.tables.radial.shape[axis] for p in prepared) for axis in (0, 2))
    n_monomials = max(p.tables.angular.shape[0] // p.tables.coords.shape[0] for p in prepared)
    width = max(p.tables.shell_exponents.shape[1] for p in prepared)
    nocc = padded_mo_count(max(p.inputs.nocc for p in prepared))
    n_frontier = padded_mo_count(max(p.inputs.frontier_weight.shape[0] for p in prepared))
    shapes = FieldInputs((2, nao, nocc), (2, nocc), (nao, n_frontier), (n_frontier,), (nao, nao),
                         (nao, nao))

    return [_Prepared(kernels.pad_tables(p.tables, n_primitives, n_shells, nao, n_monomials,
                                         width),
                      FieldInputs(*map(basis_lib.pad_to, p.inputs, shapes)),
                      basis_lib.pad_to(p.partitions, (nao, 4)))
            for p in prepared]  # fmt: skip


def _render_fields(records: list[PairRecord], spec: CanvasSpec, names: tuple[str, ...],
                   batch_size: int, progress: bool) -> np.ndarray:
    """The renderer of the field channel sets (:func:`render_many`): [B, H, W, len(names)]
    canvases of the fields ``names`` of :func:`fields`.

    Records are grouped by the size class of their basis (:data:`AO_SIZE_CLASSES`) and padded
    to one shape per class, so a job compiles once per class and one heavy pair (all-electron
    Lu2: 162 AOs) does not make every light pair pay for its padding. On CPU each canvas is its
    own call (no padding of a batch), and as many calls run at once as the process has cores
    (:data:`RENDER_THREADS`); on a GPU or TPU ``batch_size`` molecules are vmapped together,
    the last call of a class padded. Computes in ``spec.precision`` (x64 is switched on inside
    for float64) and casts to ``spec.dtype``.
    """
    from tqdm.auto import tqdm

    prepared = [_prepare(r) for r in records]
    classes: dict[int, list[int]] = {}
    for i, p in enumerate(prepared):
        classes.setdefault(_size_class(p.partitions.shape[0]), []).append(i)
    on_cpu = jax.default_backend() == "cpu"
    per_call = 1 if on_cpu else min(batch_size, len(records))
    # float64 exponentials are slow on CPU: take them per axis of the sample grid; in float32
    # the point form compiled faster and ran about as fast (benchmarks/README.md).
    sample = spec.sample_grid if spec.precision == "float64" else spec.sample_points
    calls = []  # per class: (record indices, stacked inputs) of each call
    for members in classes.values():
        padded, calls_of_class = _padded([prepared[i] for i in members]), []
        for start in range(0, len(members), per_call):
            chosen = list(range(start, min(start + per_call, len(members))))
            chosen += chosen[-1:] * (per_call - len(chosen))  # one shape per class
            stacked = jax.tree.map(lambda *leaves: np.stack(leaves), *[padded[k] for k in chosen])
            samples = jax.tree.map(lambda *axes: np.stack(axes), *[
                sample(records[members[k]].bond_length) for k in chosen])
            calls_of_class.append(([members[k] for k in chosen], (*stacked, samples)))
        calls.append(calls_of_class)
    # The first call of each class compiles it: those first, so that the threads compile
    # different classes at once, not one class twice.
    calls = [c[0] for c in calls] + [call for c in calls for call in c[1:]]

    def render(call) -> np.ndarray:
        with jax.enable_x64(spec.precision == "float64"):  # a per-thread setting
            return np.asarray(_render_batch(*call[1], names, spec.supersample, None))

    images = np.zeros((len(records), spec.height, spec.width, len(names)), spec.dtype)
    with (
        ThreadPoolExecutor(RENDER_THREADS or (_usable_cores() if on_cpu else 2)) as pool,
        tqdm(total=len(records), desc="canvases", unit="canvas", disable=not progress) as bar,
    ):
        for (indices, _), canvases in zip(calls, pool.map(render, calls), strict=True):
            images[indices] = canvases  # repeated padding indices: the same canvas
            bar.update(len(set(indices)))
    return images


def _usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one, as on Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _render_stamps(records: list[PairRecord], spec: CanvasSpec, names: tuple[str, ...],
                   batch_size: int, progress: bool) -> np.ndarray:
    """The renderer of :data:`STAMPS` (:func:`render_many`): [B, H, W, len(names)] stamp images
    (:func:`qc_jax.stamps.render`), in NumPy one record at a time: no batches, no progress bar."""
    del batch_size, progress
    return np.stack([stamps.render(r, spec.height, spec.width, names) for r in records]
                    ).astype(spec.dtype)


PHYSICAL = ChannelSet(
    name="physical",
    description="physical fields of the pair's Kohn-Sham solution on the bond plane (y = 0; rows "
                "along x, columns along z, atom 0 on the left) in the units of each channel",
    channels=CHANNELS,
    renderer=_render_fields,
)
PHYSICAL_SPIN = ChannelSet(
    name="physical_spin",
    description=f"{PHYSICAL.description}, and the spin density",
    channels=(*CHANNELS, SPIN_DENSITY),
    renderer=_render_fields,
)
STAMPS = ChannelSet(
    name="stamps",
    description="the paper's population stamps drawn from our Mulliken populations, charges and "
                "dipole (qc_jax.stamps), the atoms at fixed pixels whatever the geometry",
    channels=stamps.CHANNELS,
    renderer=_render_stamps,
    on_bond_plane=False,
)
CHANNEL_SETS: dict[str, ChannelSet] = {s.name: s for s in (PHYSICAL, PHYSICAL_SPIN, STAMPS)}
"""The channel sets a :class:`CanvasSpec` can name."""


def render(record: PairRecord, spec: CanvasSpec = CanvasSpec()) -> np.ndarray:
    """The canvas of one pair record: [H, W, C] (the spec's channel set), ``spec.dtype``."""
    return render_many([record], spec, progress=False)[0]


def render_many(
    records: Sequence[PairRecord],
    spec: CanvasSpec = CanvasSpec(),
    batch_size: int = 64,
    progress: bool = True,
) -> np.ndarray:
    """Canvases of many records: [B, H, W, C] of ``spec.dtype``, in input order, the channels of
    ``spec.channel_set`` drawn by its renderer (for the fields, :func:`_render_fields`:
    ``batch_size`` canvases per call on a GPU or TPU, one on CPU; ``progress``: a progress bar).

    Raises:
      ValueError: for a failed record (no density) or a Cartesian basis.
    """
    records, channel_set = list(records), spec.channel_set
    if not records:
        return np.zeros((0, spec.height, spec.width, channel_set.count), spec.dtype)
    return channel_set.renderer(records, spec, channel_set.names, batch_size, progress)
