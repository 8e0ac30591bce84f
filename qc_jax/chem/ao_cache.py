"""Atomic-orbital values on the DFT grid computed once per geometry, not once per SCF cycle.

PySCF's ``NumInt.block_loop`` evaluates the AOs (and their gradients) on every grid block in every
SCF cycle. Between cycles, and between SCF runs of the same geometry and grid (spin starts,
ions), these values do not change.
:func:`caching_numint` returns a ``NumInt`` that keeps the last geometry's blocks in memory and
replays them: the same arrays, so results are bit-identical, at 10-20 % less CPU per pair
(``benchmarks/ao_cache.py``; numbers in ``docs/chemistry.md``).
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

MAX_CACHED_BYTES = 2e9
"""Above this many bytes of AO values (all blocks of one grid), nothing is cached."""


@functools.cache
def _caching_numint_class() -> type:
    from pyscf.dft import numint

    class CachingNumInt(numint.NumInt):
        """``NumInt`` whose ``block_loop`` replays the blocks of the last (molecule, grid,
        derivative order) seen by any instance in this process."""

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
            cached_key, cached = CachingNumInt.last
            if key == cached_key:
                yield from cached
                return
            cached = []
            for ao, mask, weight, coords in blocks:  # ``ao`` lives in a reused buffer: copy
                cached.append((ao.copy(order="K"), mask, weight, coords))
                yield cached[-1]
            CachingNumInt.last = (key, cached)

    return CachingNumInt


def caching_numint():
    """A new PySCF ``NumInt`` sharing the process-wide cache of AO values (see module doc)."""
    return _caching_numint_class()()


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
