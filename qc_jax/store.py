"""On-disk store of pair records: one checksummed file per pair, written atomically.

Layout under the store root (one sub-folder per level of theory, so records computed with other
settings are never mixed)::

    ROOT/<settings digest[:16]>/settings.json     the settings, their full digest, schema version
    ROOT/<settings digest[:16]>/pairs/A_B.npz     one PairRecord (arrays + JSON metadata + checksum)
    ROOT/<settings digest[:16]>/atoms/El_0.003.npz  one free atom (AtomRecord) per element and k_B T
    ROOT/<settings digest[:16]>/compute.log       one line per computed pair
    ROOT/<settings digest[:16]>/locks/A_B.lock    held while a process computes the pair

A record file is written to a temporary name in the same folder and renamed over the target
(``os.replace``), so a reader sees either the old file or the complete new one. Reading checks the
SHA-256 checksum, the schema version and the settings digest; a file failing any check is reported
as corrupt and treated as missing (the runner recomputes it). Processes that compute into one store
at the same time (parallel runs, Beam workers on a shared filesystem) take the pair's lock
(:meth:`Store.lock`, ``flock``) and compute a pair only if it is still missing once they hold it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qc_jax.elements import pair_name
from qc_jax.record import READABLE_SCHEMAS, SCHEMA_VERSION, AtomRecord, PairRecord


class StoreError(OSError):
    """The store folder cannot be created or written."""


class CorruptRecordError(ValueError):
    """A record file that is truncated, fails its checksum, or has another schema or settings."""


class LevelOfTheory(Protocol):
    """What the store needs of a level of theory (:class:`qc_jax.chem.settings.Settings`)."""

    def digest(self) -> str:
        """Hex SHA-256 that keys the records of this level of theory."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (written to ``settings.json``)."""
        ...


class Store:
    """Pair records of one level of theory, ``settings`` (for example
    :data:`qc_jax.chem.settings.DEFAULT`, the documented one), under ``root``.

    Making a store touches no file: its folder (and ``settings.json``) is created at the first
    write, which raises :class:`StoreError` if the folder cannot be created or is not writable.
    """

    def __init__(self, root: str | os.PathLike, settings: LevelOfTheory) -> None:
        self.settings = settings
        self.digest = settings.digest()
        self.root = Path(root)
        self.folder = self.root / self.digest[:16]
        self.pairs_folder = self.folder / "pairs"
        self._writable = False

    def make_writable(self) -> None:
        """Create the folders and ``settings.json`` once; :class:`StoreError` if impossible."""
        if self._writable:
            return
        try:
            self.pairs_folder.mkdir(parents=True, exist_ok=True)
            probe = tempfile.TemporaryFile(dir=self.pairs_folder)
            probe.close()
        except OSError as error:
            message = f"store folder {self.pairs_folder} is not writable: {error}"
            raise StoreError(message) from None
        self._write_settings()
        self._writable = True

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files left by writers that died (their pid is gone)."""
        for tmp in self.folder.rglob(".*.tmp"):
            pid = int(tmp.name.split(".")[-2]) if tmp.name.split(".")[-2].isdigit() else 0
            if not _process_alive(pid):
                tmp.unlink(missing_ok=True)

    @property
    def log_path(self) -> Path:
        return self.folder / "compute.log"

    def append_log(self, line: str) -> None:
        """Append one line to ``compute.log`` (one ``write`` call, so concurrent writers do not
        interleave within a line)."""
        self.make_writable()
        with open(self.log_path, "a") as log_file:
            log_file.write(line.rstrip("\n") + "\n")

    @contextlib.contextmanager
    def lock(self, a: str, b: str | None = None) -> Iterator[None]:
        """Hold the exclusive lock of pair (a, b), or of the pair named ``a``, for the ``with``
        block; blocks while another process holds it."""
        self.make_writable()
        path = self.folder / "locks" / f"{self.path(a, b).stem}.lock"
        path.parent.mkdir(exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def path(self, a: str, b: str | None = None) -> Path:
        """File of pair (a, b), or of the pair named ``a`` (``"C_O"``) when ``b`` is None."""
        name = a if b is None else pair_name(a, b)
        return self.pairs_folder / f"{name}.npz"

    def __contains__(self, name: str) -> bool:
        return self.path(name).exists()

    def names(self) -> list[str]:
        """Names of the pairs with a record file (valid or not), sorted."""
        return sorted(p.stem for p in self.pairs_folder.glob("*.npz"))

    def load(self, a: str, b: str | None = None) -> PairRecord:
        """The record of a pair. Raises FileNotFoundError if absent, :class:`CorruptRecordError`
        if the file is unreadable, fails its checksum, or has another schema or settings."""
        record = read_record(self.path(a, b))
        if record.settings_digest != self.digest:
            raise CorruptRecordError(f"{self.path(a, b)}: computed with other settings")
        return record

    def get(self, a: str, b: str | None = None) -> PairRecord | None:
        """The record of a pair, or None if it is absent or corrupt."""
        try:
            return self.load(a, b)
        except (FileNotFoundError, CorruptRecordError):
            return None

    def records(self) -> Iterator[PairRecord]:
        """All valid records, in pair-name order (corrupt files are skipped)."""
        for name in self.names():
            record = self.get(name)
            if record is not None:
                yield record

    def put(self, record: PairRecord) -> Path:
        """Write ``record`` atomically; returns its path. The record's settings must be the
        store's."""
        if record.settings_digest != self.digest:
            raise ValueError(f"{record.pair}: record settings differ from the store's")
        self.make_writable()
        path = self.path(record.pair)
        write_checked(path, *record.to_parts())
        return path

    def atom_path(self, element: str, sigma: float) -> Path:
        """File of the free atom of ``element`` at electronic temperature ``sigma`` (Ha)."""
        return self.folder / "atoms" / f"{element}_{sigma:g}.npz"

    def get_atom(self, element: str, sigma: float) -> AtomRecord | None:
        """The stored free atom, or None if absent or corrupt."""
        try:
            meta, arrays = read_checked(self.atom_path(element, sigma))
        except (FileNotFoundError, CorruptRecordError):
            return None
        if meta.get("settings_digest") != self.digest:
            return None
        return AtomRecord.from_parts(meta, arrays)

    def put_atom(self, atom: AtomRecord) -> Path:
        """Write a free atom atomically (settings must be the store's); returns its path."""
        if atom.settings_digest != self.digest:
            raise ValueError(f"atom {atom.element}: settings differ from the store's")
        self.make_writable()
        path = self.atom_path(atom.element, atom.sigma)
        write_checked(path, *atom.to_parts())
        return path

    def missing(self, pairs: Iterable[tuple[str, str]], retry_failed: bool = False) -> list:
        """The pairs without a valid record (and, with ``retry_failed``, those whose record is
        :attr:`~qc_jax.record.PairRecord.retryable`)."""
        todo = []
        for a, b in pairs:
            record = self.get(a, b)
            if record is None or (retry_failed and record.retryable):
                todo.append((a, b))
        return todo

    def _write_settings(self) -> None:
        path = self.folder / "settings.json"
        if path.exists():
            return
        text = json.dumps(
            {
                "schema_version": SCHEMA_VERSION,
                "digest": self.digest,
                "settings": self.settings.to_dict(),
            },
            indent=2,
        )
        write_atomically(path, lambda handle: handle.write(text.encode()))


