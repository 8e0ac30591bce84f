"""The QuantumCanvas paper's population-stamp encoder, re-implemented for control experiments.

The official images (arXiv 2512.01519, its released code) are not fields: each of the ten
channels is a Gaussian stamp or a fixed radial pattern scaled by Mulliken scalars, drawn with
the atoms at fixed pixels (columns 11 and 21, row 16 of 32) whatever the geometry. This module
draws the same channels from *our* populations, charges and dipole, so that physical canvases
and stamps can be compared on identical labels. The channels are the rows of :data:`CHANNELS`
(definitions transcribed from the paper's official code,
github.com/KurbanIntelligenceLab/QuantumCanvas), on integer pixel indices (col, row), with

    G(x0, y0; A, s) = A exp(-((col - x0)^2 + (row - y0)^2) / (2 s^2))
    u, v = linspace(-1, 1, W) over columns, linspace(-1, 1, H) over rows
    r = sqrt(u^2 + v^2), theta = atan2(v, u)

pop_il: Mulliken electron population of atom i in shells of angular momentum l; N_i = sum_l
pop_il; q_i: Mulliken charge. For sizes other than 32 x 32 the pixel positions and widths scale
with the image (x_i = (11, 21) W / 32, row 16 H / 32, s W / 32).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qc_jax.channels import Channel
from qc_jax.units import DEBYE_AU

if TYPE_CHECKING:
    from qc_jax.record import PairRecord

#: Atom columns and row of the official 32 x 32 images.
ATOM_COLUMNS, ATOM_ROW, OFFICIAL_SIZE = (11.0, 21.0), 16.0, 32

CHANNELS: tuple[Channel, ...] = (
    Channel("radial_population", "O-Map radial", "e",
            "sum_i G(x_i, 16; sum_l pop_il (l + 1) / 3, 3)"),
    Channel("angular_population", "O-Map angular", "e", "sum_i G(x_i, 16; |sum_lm m pop_ilm|, 3)"),
    Channel("sp_pattern", "RIP-GAF s/p", "e", "exp(-r^2 / 0.3) sum_i (s_i + p_i)"),
    Channel("df_pattern", "RIP-GAF d/f", "e",
            "exp(-r^2 / 0.5) (1 + cos 4 theta) sum_i (d_i + f_i)"),
    Channel("dipole_pattern", "RIP-MTF dipole", "e Bohr",
            "|mu| r exp(-r^2 / 0.4), |mu| in atomic units"),
    Channel("quadrupole_pattern", "RIP-MTF quadrupole", "e",
            "|q_0 - q_1| (3 cos^2 theta - 1) exp(-r^2 / 0.4)"),
    Channel("charge", "COM charge", "e", "sum_i G(x_i, 16; 10 |q_i|, 4)"),
    Channel("population", "COM population", "e", "sum_i G(x_i, 16; N_i, 4)"),
    Channel("cation", "Q+", "e", "sum_{q_i > 0} G(x_i, 16; 10 q_i, 3.5)"),
    Channel("anion", "Q-", "e", "sum_{q_i <= 0} G(x_i, 16; 10 |q_i|, 3.5)"),
)
"""The stamp channels (symbols: the module docstring)."""

NAMES = tuple(channel.name for channel in CHANNELS)


def stamp_canvas(
    populations_l: np.ndarray,
    populations_lm: np.ndarray,
    charges: np.ndarray,
    dipole_debye: float,
    height: int = OFFICIAL_SIZE,
    width: int = OFFICIAL_SIZE,
    names: Sequence[str] = NAMES,
) -> np.ndarray:
    """[H, W, C] float64 stamp image, the channels ``names`` of :data:`CHANNELS` in that order.

    Args:
      populations_l: [2, L] electrons per atom and l (l = 0, 1, 2, 3, ...).
      populations_lm: [2, L, 2L - 1] electrons per atom, l and m (m = -l..l at index m + L - 1).
      charges: [2] Mulliken charges (e).
      dipole_debye: dipole magnitude (Debye).
    """
    populations_l = np.asarray(populations_l, np.float64)
    charges = np.asarray(charges, np.float64)
    n_l = populations_l.shape[1]
    scale = width / OFFICIAL_SIZE
    columns, rows = np.meshgrid(np.arange(width), np.arange(height))
    u, v = np.meshgrid(np.linspace(-1, 1, width), np.linspace(-1, 1, height))
    r2, theta = u**2 + v**2, np.arctan2(v, u)
    zero = np.zeros((height, width))

    def stamp(atom: int, amplitude: float, sigma: float) -> np.ndarray:
        x0, y0 = ATOM_COLUMNS[atom] * scale, ATOM_ROW * height / OFFICIAL_SIZE
        sigma = sigma * scale
        return amplitude * np.exp(-((columns - x0) ** 2 + (rows - y0) ** 2) / (2 * sigma**2))

    def padded(l_values: range) -> np.ndarray:
        return sum(populations_l[:, l] for l in l_values if l < n_l)

    m = np.arange(populations_lm.shape[2]) - (populations_lm.shape[2] - 1) // 2
    radial_weight = (np.arange(n_l) + 1) / 3
    atoms = range(2)
    images = {
        "radial_population": sum(stamp(i, populations_l[i] @ radial_weight, 3) for i in atoms),
        "angular_population": sum(stamp(i, abs(np.sum(populations_lm[i] * m)), 3)
                                  for i in atoms),
        "sp_pattern": np.exp(-r2 / 0.3) * np.sum(padded(range(2))),
        "df_pattern": np.exp(-r2 / 0.5) * (1 + np.cos(4 * theta)) * np.sum(padded(range(2, 4))),
        "dipole_pattern": dipole_debye / DEBYE_AU * np.sqrt(r2) * np.exp(-r2 / 0.4),
        "quadrupole_pattern": (abs(charges[0] - charges[1]) * (3 * np.cos(theta) ** 2 - 1)
                               * np.exp(-r2 / 0.4)),
        "charge": sum(stamp(i, 10 * abs(charges[i]), 4) for i in atoms),
        "population": sum(stamp(i, populations_l[i].sum(), 4) for i in atoms),
        "cation": sum((stamp(i, 10 * charges[i], 3.5) for i in atoms if charges[i] > 0), zero),
        "anion": sum((stamp(i, 10 * abs(charges[i]), 3.5) for i in atoms if charges[i] <= 0),
                     zero),
    }
    return np.stack([images[name] for name in names], axis=-1)


def render(record: PairRecord, height: int, width: int, names: Sequence[str] = NAMES
           ) -> np.ndarray:
    """The stamp image [H, W, C] float64 (channels ``names``) of a record from its populations,
    charges and dipole."""
    if record.status == "failed":
        raise ValueError(f"{record.pair}: a failed record has no populations ({record.reason})")
    return stamp_canvas(record.populations_l, record.populations_lm, record.mulliken_charges,
                        record.labels["dipole_mag_d"], height, width, names)
