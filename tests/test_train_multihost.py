"""Two real JAX processes (`jax.distributed`, CPU devices, a localhost coordinator) train as one.

Each process reads only its share of every batch; the global batch is assembled from the shares;
the result and the checkpoints equal those of a one-process run.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from qc_models.configs import test as test_config

CONFIG = test_config.get_config().replace(
    model="schnet", model_kwargs={"features": 8, "num_interactions": 1}, num_synthetic=64
)

#: Runs one process of the group; records (split size, examples read) of every read it makes.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(sys.argv[1], num_processes=int(sys.argv[2]),
                               process_id=int(sys.argv[3]))
    from qc_models import sources
    from qc_models.configs.base import Config
    from qc_models.train import train_and_evaluate

    rows, read = [], sources.ArraySource.read

    def counted(source, indices):
        rows.append((len(source), len(indices)))
        return read(source, indices)

    sources.ArraySource.read = counted
    config = Config.from_dict(json.loads(sys.argv[5]))
    results = train_and_evaluate(config, sys.argv[4])
    print("RESULT", json.dumps({"results": results, "rows": rows,
                                "devices": jax.device_count(),
                                "tensorflow": "tensorflow" in sys.modules}))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def run_group(workdir, num_processes: int) -> list[dict]:
    address = f"localhost:{free_port()}"
    env = os.environ | {"OMP_NUM_THREADS": "1", "XLA_FLAGS": ""}
    config = json.dumps(CONFIG.to_dict())
    command = [sys.executable, "-c", SCRIPT, address, str(num_processes)]
    processes = [
        subprocess.Popen(
            [*command, str(i), str(workdir), config],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(num_processes)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    for p, (_, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    return [json.loads(out.split("RESULT", 1)[1]) for out, _ in outputs]


def test_two_processes_train_as_one(tmp_path):
    two = run_group(tmp_path / "two", 2)
    one = run_group(tmp_path / "one", 1)[0]
    assert [r["devices"] for r in two] == [2, 2]
    for r in two:  # every process returns the whole result, with its own clock
        assert r["results"].pop("wall_s") > 0
    assert two[0]["results"] == two[1]["results"]
    # the first reads are the three splits' shares (scaling, checks): together each split once
    for split in range(3):
        size, whole = one["rows"][split]
        assert whole == size  # one process reads all of it
        assert sorted(r["rows"][split][1] for r in two) == [size // 2, size - size // 2]
    # then every batch read is half a batch, and the two processes read what one process read
    for r in two:
        assert {n for _, n in r["rows"][3:]} == {CONFIG.batch_size // 2}
    assert sum(n for r in two for _, n in r["rows"]) == sum(n for _, n in one["rows"])
    assert not any(r["tensorflow"] for r in [*two, one])
    a, b = two[0]["results"], one["results"]
    assert a["best_epoch"] == b["best_epoch"] and a["epochs_run"] == b["epochs_run"]
    for t in CONFIG.targets:
        assert a["test_mae"][t] == pytest.approx(b["test_mae"][t], rel=1e-4, abs=1e-5)
        assert a["val_mae"][t] == pytest.approx(b["val_mae"][t], rel=1e-4, abs=1e-5)
    # one checkpoint folder written by both processes, the same steps as the single run
    steps = {p.name for p in (tmp_path / "two" / "checkpoints").iterdir()}
    assert steps == {p.name for p in (tmp_path / "one" / "checkpoints").iterdir()}

