"""PySCF's ``NumInt`` (the XC integration on the DFT grid), with two savings and the same results.

- **AO values computed once per geometry.** ``NumInt.block_loop`` evaluates the AOs (and their
  gradients) on every grid block in every SCF cycle. Between cycles, and between SCF runs of the
  same geometry and grid (spin starts, ions), these values do not change; the class keeps the
  last geometry's blocks in memory and replays them: the same arrays, so results are
  bit-identical, at 10-20 % less CPU per pair.
- **The cheaper of PySCF's two density evaluations.** Given a density matrix tagged with its
  orbitals (as every SCF cycle passes it), PySCF evaluates rho and its gradient from the
  occupied orbitals (``eval_rho2``: 4 products [points, nao] x [nao, n_occ] for a GGA) even when
  the density matrix (``eval_rho``: one [points, nao] x [nao, nao] product) costs less. With
  Fermi smearing, n_occ counts every level with an occupation above 1e-12, about half the basis
  for the ECP pairs. The class takes the density-matrix path when it is cheaper: the same
  density to rounding (labels of a whole pair agree to 1e-8), about 10 % less CPU per pair.

``benchmarks/fast_numint.py`` measures both against PySCF's ``NumInt`` (numbers in
``docs/chemistry.md``).
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

MAX_CACHED_BYTES = 2e9
"""Above this many bytes of AO values (all blocks of one grid), nothing is cached."""

ORBITAL_PRODUCTS = {"LDA": 1, "HF": 1, "GGA": 4, "NLC": 4}
"""Products [points, nao] x [nao, n_occ] that ``eval_rho2`` takes per density, by functional
type, against one [points, nao] x [nao, nao] of ``eval_rho``. Meta-GGAs are left to PySCF (the
density-matrix path needs three more products for tau)."""


@functools.cache
def _fast_numint_class() -> type:
    from pyscf.dft import numint

    class FastNumInt(numint.NumInt):
        """``NumInt`` whose ``block_loop`` replays the blocks of the last (molecule, grid,
        derivative order) seen by any instance in this process, and whose densities take the
        cheaper path."""

        last: tuple[tuple, list] = ((), [])

        def block_loop(self, mol, grids, nao=None, deriv=0, max_memory=2000, non0tab=None,
                       blksize=None, buf=None):
            if grids.coords is None:
                grids.build(with_non0tab=True)
            blocks = super().block_loop(mol, grids, nao, deriv, max_memory, non0tab, blksize,
                                        buf)
            size = grids.coords.shape[0] * (nao or mol.nao) * 8 * (1 + 3 * (deriv > 0))
            if deriv > 1 or non0tab is not None or size > MAX_CACHED_BYTES:
                yield from blocks
                return
            key = (deriv, _blocks_of(grids, nao or mol.nao, deriv, max_memory, blksize),
                   mol is grids.mol, _fingerprint(mol, grids))
            cached_key, cached = FastNumInt.last
            if key == cached_key:
                yield from cached
                return
            cached = []
            for ao, mask, weight, coords in blocks:  # ``ao`` lives in a reused buffer: copy
                cached.append((ao.copy(order="K"), mask, weight, coords))
                yield cached[-1]
            FastNumInt.last = (key, cached)

        def _gen_rho_evaluator(self, mol, dms, hermi=0, with_lapl=True, grids=None):
            by_orbitals = super()._gen_rho_evaluator(mol, dms, hermi, with_lapl, grids)
            if getattr(dms, "mo_occ", None) is None:
                return by_orbitals
            n_occupied = int(np.max(np.sum(np.asarray(dms.mo_occ) > numint.OCCDROP, axis=-1)))
            make_rho_by_orbitals, n_sets, nao = by_orbitals
            make_rho_by_matrix = super()._gen_rho_evaluator(mol, np.asarray(dms), hermi,
                                                            with_lapl, grids)[0]

            def make_rho(idm, ao, sindex, xctype):
                products = ORBITAL_PRODUCTS.get(xctype.upper())
                by_matrix = products is not None and products * n_occupied > nao
                return (make_rho_by_matrix if by_matrix else make_rho_by_orbitals)(
                    idm, ao, sindex, xctype)

            return make_rho, n_sets, nao

    return FastNumInt


def fast_numint():
    """A new PySCF ``NumInt`` sharing the process-wide cache of AO values (see module doc)."""
    return _fast_numint_class()()


def _blocks_of(grids, nao: int, deriv: int, max_memory: float, blksize: int | None) -> int:
    """Grid points per block of PySCF's ``block_loop`` (its formula): the layout of the blocks,
    which decides the order of the floating-point sums. ``max_memory`` (MB) changes between
    cycles (PySCF passes what is left); the layout rarely does."""
    from pyscf.dft.numint import BLKSIZE

    if blksize is not None:
        return blksize
    comp = (deriv + 1) * (deriv + 2) * (deriv + 3) // 6
    fitting = int(max_memory * 1e6 / ((comp + 1) * nao * 8 * BLKSIZE))
    return max(4, min(fitting, grids.coords.shape[0] // BLKSIZE + 1, 1200)) * BLKSIZE


def _fingerprint(mol, grids) -> str:
    """Digest of what the AO values on ``grids`` depend on: basis, geometry (``mol._atm``,
    ``_bas``, ``_env``), grid points and weights, and the screening table (used when ``mol`` is
    ``grids.mol``)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (mol._atm, mol._bas, mol._env, grids.coords, grids.weights, grids.non0tab):
        digest.update(np.ascontiguousarray(array).tobytes() if array is not None else b"-")
    return digest.hexdigest()
