"""The ``official`` config: the QuantumCanvas paper's ``dataset_combined.npz`` (manual download).

Schema (the release on Zenodo, 10.5281/zenodo.20631934): images [N, 10, 32, 32] float32, geometries
[N, 2, 4] (x, y, z in Angstrom, Mulliken population), elements [N, 2], pair_names [N], labels [N]
dicts of 37 values (None where undefined), metadata [N] dicts; saved with pickled objects.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from qc_jax import stamps
from qc_jax.elements import atomic_number
from quantum_canvas.configs import HALOGENS

FILENAME = "dataset_combined.npz"
MD5 = "a35d349814ca9e12a8413289c015de49"
HELD_OUT = HALOGENS
INSTRUCTIONS = f"""\
For the `official` config only: download `{FILENAME}` (md5 {MD5}, CC-BY-4.0) from
https://doi.org/10.5281/zenodo.20631934 and place it in the manual directory
(`<data_dir>/downloads/manual/`, or pass
`download_and_prepare_kwargs={{"download_config": tfds.download.DownloadConfig(manual_dir=...)}}`).
The other configs need no download: they compute their records with PySCF.
"""

LABELS: tuple[tuple[str, str], ...] = (
    ("total_energy_ev", "eV"), ("e_homo_ev", "eV"), ("e_lumo_ev", "eV"), ("e_g_ev", "eV"),
    ("band_energy_ev", "eV"), ("mermin_free_energy_ev", "eV"), ("repulsive_energy_ev", "eV"),
    ("fermi_level_ev", "eV"), ("q_absmean", "e"), ("q_maxabs", "e"), ("q_std", "e"),
    ("total_charge", "e"), ("i_ev", "eV"), ("a_ev", "eV"), ("chi_ev", "eV"), ("mu_ev", "eV"),
    ("eta_ev", "eV"), ("softness_evinv", "1/eV"), ("electrophilicity_ev", "eV"),
    ("n_levels", "count"), ("max_occupancy", "e"), ("metal_like", "bool"),
    ("no_virtual_in_basis", "bool"), ("dipole_mag_d", "D"), ("dipole_x_d", "D"),
    ("dipole_y_d", "D"), ("dipole_z_d", "D"), ("distance_ang", "Angstrom"),
    ("geom_opt_step", "count"), ("scc_last_iter", "count"), ("scc_last_total_elec_eh", "e"),
    ("scc_last_diff_elec", "e"), ("scc_last_error", "e"), ("geom_converged", "bool"),
    ("scc_converged", "bool"), ("n_atoms", "count"),
)
"""The paper's labels kept as float32 features (NaN where None; its 37th, the identifier
``system_id_guess``, is left out). Definitions: the paper (DFTB+ outputs; I = -E_HOMO and
A = -E_LUMO by Koopmans)."""

IMAGE_SHAPE = (len(stamps.CHANNELS), stamps.OFFICIAL_SIZE, stamps.OFFICIAL_SIZE)
"""[C, H, W] of the paper's images, fixed by its encoder: the ten population stamps that
:data:`qc_jax.stamps.CHANNELS` transcribes (in that order), 32 x 32 pixels."""

_ARRAYS = ("images", "geometries", "elements", "pair_names", "labels")
_ATOM_COLUMNS = (11, 21)
"""Pixel columns (row 16) where the paper draws atoms 0 and 1, whatever the geometry."""


class OfficialSchemaError(ValueError):
    """The manual file is not the paper's npz schema."""


def npz_path(manual_dir: epath.PathLike) -> epath.Path:
    """The npz in the manual directory. Raises FileNotFoundError with instructions if absent."""
    path = epath.Path(manual_dir) / FILENAME
    if not path.exists():
        raise FileNotFoundError(f"{path} not found.\n{INSTRUCTIONS}")
    return path


def md5_of(path: epath.PathLike) -> str:
    """MD5 of the file; a mismatch with :data:`MD5` is logged (a modified or synthetic npz)."""
    digest = hashlib.md5(epath.Path(path).read_bytes()).hexdigest()
    if digest != MD5:
        logging.warning("%s has md5 %s, not the published %s", path, digest, MD5)
    return digest


