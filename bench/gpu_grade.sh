#!/usr/bin/env bash
# Run ON a GPU machine (PyTorch + JAX, no Keras, no registry), after bench/wheels.sh ran here:
#   run(command="bash bench/gpu_grade.sh --per-gpu 3 --batch 12", carry=[".whl", "bench/out/gpu_notebooks"])
# Installs the carried wheels into /tmp/site, then grades every assignment's reference and demo
# fixtures (and, with --batch N, N copies of the cnn reference) on each backend in BACKENDS,
# from this checkout; extra arguments go to bench/gpu_grade.py. PARALLEL=1 (the default) runs
# the backends at the same time, each with its own trainers on the GPU, to fit a short lease.
# Tables, JSON and logs land in $OUT/<backend>/ (default bench/out/gpu); all tables in
# $OUT/gpu_grade.md.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/gpu}
BACKENDS=${BACKENDS:-jax,torch}
PARALLEL=${PARALLEL:-1}
mkdir -p "$OUT"
nvidia-smi -L || echo "(no nvidia-smi: CPU only)"
ls .whl/*.whl >/dev/null 2>&1 || { echo "no wheels in .whl/: run bench/wheels.sh first"; exit 2; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
KERAS_BACKEND=jax python3 -c "import sys, jax, torch, keras, autograder
print('jax', jax.__version__, jax.devices(), '| torch', torch.__version__, torch.cuda.is_available())
print('python', sys.version.split()[0], '| keras', keras.__version__, '| autograder', autograder.__file__)"
grade() {  # one backend into $OUT/<backend>/
  mkdir -p "$OUT/$1"
  python3 bench/gpu_grade.py --backends "$1" --out "$OUT/$1" --timeout "${TIMEOUT:-280}" \
    --command "bash bench/gpu_grade.sh ${*:2}  # BACKENDS=$BACKENDS PARALLEL=$PARALLEL" "${@:2}" \
    > "$OUT/$1/gpu_grade.log" 2>&1
  rm -f "$OUT/$1/grade_$1.json"  # the same JSON is in gpu_grade.json
}
for b in ${BACKENDS//,/ }; do
  if [ "$PARALLEL" = 1 ]; then grade "$b" "$@" & else grade "$b" "$@"; fi
done
wait
cat "$OUT"/*/gpu_grade.md > "$OUT/gpu_grade.md"
tail -n 30 "$OUT"/*/gpu_grade.log
cat "$OUT/gpu_grade.md"
