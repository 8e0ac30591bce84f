"""Pictures of canvases for people: one panel per channel, with titles, units and atoms."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qc_jax.canvas import CanvasSpec
    from qc_jax.record import PairRecord

#: Linear range of the symmetric-log colour scale, relative to each channel's largest |value|.
LINEAR_FRACTION = 1e-4

#: Panels per row of the figure (the ten channels of ``physical`` or ``stamps``: 2 rows of 5).
COLUMNS = 5


def canvas_figure(
    image: np.ndarray,
    spec: CanvasSpec,
    record: PairRecord,
    path: str | Path,
    title: str | None = None,
) -> Path:
    """Writes a PNG of a canvas [H, W, C] of ``spec.channel_set``: one panel per channel,
    :data:`COLUMNS` a row, each with the channel's name, family, unit and colour bar; a set on the
    bond plane is drawn on axes in Angstrom with the two nuclei marked, any other (the stamps) on
    pixel indices. Uses a matplotlib ``Figure``, not pyplot: no backend is chosen or changed.
    Returns the path."""
    from matplotlib.colors import Normalize, SymLogNorm
    from matplotlib.figure import Figure

    channel_set = spec.channel_set
    if image.shape[-1] != channel_set.count:
        raise ValueError(f"a canvas of {image.shape[-1]} channels, but the spec's channel set "
                         f"{spec.channels!r} has {channel_set.count}")
    geometry = spec.geometry(record.bond_length)
    half_w, half_h = geometry["box_width_angstrom"] / 2, geometry["box_height_angstrom"] / 2
    columns = min(COLUMNS, channel_set.count)
    rows = math.ceil(channel_set.count / columns)
    fig = Figure(figsize=(3.4 * columns, 3.7 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel()[channel_set.count:]:
        ax.set_axis_off()
    for index, (channel, ax) in enumerate(zip(channel_set.channels, axes.ravel(), strict=False)):
        values = np.asarray(image[..., index], np.float64)
        limit = float(np.abs(values).max()) or 1.0
        signed = values.min() < 0
        if channel.unit == "1" and channel_set.on_bond_plane:  # ELF: already in [0, 1]
            norm, cmap = Normalize(0, 1), "viridis"
        else:
            norm = SymLogNorm(LINEAR_FRACTION * limit, vmin=-limit if signed else 0, vmax=limit)
            cmap = "RdBu_r" if signed else "magma"
        if channel_set.on_bond_plane:
            shown = ax.imshow(values, extent=(-half_w, half_w, -half_h, half_h), origin="upper",
                              cmap=cmap, norm=norm, interpolation="nearest")
            ax.plot(record.positions[:, 2], record.positions[:, 0], "+", color="cyan", ms=9,
                    mew=1.5)
            ax.set_xlabel("z (Angstrom)", fontsize=8)
            ax.set_ylabel("x (Angstrom)", fontsize=8)
        else:
            shown = ax.imshow(values, cmap=cmap, norm=norm, interpolation="nearest")
            ax.set_xlabel("column (pixel)", fontsize=8)
            ax.set_ylabel("row (pixel)", fontsize=8)
        ax.set_title(f"{index}: {channel.name}\n({channel.family})", fontsize=9)
        ax.tick_params(labelsize=7)
        fig.colorbar(shown, ax=ax, shrink=0.85).set_label(channel.unit, fontsize=8)
    where = (f"R = {record.bond_length:.3f} Angstrom, pixel {geometry['pixel_angstrom']:.3f} "
             "Angstrom" if channel_set.on_bond_plane else f"R = {record.bond_length:.3f} Angstrom"
             ", atoms at fixed pixels")
    fig.suptitle(title or f"{record.pair}: {channel_set.name} canvas {spec.height}x{spec.width}, "
                          f"{where}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
