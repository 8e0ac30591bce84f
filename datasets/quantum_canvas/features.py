"""Features of a ``quantum_canvas`` example and the example of a pair record.

Every value is float32 (labels included: relative precision 6e-8, i.e. total energies of
-1e4 eV to ~1e-3 eV; the exact float64 values are in the pair records of the store).
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from qc_jax.canvas import CanvasSpec
from qc_jax.chem.labels import LABELS
from qc_jax.record import PairRecord

L_MAX = 5
"""Populations are zero-padded to l = 0..4 (s, p, d, f, g: the Lu basis has g functions)."""

GEOMETRY_KEYS = ("box_width_angstrom", "box_height_angstrom", "pixel_angstrom",
                 "origin_z_angstrom", "origin_x_angstrom")
GENERATING_SCALARS = ("N_0 (e)", "N_1 (e)", "q_0 (e)", "q_1 (e)", "dipole_mag_d (D)",
                      "distance_ang (Angstrom)")
DEFAULT_TARGET = "e_g_ev"
"""Target of ``as_supervised=True``: (canvas, e_g_ev)."""

_F32 = np.float32


def _scalar(doc: str, dtype=_F32) -> tfds.features.Scalar:
    return tfds.features.Scalar(dtype=dtype, doc=doc)


def _tensor(shape, doc: str, dtype=_F32, **kwargs) -> tfds.features.Tensor:
    return tfds.features.Tensor(shape=shape, dtype=dtype, doc=doc, **kwargs)


def canvas_doc(spec: CanvasSpec) -> str:
    """The doc of the canvas feature: shape, what the spec's channel set draws, its channels."""
    channel_set = spec.channel_set
    channels = "; ".join(f"{i} {c.name} [{c.unit}]" for i, c in enumerate(channel_set.channels))
    return (f"quantum canvas [{spec.height}, {spec.width}, {channel_set.count}], channel set "
            f"'{channel_set.name}': {channel_set.description}. Channels: {channels}")


def features(spec: CanvasSpec) -> tfds.features.FeaturesDict:
    """The FeaturesDict of a config with canvas spec ``spec``."""
    return tfds.features.FeaturesDict({
        "canvas": _tensor((spec.height, spec.width, spec.channel_set.count), canvas_doc(spec),
                          encoding=tfds.features.Encoding.ZLIB),
        "pair": tfds.features.Text(doc="pair name A_B, symbols in alphabetical order"),
        "symbols": _tensor((2,), "element symbols in geometry order (lower Z first)", np.str_),
        "atomic_numbers": _tensor((2,), "Z of the two atoms, Z_0 <= Z_1", np.int32),
        "positions": _tensor((2, 3), "atom positions (Angstrom), bond along z, atom 0 at "
                                     "z = -R/2"),
        "mulliken_charges": _tensor((2,), "Mulliken charges (e)"),
        "populations_l": _tensor((2, L_MAX), "Mulliken electron populations per atom and "
                                             "l = 0..4 (e; zero-padded)"),
        "populations_lm": _tensor((2, L_MAX, 2 * L_MAX - 1),
                                  "Mulliken populations per atom, l and m about the bond axis "
                                  "(e); m = -l..l at index m + 4, zero-padded"),
        "generating_scalars": _tensor((len(GENERATING_SCALARS),),
                                      "the scalars the paper's stamp images are drawn from: "
                                      + ", ".join(GENERATING_SCALARS)),
        "status": tfds.features.Text(doc="'ok' (converged SCF at an optimised bond) or "
                                         "'flagged' (converged SCF, no regular minimum)"),
        "reason": tfds.features.Text(doc="why the pair is flagged ('' when ok)"),
        "canvas_geometry": tfds.features.FeaturesDict(
            {key: _scalar(f"{key} (Angstrom); origin = centre of pixel [0, 0] (top left)")
             for key in GEOMETRY_KEYS}),
        **{label.name: _scalar(f"{label.definition} [{label.unit}]") for label in LABELS},
    })


def _pad_populations(record: PairRecord) -> tuple[np.ndarray, np.ndarray]:
    by_l, by_lm = np.asarray(record.populations_l), np.asarray(record.populations_lm)
    n_l = by_l.shape[1]
    if n_l > L_MAX:
        raise ValueError(f"{record.pair}: populations up to l = {n_l - 1}; features hold "
                         f"l <= {L_MAX - 1}")
    pad_m = L_MAX - n_l
    return (np.pad(by_l, [(0, 0), (0, pad_m)]),
            np.pad(by_lm, [(0, 0), (0, pad_m), (pad_m, pad_m)]))


def example(record: PairRecord, canvas: np.ndarray, spec: CanvasSpec) -> dict:
    """The feature dict of a converged record and its canvas [H, W, C]."""
    by_l, by_lm = _pad_populations(record)
    labels = record.labels
    generating = [*by_l.sum(axis=1), *record.mulliken_charges, labels["dipole_mag_d"],
                  record.bond_length]
    geometry = spec.geometry(record.bond_length)
    return {
        "canvas": np.asarray(canvas, _F32),
        "pair": record.pair,
        "symbols": np.array(record.symbols, dtype=object),
        "atomic_numbers": record.numbers.astype(np.int32),
        "positions": np.asarray(record.positions, _F32),
        "mulliken_charges": np.asarray(record.mulliken_charges, _F32),
        "populations_l": by_l.astype(_F32),
        "populations_lm": by_lm.astype(_F32),
        "generating_scalars": np.asarray(generating, _F32),
        "status": record.status,
        "reason": record.reason,
        "canvas_geometry": {key: _F32(geometry[key]) for key in GEOMETRY_KEYS},
        **{label.name: _F32(labels.get(label.name, np.nan)) for label in LABELS},
    }
