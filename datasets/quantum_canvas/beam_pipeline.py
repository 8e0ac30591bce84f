"""Apache Beam generation of ``quantum_canvas``: one pair per work item, on any Beam runner.

The builder takes this path when ``download_and_prepare`` is given a Beam runner or Beam options,
for instance (``FnApiRunner`` is the local batch engine of Beam's DirectRunner, which in Beam
2.77 first tries to download the Prism runner from GitHub)::

    tfds build quantum_canvas --imports quantum_canvas --config paper75 \
        --beam_pipeline_options="runner=FnApiRunner,direct_num_workers=16,direct_running_mode=multi_processing"

Each split is the transform ``pair names -> Reshuffle -> record -> batches -> (key, example)``:
a work item reads one pair's record from the store or computes it with PySCF (under the pair's
lock, so splits sharing a pair compute it once), and canvases are rendered by the JAX kernel in
batches of up to :data:`RENDER_BATCH` records (a pair is in four splits, the three seeded ones and
the composition split, so its canvas is rendered four times; PySCF runs once). Records are shared
through the store, so on a multi-machine runner its folder must be on a filesystem every worker
sees; the workers need this package installed (``--setup_file`` or a container image). Pairs left
out (failed SCF, past the time limit, or missing with ``compute=False``) are counted in the Beam
metric namespace :data:`LEFT_OUT`, one counter per pair named ``"<pair>: <reason>"``, which the
builder copies into ``info.metadata['left_out']``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import tensorflow_datasets as tfds

from qc_jax.basis import layout_of
from qc_jax.canvas import CanvasSpec, field_inputs, padded_mo_count, render_many
from qc_jax.chem.lookup import get_record
from qc_jax.chem.settings import Settings
from qc_jax.elements import parse_pair
from qc_jax.record import PairRecord
from qc_jax.store import Store
from quantum_canvas import features
from quantum_canvas.records import left_out, shipped_records

LEFT_OUT = "quantum_canvas.left_out"
"""Beam metric namespace of the left-out pairs (counter name ``"<pair>: <reason>"``)."""

RENDER_BATCH = 16
"""Records per compiled canvas call in a Beam worker."""


@dataclasses.dataclass(frozen=True)
class PairJob:
    """What a worker needs to turn a pair name into an example (pickled to the workers).

    Attributes:
      store_root: the store root directory (see :mod:`quantum_canvas.records`).
      settings: level of theory of the records.
      spec: the canvas spec.
      compute: compute missing records with PySCF (else leave them out).
      time_limit_s: a pair still computing after this many CPU seconds is stored as failed
        (None: none).
      shipped_dir: the shipped records (None: the package's), see :mod:`quantum_canvas.records`.
      prefer_store: a record of the store replaces a shipped one.
    """

    store_root: str
    settings: Settings
    spec: CanvasSpec
    compute: bool = True
    time_limit_s: float | None = None
    shipped_dir: str | None = None
    prefer_store: bool = False

    def store(self) -> Store:
        return Store(self.store_root, self.settings)


def examples(names: Sequence[str], job: PairJob):
    """The ``beam.PTransform`` yielding ``(pair name, example)`` for the converged ``names``."""
    beam = tfds.core.lazy_imports.apache_beam
    return (
        beam.Create(sorted(names))
        | "OnePairPerWorkItem" >> beam.Reshuffle()
        | "Records" >> beam.FlatMap(converged_record, job)
        | "ByShape" >> beam.Map(lambda record: (render_shape(record), record))
        | "Batches" >> beam.GroupIntoBatches(RENDER_BATCH)
        | "Canvases" >> beam.FlatMap(keyed_examples, job)
    )


def converged_record(name: str, job: PairJob) -> Iterator[PairRecord]:
    """Work item: the record of pair ``name`` if it is kept (computed and stored first if
    missing and ``job.compute``); a left-out pair increments its :data:`LEFT_OUT` counter."""
    shipped = shipped_records(job.settings, job.shipped_dir)
    lookup = get_record(*parse_pair(name), job.store(), shipped, job.prefer_store,
                        job.compute, time_limit_s=job.time_limit_s)
    if left_out(lookup):
        _count_left_out(name, left_out(lookup))
    else:
        yield lookup.record


def render_shape(record: PairRecord) -> tuple:
    """What fixes the compiled canvas call of a record: its basis layout and its occupied-MO
    count as :func:`qc_jax.canvas.render_many` pads it."""
    basis, inputs = field_inputs(record)
    return layout_of([basis]), padded_mo_count(inputs.nocc)


def keyed_examples(shape_and_batch: tuple[tuple, list[PairRecord]],
                   job: PairJob) -> Iterator[tuple[str, dict]]:
    """``(pair name, example)`` of a batch of converged records of one :func:`render_shape`,
    canvases rendered together in a batch padded to :data:`RENDER_BATCH` (one compiled shape)."""
    batch = list(shape_and_batch[1])
    padded = batch + batch[-1:] * (RENDER_BATCH - len(batch))
    canvases = render_many(padded, job.spec, batch_size=RENDER_BATCH, progress=False)
    for record, canvas in zip(batch, canvases, strict=False):
        yield record.pair, features.example(record, canvas, job.spec)


def left_out_pairs(pipeline_result) -> dict[str, str]:
    """Left-out pair name -> reason, from the :data:`LEFT_OUT` counters of a finished pipeline."""
    metrics = tfds.core.lazy_imports.apache_beam.metrics
    counters = pipeline_result.metrics().query(
        metrics.MetricsFilter().with_namespace(LEFT_OUT))["counters"]
    return dict(sorted(counter.key.metric.name.split(": ", 1) for counter in counters))


def _count_left_out(name: str, reason: str) -> None:
    metrics = tfds.core.lazy_imports.apache_beam.metrics
    metrics.Metrics.counter(LEFT_OUT, f"{name}: {reason}").inc()
