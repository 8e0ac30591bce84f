"""Compute the missing pairs of a store in parallel worker processes, resumably.

Each worker computes one pair at a time and writes its record itself (atomically), so an
interrupted run (Ctrl-C, kill) loses at most the pairs in flight; running again computes only what
is missing. A worker that dies (killed for memory, or a crash in native code) ends the run with
the unfinished pairs reported as errors instead of hanging it. Workers use one OpenMP/BLAS thread
each (PySCF slows down 5-20x when threads fight).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from qc_jax.chem.lookup import Lookup, get_record
from qc_jax.chem.settings import Settings
from qc_jax.compact import ShippedRecords, seed_atoms
from qc_jax.elements import atomic_number, pair_name
from qc_jax.store import Store

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to 1 in the environment of every worker (the threads a process starts with can decide
which of two close states an SCF reaches: :mod:`qc_jax.chem.atoms`)."""


@dataclass
class RunSummary:
    """Counts and times of one :func:`compute_missing` run."""

    requested: int
    already_stored: int
    outcomes: list[Lookup] = field(default_factory=list)
    """What happened to each computed pair (:meth:`Lookup.without_record`)."""
    wall_time_s: float = 0.0
    interrupted: bool = False
    recompute: bool = False
    """Whether the pairs were computed again (a rerun then resumes only with ``resume``)."""

    @property
    def counts(self) -> Counter:
        return Counter(outcome.status for outcome in self.outcomes)

    def text(self) -> str:
        counts = self.counts
        cpu = sum(o.elapsed_s for o in self.outcomes)
        rerun = "rerun with --resume" if self.recompute else "rerun"
        head = f"interrupted ({rerun} to resume)" if self.interrupted else "done"
        return (
            f"{head}: {len(self.outcomes)} computed, {self.already_stored} already stored, "
            f"{self.requested} requested | ok {counts['ok']}, flagged {counts['flagged']}, "
            f"failed {counts['failed']}, errors {counts['error']} | "
            f"wall {self.wall_time_s:.1f} s, pair time {cpu:.1f} s"
        )


def compute_missing(
    store: Store,
    pairs: Sequence[tuple[str, str]],
    jobs: int = 1,
    retry_failed: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    verbose: bool = False,
    time_limit_s: float | None = None,
    recompute: bool = False,
    resume: bool = False,
    shipped: ShippedRecords | None = None,
) -> RunSummary:
    """Compute the ``pairs`` that ``store`` lacks with ``jobs`` worker processes.

    The most expensive pairs (largest sum of atomic numbers) start first. Each pair is a
    :func:`qc_jax.chem.lookup.get_record` in a worker; its log line is passed to ``log`` (default:
    printed above the progress bar) and appended to ``store.log_path``; with
    ``verbose`` the workers also print every bond length and SCF rung to stderr. On Ctrl-C or
    SIGTERM the workers are stopped and the summary says ``interrupted``; if a worker process
    dies, the pairs not finished by then are reported as errors (rerun to retry them). A pair
    still computing after ``time_limit_s`` CPU seconds is stored as failed (see
    :func:`qc_jax.chem.pair.compute_pair`). With ``recompute``, every pair of ``pairs`` is
    computed, stored or not, and compared with the stored record, else the ``shipped`` one: the
    lower is kept (:func:`qc_jax.chem.lookup.get_record`); with ``resume`` too, the pairs the
    store holds are not computed again (an interrupted run into a store of its own goes on).
    The free atoms of ``shipped`` records
    are written into the store first, where it lacks them (:func:`qc_jax.compact.seed_atoms`).
    """
    from tqdm import tqdm

    start = time.perf_counter()
    store.make_writable()
    store.remove_stale_temporaries()
    if recompute:
        todo = [pair for pair in pairs if not (resume and pair_name(*pair) in store)]
    else:
        todo = store.missing(pairs, retry_failed)
    todo.sort(key=lambda ab: -(atomic_number(ab[0]) + atomic_number(ab[1])))
    summary = RunSummary(len(pairs), len(pairs) - len(todo), recompute=recompute)
    bar = tqdm(total=len(todo), unit="pair", disable=not (progress and todo), dynamic_ncols=True)
    log = log or bar.write
    seeded = seed_atoms(store, shipped, {e for pair in todo for e in pair}) if shipped else []
    if seeded:
        log(f"{len(seeded)} free atoms taken from the shipped records into {store.folder}")
    compared = shipped if recompute else None  # otherwise a shipped record would be taken
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    executor = ProcessPoolExecutor(jobs, multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(verbose,))
    try:
        # The workers start at submission: they inherit one thread and skip the main script.
        with _one_thread_per_worker(), _workers_skip_the_main_script():
            futures = {executor.submit(_compute_in_worker, str(store.root), store.settings, a, b,
                                       time_limit_s, retry_failed, recompute, compared): (a, b)
                   for a, b in todo}
        for future in as_completed(futures):
            lookup = _lookup(future, futures[future], store)
            summary.outcomes.append(lookup.without_record())
            log(lookup.line())
            bar.update()
    except KeyboardInterrupt:
        summary.interrupted = True
        _terminate_workers(executor)
    finally:
        executor.shutdown(wait=not summary.interrupted, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous_term)
        bar.close()
    summary.wall_time_s = time.perf_counter() - start
    return summary


def _raise_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _lookup(future: Future, pair: tuple[str, str], store: Store) -> Lookup:
    """The lookup of a finished future; an error (logged here) if its worker process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        lookup = Lookup(pair_name(*pair), "error",
                        message="a worker process died (killed for memory, or crashed) before "
                                "this pair finished; rerun to retry")  # fmt: skip
        store.append_log(lookup.line())
        return lookup


def _terminate_workers(executor: ProcessPoolExecutor) -> None:
    """Stop the worker processes now (``terminate_workers`` from Python 3.14 on)."""
    if hasattr(executor, "terminate_workers"):
        executor.terminate_workers()
        return
    for process in list(executor._processes.values()):
        process.terminate()


@contextlib.contextmanager
def _one_thread_per_worker() -> Iterator[None]:
    """Set OpenMP/BLAS to one thread in this process's environment for the ``with`` block."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _workers_skip_the_main_script() -> Iterator[None]:
    """Hide the parent's ``__main__`` from the workers spawned in the ``with`` block.

    A spawned process imports the parent's main module first, so a user's script without an
    ``if __name__ == "__main__":`` guard would run again in every worker and fail there (it
    starts processes while the worker is still starting). The workers run library code only
    (:func:`_compute_in_worker`), so they do not need it."""
    main = sys.modules["__main__"]
    saved = {key: main.__dict__[key] for key in ("__file__", "__spec__") if key in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)


def _init_worker(verbose: bool) -> None:
    # The parent decides about interruption and terminates the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(processName)s %(name)s: %(message)s"))
        logger = logging.getLogger("qc_jax")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)


def _compute_in_worker(root: str, settings: Settings, a: str, b: str,
                       time_limit_s: float | None, retry_failed: bool, recompute: bool,
                       shipped: ShippedRecords | None) -> Lookup:
    """Pool worker: :func:`qc_jax.chem.lookup.get_record` of (a, b) in the store at ``root`` of
    ``settings``, computing it if missing (with ``recompute``, compared with ``shipped``)."""
    return get_record(a, b, Store(root, settings), shipped, retry_failed=retry_failed,
                      time_limit_s=time_limit_s, recompute=recompute)
