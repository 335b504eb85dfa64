#!/usr/bin/env bash
# `make test`: the README's test command, and all that CI runs.
#  1. the module is what nbdev_export makes of the notebooks;
#  2. the notebooks are clean (nbdev_clean changes nothing), README.md is current;
#  3. the C runtime builds warning-free and its unit tests pass;
#  4. nbdev_test runs every notebook (the pipeline stages on small defaults);
#  5. pytest runs tests/ (the C runtime against PyTorch, and the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(pwd)/.venv/bin:$PATH" PYTHONUNBUFFERED=1
# torch (via torchvision) keeps a per-user compile cache in $TMPDIR/torchinductor_<user>: keep it with ours instead
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tinyruntime/torchinductor}
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start ))s)"; }
snap=$(mktemp -d -t tinyruntime-test-XXXXXX)     # everything temporary of this run, removed however it ends
trap 'rm -rf "$snap"' EXIT

step "nbdev_export leaves tinyruntime/ unchanged"
cp -r tinyruntime "$snap/lib"
nbdev_export
if ! diff -r -q -x __pycache__ "$snap/lib" tinyruntime; then
  echo "FAIL: tinyruntime/ is not what nbdev_export makes from nbs/ (it is now regenerated): edit the notebooks, export, commit both." >&2
  exit 1
fi

step "nbdev_clean leaves the notebooks unchanged"
cp -r nbs "$snap/nbs"
nbdev_clean
if ! diff -r -q -x .ipynb_checkpoints "$snap/nbs" nbs; then
  echo "FAIL: notebooks carried outputs or metadata (now cleaned): run nbdev_clean and commit." >&2
  exit 1
fi

step "README.md is rendered from nbs/index.ipynb"
cp README.md "$snap/README.md"
bash scripts/readme.sh
if ! diff -q "$snap/README.md" README.md; then
  echo "FAIL: README.md was stale (now re-rendered by make readme): commit it." >&2
  exit 1
fi

if [ -f c/Makefile ]; then
  step "C runtime: build and unit tests"
  make -s -C c test
fi

step "nbdev_test (every notebook)"
nbdev_test --n_workers "${NBDEV_WORKERS:-2}" --timing

step "pytest tests/"
python -m pytest -q --basetemp "$snap/pytest" tests      # its tmp_path folders go when this script ends
echo "make test: all passed in $(( $(date +%s) - start ))s"
