"""Channel sets: what the channels of a canvas are, and how a set of them is rendered.

A :class:`ChannelSet` is a table of :class:`Channel` rows (the order of the last axis of its
canvases) and the renderer that draws them. The sets a :class:`qc_jax.canvas.CanvasSpec` can
name are in :data:`qc_jax.canvas.CHANNEL_SETS`: the physical fields (and those plus the spin
density) of :mod:`qc_jax.canvas`, and the paper's population stamps of :mod:`qc_jax.stamps`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Channel(NamedTuple):
    """One canvas channel: our name, the paper's family name, unit and definition."""

    name: str
    family: str
    unit: str
    definition: str


@dataclasses.dataclass(frozen=True)
class ChannelSet:
    """The channels of a kind of canvas, in the order of its last axis, and their renderer.

    Attributes:
      name: what a :class:`qc_jax.canvas.CanvasSpec` (and a dataset config) calls the set.
      description: what its images are, one phrase (feature docs, figures).
      channels: the table, one row per channel of the images.
      renderer: ``renderer(records, spec, names, batch_size, progress)`` -> [B, H, W, len(names)]
        images of ``spec.dtype``: the channels called ``names`` of each record, in that order
        (see :func:`qc_jax.canvas.render_many` for the other arguments).
      on_bond_plane: True if the pixels sample the record's bond plane, so the spec's geometry
        (box, pixel size, atom positions) applies to them; False for a diagram on pixel indices.
    """

    name: str
    description: str
    channels: tuple[Channel, ...]
    renderer: Callable[..., np.ndarray]
    on_bond_plane: bool = True

    def __post_init__(self):
        if len(set(self.names)) != self.count:
            raise ValueError(f"channel set {self.name!r} names a channel twice: {self.names}")

    @property
    def count(self) -> int:
        """C, the number of channels (last axis of the images)."""
        return len(self.channels)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(channel.name for channel in self.channels)

    def index(self, name: str) -> int:
        """Position of channel ``name`` on the last axis of the images."""
        if name not in self.names:
            raise KeyError(f"channel set {self.name!r} has no channel {name!r}: {self.names}")
        return self.names.index(name)

    def table_markdown(self) -> str:
        """The table as Markdown (the channel tables of ``docs/canvas.md``; a ``|`` in a cell,
        as in |grad rho|, is escaped)."""
        rows = [
            f"| {i} | `{c.name}` | " + " | ".join(text.replace("|", "\\|") for text in
                                                  (c.family, c.unit, c.definition)) + " |"
            for i, c in enumerate(self.channels)
        ]
        return "\n".join(
            ["| ch | name | family (paper) | unit | definition |", "|---|---|---|---|---|", *rows]
        )
