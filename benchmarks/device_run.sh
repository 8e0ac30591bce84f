#!/bin/bash
# The GPU check in one call of a lent machine (benchmarks/README.md, *On a GPU*):
#   bash benchmarks/device_run.sh        (the device tool's run, carry data/device and .whl)
# versions; the kernel's PySCF parity, canvases and rendering time (device_check.py check); training
# throughput against PyTorch on the same GPU (train_throughput.py); five epochs of EGNN through the
# training loop and its orbax checkpoints on synthetic data. Prepared here first: data/device
# (device_check.py reference) and .whl (the wheels of the packages the loop needs that the
# machine lacks). Reports under $OUT (default out/device). PYTHON (default python3) and LIMIT (time
# the first LIMIT stand-ins only) are for a dry run on a CPU.
set -u
OUT=${OUT:-out/device}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH=$PWD:$PWD/models PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TQDM_DISABLE=1
if [ -d .whl ]; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
  export PYTHONPATH=$PYTHONPATH:/tmp/site
fi
{ nvidia-smi -L; "$PYTHON" -m pip list 2>/dev/null | grep -iE "^(jax|jaxlib|jax-cuda1.-plugin|flax|optax|orbax-checkpoint|numpy|torch) "
  nproc; git log --oneline -1; } 2>&1 | tee "$OUT/versions.txt"
timeout 240 "$PYTHON" benchmarks/device_check.py check --data data/device ${LIMIT:+--limit "$LIMIT"} \
  2>&1 | tee "$OUT/device_check.md"
echo "device_check: exit ${PIPESTATUS[0]}"
timeout 150 "$PYTHON" benchmarks/train_throughput.py --steps 20 --repeats 3 --torch-device cuda \
  2>&1 | tee "$OUT/train_throughput.txt"
echo "train_throughput: exit ${PIPESTATUS[0]}"
rm -rf /tmp/device_egnn
timeout 120 "$PYTHON" -m qc_models.train --config synthetic --workdir /tmp/device_egnn \
  --set num_epochs=5 model=egnn progress=false > "$OUT/train_egnn.txt" 2>&1
echo "train egnn: exit $?"
tail -20 "$OUT/train_egnn.txt"
cp /tmp/device_egnn/metrics.jsonl "$OUT/train_egnn_metrics.jsonl" 2>/dev/null
