"""Split membership of pair names: the paper's seeded random 80/10/10 and a composition split.

Membership is decided on the full list of the config's pair names (before failed pairs are left
out), so a pair's split never depends on which other pairs converged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qc_jax.elements import parse_pair
from qc_jax.splits import PAPER_FRACTIONS, seeded_parts

PARTS = ("train", "validation", "test")


def random_split(names: Sequence[str], seed: int) -> dict[str, list[str]]:
    """Pair names -> ``train``/``validation``/``test`` (80/10/10 of a seeded permutation of the
    sorted names; numpy ``default_rng(seed)``)."""
    names = sorted(names)
    parts = seeded_parts(len(names), seed)
    return {part: sorted(names[i] for i in idx) for part, idx in zip(PARTS, parts, strict=True)}


def composition_split(names: Sequence[str], held_out: Sequence[str],
                      seed: int = 42) -> dict[str, list[str]]:
    """A pair is in ``test`` if it contains a held-out element; the others are split 8:1 into
    ``train``/``validation`` (seeded permutation)."""
    held = set(held_out)
    test = sorted(n for n in names if held & set(parse_pair(n)))
    rest = sorted(set(names) - set(test))
    order = np.random.default_rng(seed).permutation(len(rest))
    n_train = round(len(rest) * PAPER_FRACTIONS[0] / (PAPER_FRACTIONS[0] + PAPER_FRACTIONS[1]))
    return {"train": sorted(rest[i] for i in order[:n_train]),
            "validation": sorted(rest[i] for i in order[n_train:]), "test": test}


def seeded_split_names(seed: int, seeds: Sequence[int]) -> tuple[str, str, str]:
    """Names of the train/validation/test splits of ``seed``: ``train``, ``validation``,
    ``test`` for the first of ``seeds``, ``<part>_seed<seed>`` for the others."""
    suffix = "" if seed == seeds[0] else f"_seed{seed}"
    return tuple(part + suffix for part in PARTS)


def all_splits(names: Sequence[str], seeds: Sequence[int],
               held_out: Sequence[str]) -> dict[str, list[str]]:
    """Every split of a config: :func:`seeded_split_names` of each seed, and
    ``composition_<part>`` for the composition split."""
    out = {}
    for seed in seeds:
        out.update(zip(seeded_split_names(seed, seeds), random_split(names, seed).values(),
                       strict=True))
    out.update({f"composition_{part}": members
                for part, members in composition_split(names, held_out, seeds[0]).items()})
    return out
