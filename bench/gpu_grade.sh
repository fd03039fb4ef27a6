#!/usr/bin/env bash
# Run ON a GPU machine (PyTorch + JAX, no Keras, no registry), after bench/wheels.sh ran here:
#   run(command="bash bench/gpu_grade.sh --per-gpu 4 --batch 50", carry=[".whl", "bench/out/gpu_notebooks"])
# Installs the carried wheels into /tmp/site, then grades every assignment's reference and demo
# fixtures (and, with --batch N, N copies of a reference) on the jax and torch backends from this
# checkout; extra arguments go to bench/gpu_grade.py. The table, JSON and log land in $OUT
# (default bench/out/gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/gpu}
BACKENDS=${BACKENDS:-jax,torch}
mkdir -p "$OUT"
nvidia-smi -L || echo "(no nvidia-smi: CPU only)"
ls .whl/*.whl >/dev/null 2>&1 || { echo "no wheels in .whl/: run bench/wheels.sh first"; exit 2; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
KERAS_BACKEND=jax python3 -c "import sys, jax, torch, keras, autograder
print('jax', jax.__version__, jax.devices(), '| torch', torch.__version__, torch.cuda.is_available())
print('python', sys.version.split()[0], '| keras', keras.__version__, '| autograder', autograder.__file__)"
python3 bench/gpu_grade.py --backends "$BACKENDS" --out "$OUT" --timeout "${TIMEOUT:-280}" \
  --command "bash bench/gpu_grade.sh $*  # BACKENDS=$BACKENDS" "$@" 2>&1 | tee "$OUT/gpu_grade.log"
