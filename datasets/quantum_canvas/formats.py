"""Both TFDS read modes from one prepared directory: tfrecord (``tfds.load``, tf.data) and
array_record (``tfds.data_source``, random access for grain).

TFDS 4.9 prepares one file format, and ``tfds.load`` reads only tfrecord while
``tfds.data_source`` reads only array_record (its own converter needs Apache Beam). After a
tfrecord build, :func:`add_array_record` copies every shard, record by record in the same order
(so TFDS's shard lengths stay valid), and lists array_record as an alternative file format.
TFDS 4.9.10 writes that list to dataset_info.json but does not restore it when it reads a
prepared dataset back; :func:`restore_alternatives` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow_datasets as tfds
from etils import epath
from tensorflow_datasets.core import file_adapters

ARRAY_RECORD = file_adapters.FileFormat.ARRAY_RECORD


def add_array_record(builder: tfds.core.DatasetBuilder) -> None:
    """Adds array_record shards next to the tfrecord shards of a prepared ``builder`` (no-op if
    the build is not tfrecord or already has them)."""
    info = builder.info
    if (info.file_format != file_adapters.FileFormat.TFRECORD
            or ARRAY_RECORD in info.available_file_formats()):
        return
    import tensorflow as tf

    for shard in sorted(epath.Path(builder.data_dir).glob("*.tfrecord-*")):
        target = file_adapters.convert_path_to_file_format(shard, ARRAY_RECORD)
        records = tf.data.TFRecordDataset(str(shard)).as_numpy_iterator()
        file_adapters.ArrayRecordFileAdapter.write_examples(target, ((None, r) for r in records))
    info.add_alternative_file_format(ARRAY_RECORD)
    info.write_to_directory(builder.data_dir)


def restore_alternatives(info: tfds.core.DatasetInfo) -> None:
    """Makes ``info.available_file_formats()`` include the alternative formats recorded in its
    dataset_info.json (TFDS restores them into the proto only)."""
    for value in info.as_proto.alternative_file_formats:
        file_format = file_adapters.FileFormat.from_value(value)
        if file_format not in info.alternative_file_formats:
            info.alternative_file_formats.append(file_format)


@contextlib.contextmanager
def keep_file_format(info: tfds.core.DatasetInfo) -> Iterator[None]:
    """Restores ``info.file_format`` after the ``with`` block. TFDS's ``as_data_source`` switches
    it to array_record for good, after which ``as_dataset`` on the same builder fails; data
    sources fix their files when they are made, so switching back is safe."""
    file_format = info.file_format
    try:
        yield
    finally:
        if file_format is not None and info.file_format != file_format:
            info.set_file_format(file_format, override=True, override_if_initialized=True)
