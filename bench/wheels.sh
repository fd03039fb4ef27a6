#!/usr/bin/env bash
# Run HERE (a machine with a package registry), before bench/gpu_grade.sh goes to a GPU machine.
# The GPU machines hold PyTorch, JAX, NumPy, scikit-learn, matplotlib, tqdm, h5py, rich,
# ml-dtypes, absl-py and packaging, but no Keras, no nbformat, and reach no registry. This fills
# the ignored folder .whl/ with Keras and its two needs missing there (namex, optree; cp312,
# x86-64 Linux), and makes the submitted notebooks (nbformat needed) in bench/out/gpu_notebooks/.
# Carry both: run(command="bash bench/gpu_grade.sh", carry=[".whl", "bench/out/gpu_notebooks"]).
# This project itself is not carried as a wheel: the checkout travels and goes on PYTHONPATH
# there, so the code graded is the code in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
rm -rf .whl && mkdir -p .whl
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0 2>&1 | grep -v "is ignored: it is neither" || true
# What they need (keras: absl-py numpy rich namex h5py optree ml-dtypes packaging; optree:
# typing-extensions): all but namex and optree are on the GPU machines.
for w in .whl/keras-*.whl .whl/optree-*.whl; do
  echo "$(basename "$w"): $(unzip -p "$w" '*/METADATA' | grep '^Requires-Dist' | grep -v extra \
    | cut -d' ' -f2- | tr '\n' ' ')"
done
"$PY" bench/gpu_grade.py --prepare-only
du -sh .whl bench/out/gpu_notebooks
