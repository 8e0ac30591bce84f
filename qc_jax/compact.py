"""Compact pair records: what canvases and labels need, in float32, to ship with the project.

A full :class:`qc_jax.record.PairRecord` keeps every MO of both spins in float64 (a few hundred kB
for a heavy pair). A compact record keeps, per spin, only the MOs that carry density (occupation
above :data:`qc_jax.canvas.OCCUPATION_FLOOR`) and the LUMO set of :func:`qc_jax.orbitals.frontier`,
their coefficients in float32, plus the geometry, labels and populations; the density matrices
are rebuilt as sum_i n_i c_i c_i^T and the promolecule from the shipped free atoms (block-diagonal:
the AOs of atom A come first). The settings are kept once, in the manifest of the folder.

Layout of a shipped folder (``ROOT``)::

    ROOT/MANIFEST.json         format version, settings and digest, one line per file: SHA-256
    ROOT/pairs/A_B.npz         one compact pair (checksummed like the store's files)
    ROOT/atoms/El_0.003.npz    one free atom at one k_B T: energies, spin, float32 density

Files are written once and rewritten only when a pair is computed again (``ship(replace=True)``), so
adding pairs in batches only adds files to git. The manifest is rewritten (atomically) after each
rewritten file and at the end, and a reader whose file fails its checksum reads the manifest again
before it fails, so a ``qc-canvas compute`` that reads a folder while ``qc-canvas ship`` writes it
goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from qc_jax import orbitals
from qc_jax.record import AtomRecord, PairRecord, promolecule_dm
from qc_jax.store import Store, read_checked, write_atomically, write_checked
from qc_jax.units import HARTREE_EV

FORMAT_VERSION = 1

OCCUPATION_FLOOR = 1e-14
"""MOs with a smaller occupation carry no density and are left out (the canvas's floor)."""

MANIFEST_RETRY_S = 1.0
"""A file that fails the manifest's checksum is checked again against the manifest read anew
after this many seconds (a ``ship`` into the folder may be between the file and its manifest
line)."""

_DROPPED = ("settings", "dm", "dm_promolecule", "mo_coeff", "mo_energy", "mo_occ")


class ShippedRecordError(ValueError):
    """A shipped file that is missing from the manifest, or whose SHA-256 differs from it."""


def compact_pair(record: PairRecord) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of the compact form of ``record`` (see module docstring)."""
    meta, arrays = record.to_parts()
    meta = {key: value for key, value in meta.items() if key not in _DROPPED}
    arrays = {key: value for key, value in arrays.items() if key not in _DROPPED}
    if record.status != "failed":
        kept = (record.mo_occ > OCCUPATION_FLOOR) | orbitals.frontier(
            record.mo_energy, record.mo_occ).lumo_set  # fmt: skip
        width = int(kept.sum(axis=1).max())
        order = np.argsort(~kept, axis=1, kind="stable")[:, :width]  # kept MOs first, in order
        arrays.update(
            mo_coeff=np.take_along_axis(record.mo_coeff, order[:, None, :], axis=2).astype(
                np.float32),
            mo_energy=np.take_along_axis(record.mo_energy, order, axis=1),
            mo_occ=np.take_along_axis(record.mo_occ * kept, order, axis=1),
        )  # fmt: skip
    return meta, arrays


def expand_pair(meta: dict, arrays: dict[str, np.ndarray], atoms: dict[str, AtomRecord],
                settings: dict) -> PairRecord:
    """The :class:`PairRecord` of a compact pair: density matrices rebuilt from its MOs (float64
    arithmetic on the float32 coefficients), the promolecule from ``atoms`` (element -> atom of
    the pair's k_B T), ``settings`` the manifest's."""
    values = dict(meta, symbols=tuple(meta["symbols"]), settings=settings)
    values.update({key: np.asarray(value) for key, value in arrays.items()
                   if key not in ("mo_coeff",)})  # fmt: skip
    if meta["status"] != "failed":
        coeff = np.asarray(arrays["mo_coeff"], np.float64)
        occ = values["mo_occ"]
        values.update(
            mo_coeff=coeff,
            dm=np.einsum("sim,sm,sjm->sij", coeff, occ, coeff),
            dm_promolecule=promolecule_dm(tuple(atoms[element] for element in meta["symbols"])),
        )
    return PairRecord(**values)


def compact_atom(atom: AtomRecord) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of a free atom: energies, spin, path and the float32 [2, nao, nao]
    spin density matrices."""
    meta, arrays = atom.to_parts()
    return meta, {"dm": arrays["dm"].astype(np.float32)}


def expand_atom(meta: dict, arrays: dict[str, np.ndarray]) -> AtomRecord:
    """Inverse of :func:`compact_atom` (float64 density matrices)."""
    return AtomRecord.from_parts(meta, {"dm": np.asarray(arrays["dm"], np.float64)})


class ShippedRecords:
    """A folder of compact records with its manifest (module docstring): read-only access.

    Raises FileNotFoundError if the folder has no manifest."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        manifest = _read_manifest(self.root)
        if manifest["format_version"] != FORMAT_VERSION:
            raise ShippedRecordError(f"{self.root}: format version {manifest['format_version']}")
        self.settings: dict = manifest["settings"]
        self.digest: str = manifest["settings_digest"]
        self.files: dict[str, str] = manifest["files"]
        self._atoms: dict[str, AtomRecord] = {}

    def names(self) -> list[str]:
        """Names of the shipped pairs, sorted."""
        return sorted(Path(name).stem for name in self.files if name.startswith("pairs/"))

    def get(self, name: str) -> PairRecord | None:
        """The record of the pair ``name`` (``"C_O"``), or None if it is not shipped. Raises
        :class:`ShippedRecordError` if its file (or an atom's) fails the manifest's checksum."""
        relative = f"pairs/{name}.npz"
        if relative not in self.files:
            return None
        meta, arrays = self._read(relative)
        atoms = {}
        if meta["status"] != "failed":
            sigma = meta["labels"]["smearing_sigma_ev"] / HARTREE_EV
            atoms = {element: self.atom(element, sigma) for element in meta["symbols"]}
        return expand_pair(meta, arrays, atoms, self.settings)

    def atom(self, element: str, sigma: float) -> AtomRecord:
        """The shipped free atom of ``element`` at k_B T ``sigma`` (Ha)."""
        relative = f"atoms/{element}_{sigma:g}.npz"
        if relative not in self._atoms:
            if relative not in self.files:
                raise ShippedRecordError(f"{self.root}: no free atom {relative}")
            self._atoms[relative] = expand_atom(*self._read(relative))
        return self._atoms[relative]

    def subset(self, root: str | os.PathLike, names: list[str]) -> ShippedRecords:
        """A copy at ``root`` (a new folder) holding only the pairs ``names`` and every free
        atom, with its own manifest: a smaller shipped set for tests and timings."""
        root = Path(root)
        manifest = _read_manifest(self.root)
        manifest["files"] = {path: digest for path, digest in self.files.items()
                             if path.startswith("atoms/") or Path(path).stem in names}
        for path in manifest["files"]:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.root / path, root / path)
        _write_manifest(root, manifest)
        return ShippedRecords(root)

    def _read(self, relative: str) -> tuple[dict, dict[str, np.ndarray]]:
        path = self.root / relative
        if file_digest(path) != self.files[relative]:
            time.sleep(MANIFEST_RETRY_S)  # a `ship --replace` may have rewritten it: read anew
            self.files = _read_manifest(self.root)["files"]
            if file_digest(path) != self.files.get(relative):
                raise ShippedRecordError(f"{path}: SHA-256 differs from MANIFEST.json")
        return read_checked(path)


def _read_manifest(root: Path) -> dict:
    return json.loads((root / "MANIFEST.json").read_text())


def _write_manifest(root: Path, manifest: dict) -> None:
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    root.mkdir(parents=True, exist_ok=True)
    write_atomically(root / "MANIFEST.json", lambda handle: handle.write(text.encode()))


def ship(store: Store, root: str | os.PathLike, names: list[str] | None = None,
         replace: bool = False) -> list[str]:
    """Add the records of ``names`` (default: every record of ``store``) that ``root`` lacks, in
    compact form, with the free atoms they need, and rewrite the manifest. Files already shipped
    are rewritten only with ``replace`` (pairs computed again, ``qc-canvas compute
    --recompute``) or for a pair shipped failed or at a raised k_B T that the store now
    holds converged at its settings' k_B T (retried with ``qc-canvas compute --retry-failed``);
    a folder of other settings is refused. Returns the
    names added or replaced."""
    root = Path(root)
    try:
        shipped = ShippedRecords(root)
    except FileNotFoundError:
        files = {}
    else:
        if shipped.digest != store.digest:
            raise ShippedRecordError(f"{root} holds records of other settings "
                                     f"({shipped.digest[:16]}, the store's {store.digest[:16]})")
        files = dict(shipped.files)
    added = []
    manifest = {"format_version": FORMAT_VERSION, "settings_digest": store.digest,
                "settings": store.settings.to_dict(), "files": files}  # fmt: skip
    for name in names if names is not None else store.names():
        relative = f"pairs/{name}.npz"
        record = store.get(name)
        if record is None or (relative in files and not replace
                              and not (shipped.get(name).retryable and not record.retryable)):
            continue
        for element in record.symbols if record.status != "failed" else ():
            sigma = record.labels["smearing_sigma_ev"] / HARTREE_EV
            atom_file = f"atoms/{element}_{sigma:g}.npz"
            if atom_file not in files:
                atom = store.get_atom(element, float(f"{sigma:g}"))
                write_checked(root / atom_file, *compact_atom(atom))
                files[atom_file] = file_digest(root / atom_file)
        replaced = relative in files
        write_checked(root / relative, *compact_pair(record))
        files[relative] = file_digest(root / relative)
        if replaced:  # a reader of the old manifest would fail this file's checksum until then
            _write_manifest(root, manifest)
        added.append(name)
    _write_manifest(root, manifest)
    return added


def seed_atoms(store: Store, shipped: ShippedRecords, elements: Iterable[str]) -> list[str]:
    """Write into ``store`` the shipped free atoms of ``elements`` (every k_B T shipped) that it
    lacks, if both are of the same settings; returns the files written.

    A pair's binding energy is taken against its store's free atoms, and an atom computed again
    in a new store can reach another state where states lie close (Ni at 0.003 Ha: 0.17 eV
    lower in free energy, 0.24 eV in E0; Th's integer-occupation energy 13 meV; 2026-11-30): so
    pairs computed next to shipped ones take the shipped atoms, the one computation that every
    shipped record's promolecule is built from. Saves their computation too (up to 2 minutes an
    atom)."""
    if shipped.digest != store.digest:
        return []
    wanted = set(elements)
    written = []
    for relative in sorted(shipped.files):
        element, _, sigma = Path(relative).stem.rpartition("_")
        if not relative.startswith("atoms/") or element not in wanted:
            continue
        with store.lock(f"atom_{element}_{sigma}"):
            if store.get_atom(element, float(sigma)) is None:
                store.put_atom(shipped.atom(element, float(sigma)))
                written.append(relative)
    return written


def file_digest(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (the manifest's checksum)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