def read_record(path: str | os.PathLike) -> PairRecord:
    """The record in one file, of any readable schema and any settings (schema-1 records come
    back split into two spins). Raises FileNotFoundError, or :class:`CorruptRecordError` if the
    file is unreadable, fails its checksum or has an unknown schema."""
    meta, arrays = read_checked(Path(path))
    if meta.get("schema_version") not in READABLE_SCHEMAS:
        raise CorruptRecordError(f"{path}: schema version {meta.get('schema_version')}")
    return PairRecord.from_parts(meta, arrays)


def read_checked(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of a file written by :func:`write_checked`, checksum verified.
    Raises FileNotFoundError, or :class:`CorruptRecordError` for a bad file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except Exception as error:  # zipfile, zlib and numpy raise various types on bad files
        raise CorruptRecordError(f"{path}: unreadable ({error})") from None
    try:
        checksum = bytes(contents.pop("checksum")).decode()
        meta_bytes = bytes(contents.pop("meta"))
        meta = json.loads(meta_bytes)
    except (KeyError, ValueError) as error:
        raise CorruptRecordError(f"{path}: malformed record ({error})") from None
    if checksum != _checksum(meta_bytes, contents):
        raise CorruptRecordError(f"{path}: checksum mismatch")
    return meta, contents


def write_checked(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write JSON metadata, arrays and their checksum to ``path`` (npz) atomically (its folder
    created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta_bytes = json.dumps(meta, sort_keys=True).encode()
    contents = {
        "meta": np.frombuffer(meta_bytes, dtype=np.uint8),
        "checksum": np.frombuffer(_checksum(meta_bytes, arrays).encode(), dtype=np.uint8),
        **arrays,
    }
    write_atomically(path, lambda handle: np.savez_compressed(handle, **contents))


def _checksum(meta_bytes: bytes, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the metadata and every array's name, dtype, shape and bytes."""
    digest = hashlib.sha256(meta_bytes)
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def write_atomically(path: Path, write) -> None:
    """Call ``write(binary file handle)`` on a temporary file next to ``path``, then rename it."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
