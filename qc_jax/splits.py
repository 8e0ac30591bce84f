"""The paper's seeded random split: one rule for the dataset's pair names and the model zoo's
examples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAPER_FRACTIONS = (0.8, 0.1, 0.1)
"""Train, validation and test fractions of the QuantumCanvas paper's random split."""


def seeded_parts(n: int, seed: int,
                 fractions: Sequence[float] = PAPER_FRACTIONS) -> list[np.ndarray]:
    """Indices into ``n`` items of the train, validation and test parts: a numpy
    ``default_rng(seed)`` permutation cut after round(f_train n) and round(f_validation n) items
    (the test part takes the rest)."""
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val = round(fractions[0] * n), round(fractions[1] * n)
    return np.split(order, [n_train, n_train + n_val])