def features() -> tfds.features.FeaturesDict:
    """Features of the official config (model-zoo keys: canvas, positions, atomic_numbers,
    generating_scalars, labels)."""
    f32 = np.float32
    return tfds.features.FeaturesDict({
        "canvas": tfds.features.Tensor(
            shape=(*IMAGE_SHAPE[1:], IMAGE_SHAPE[0]), dtype=f32,
            encoding=tfds.features.Encoding.ZLIB,
            doc=f"the paper's population-stamp image, transposed from {list(IMAGE_SHAPE)}; atoms "
                "drawn at pixels (16, 11) and (16, 21) whatever the geometry; channels (those "
                f"of qc_jax.stamps): {', '.join(stamps.NAMES)}"),
        "pair": tfds.features.Text(doc="pair name A_B (alphabetical)"),
        "symbols": tfds.features.Tensor(shape=(2,), dtype=np.str_,
                                        doc="element symbols in the npz's atom order"),
        "atomic_numbers": tfds.features.Tensor(shape=(2,), dtype=np.int32,
                                               doc="Z in the npz's atom order"),
        "positions": tfds.features.Tensor(shape=(2, 3), dtype=f32, doc="positions (Angstrom)"),
        "mulliken_populations": tfds.features.Tensor(shape=(2,), dtype=f32,
                                                     doc="DFTB Mulliken populations (e)"),
        "generating_scalars": tfds.features.Tensor(
            shape=(6,), dtype=f32,
            doc="N_0, N_1 (e), q_0, q_1 (e), dipole_mag_d (D), distance_ang (Angstrom); "
                "q_0 = +-q_maxabs with the sign of the image's Q+/Q- channels at atom 0, "
                "q_1 = total_charge - q_0"),
        **{name: tfds.features.Scalar(dtype=f32, doc=f"the paper's {name} [{unit}]")
           for name, unit in LABELS},
    })


def _float(value) -> float:
    return float("nan") if value is None else float(value)


def examples(path: epath.PathLike) -> dict[str, dict]:
    """Pair name -> example of every pair in the npz.

    Raises:
      OfficialSchemaError: a missing array or a shape other than the paper's.
    """
    with epath.Path(path).open("rb") as handle, np.load(handle, allow_pickle=True) as npz:
        missing = [key for key in _ARRAYS if key not in npz.files]
        if missing:
            raise OfficialSchemaError(f"{path}: arrays {missing} missing (has {npz.files})")
        images, geometries, elements, names, labels = (npz[key] for key in _ARRAYS)
    if images.shape[1:] != IMAGE_SHAPE or geometries.shape[1:] != (2, 4):
        raise OfficialSchemaError(f"{path}: images {images.shape}, geometries "
                                  f"{geometries.shape}; expected [N, C, H, W] with [C, H, W] = "
                                  f"{list(IMAGE_SHAPE)}, and [N, 2, 4]")
    out = {}
    for image, geometry, symbols, name, label in zip(images, geometries, elements, names, labels,
                                                     strict=True):
        values = {key: _float(label.get(key)) for key, _ in LABELS}
        cation, anion = (image[stamps.NAMES.index(name), 16, _ATOM_COLUMNS[0]]
                         for name in ("cation", "anion"))
        q0 = values["q_maxabs"] * (1.0 if cation > anion else -1.0)
        generating = [*geometry[:, 3], q0, values["total_charge"] - q0, values["dipole_mag_d"],
                      values["distance_ang"]]
        out[str(name)] = {
            "canvas": np.transpose(image, (1, 2, 0)).astype(np.float32),
            "pair": str(name),
            "symbols": np.array([str(s) for s in symbols], dtype=object),
            "atomic_numbers": np.array([atomic_number(str(s)) for s in symbols], np.int32),
            "positions": geometry[:, :3].astype(np.float32),
            "mulliken_populations": geometry[:, 3].astype(np.float32),
            "generating_scalars": np.asarray(generating, np.float32),
            **{key: np.float32(value) for key, value in values.items()},
        }
    return out
