"""Devices and processes: the data mesh, each process's share of a global batch, gathers.

Data parallel with `jax.sharding`: a 1-D mesh with axis "data" over all devices of all processes;
every batch is sharded along its leading axis, parameters and optimiser state are replicated, and
XLA inserts the gradient all-reduce. The same code runs on one CPU, several GPUs and a TPU pod.
With several processes (`jax.distributed`), each process reads and feeds only its share of every
global batch (`Sharder.share`); `jax.make_array_from_process_local_data` assembles the global
array from the shares.
"""

from __future__ import annotations

import jax
import numpy as np
from flax import nnx
from jax.experimental.multihost_utils import process_allgather
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P


def initialize(distributed: bool) -> None:
    """Joins the process group (`jax.distributed.initialize()`) once, when asked.

    Without arguments JAX finds the coordinator on TPU pods, SLURM and other clusters it knows;
    elsewhere call `jax.distributed.initialize(coordinator_address, num_processes, process_id)`
    yourself before training (it is then not called again).
    """
    if distributed and not jax.distributed.is_initialized():
        jax.distributed.initialize()


def is_main() -> bool:
    """True in the process that writes the workdir's logs, tables and figures."""
    return jax.process_index() == 0


class Sharder:
    """Puts process-local batch shares on the mesh (sharded on "data"), replicates model state."""

    def __init__(self):
        self.mesh = jax.make_mesh(
            (jax.device_count(),), ("data",), axis_types=(jax.sharding.AxisType.Auto,)
        )
        self.data = NamedSharding(self.mesh, P("data"))
        self.replicated = NamedSharding(self.mesh, P())

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % jax.device_count():
            raise ValueError(
                f"batch size {batch_size} not divisible by {jax.device_count()} devices"
            )

    @staticmethod
    def share(global_size: int) -> slice:
        """The rows of a global batch of `global_size` rows that this process reads and feeds."""
        n, p = jax.process_count(), jax.process_index()
        return slice(p * global_size // n, (p + 1) * global_size // n)

    def batch(self, local: dict[str, np.ndarray]) -> dict[str, jax.Array]:
        """This process's share of a batch -> global device arrays (all shares together)."""
        return {
            k: jax.make_array_from_process_local_data(self.data, v)
            for k, v in local.items()
            if v.dtype.kind not in "SUO"  # pair names stay on the host
        }

    def replicate(self, *nodes) -> None:
        nnx.update(nodes, jax.device_put(nnx.state(nodes), self.replicated))


def gather(x: np.ndarray | jax.Array) -> np.ndarray:
    """The whole of `x` on every process, as numpy.

    A global `jax.Array` (e.g. predictions sharded on "data") is fetched whole; a numpy array is
    this process's part, and the result concatenates the equal-shaped parts of all processes along
    the leading axis, in process order.
    """
    if jax.process_count() == 1 and not isinstance(x, jax.Array):
        return np.asarray(x)
    return np.asarray(process_allgather(x, tiled=True))
