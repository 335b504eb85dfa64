#!/usr/bin/env bash
# Idempotent environment setup for tinyruntime (`make setup`; `make pipeline` and `make test` run it).
#
# Each clone has its own virtual environment, `.venv` (a real folder inside the clone), with
# this clone installed in editable mode: `source .venv/bin/activate` always runs this clone's
# code. The packages come from one cache outside the clone ($TINYRUNTIME_CACHE, default
# ~/.cache/tinyruntime): uv installs them from its cache with hard links, so the first setup
# on a machine downloads, and a second clone's setup takes seconds and downloads nothing.
# settings.ini is the one list of dependencies (`requirements`, `dev_requirements`, pinned).
# A second run in the same clone only checks (well under a second).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)

# -- Debian packages (C toolchains, qemu, clang) -------------------------------------
apt_pkgs="gcc make libc6-dev musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user-static dash busybox clang"
missing=""
for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages:$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  else
    echo "setup: please install these Debian packages as root: apt-get install$missing" >&2
    exit 1
  fi
fi

# -- Python and uv ----------------------------------------------------------------------
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3
"$py" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
  || { echo "setup: Python 3.11 or newer is needed (found $("$py" --version 2>&1))" >&2; exit 1; }
# the base interpreter, also when this runs inside .venv (make test puts .venv/bin first on PATH):
# the stamp below names it, so it must not depend on which environment calls setup
py=$("$py" -c 'import sys; print(getattr(sys, "_base_executable", None) or sys.executable)')
cache=${TINYRUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tinyruntime}
uv_version=0.13.9
uv="$cache/uv-$uv_version/bin/uv"
mkdir -p "$cache"
if [ ! -x "$uv" ]; then
  echo "setup: installing uv $uv_version into $cache (once per machine)"
  tmp=$(mktemp -d "$cache/.uv-$uv_version.tmp-XXXXXX")
  if ! "$py" -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-cache-dir \
       --target "$tmp" "uv==$uv_version" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; echo "setup: could not install uv" >&2; exit 1
  fi
  rm -f "$tmp.log"; rm -rf "$cache/uv-$uv_version"; mv "$tmp" "$cache/uv-$uv_version"
fi
export UV_CACHE_DIR="$cache/uv" UV_LINK_MODE=hardlink UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
uvtmp="$cache/tmp"; mkdir -p "$uvtmp"   # uv's build locks go here, not to /tmp
uv() { TMPDIR="$uvtmp" "$uv" "$@"; }
# uv does not read pip's configuration: pass on the machine's local indexes and wheel folders
# (pip config or PIP_* variables; PyPI stays the default index). On a tie uv prefers the local ones.
pipcfg() { "$py" -m pip config get "$1" 2>/dev/null || true; }
sources=(--index-strategy unsafe-best-match)    # a pinned version may be on any of the indexes
for u in ${PIP_EXTRA_INDEX_URL:-$(pipcfg global.extra-index-url)}; do
  [ -e "${u#file://}" ] || [[ "$u" != file://* ]] && sources+=(--extra-index-url "$u")
done
for d in ${PIP_FIND_LINKS:-$(pipcfg global.find-links)}; do
  [ -e "${d#file://}" ] || [[ "$d" != /* && "$d" != file://* ]] && sources+=(--find-links "$d")
done

# -- this clone's virtual environment -----------------------------------------------------
# Rebuilt when settings.ini, setup.py, Python, uv or the clone's place change (the stamp),
# or when this clone's tinyruntime is not what it imports.
stamp=.venv/.tinyruntime-setup
# uv installs without bytecode unless asked (--compile-bytecode; pip compiles by default): where PYTHONDONTWRITEBYTECODE
# is set (this project's machines), no process would ever write it, and each import of torch and torchvision compiled
# their ~3,000 files again: 19.5 s a process, 6.8 s with bytecode (Zen 3, 2 cores), and `make test` starts dozens of
# such processes. uv compiles in parallel: this setup took 56 s with it. ("bytecode" in the stamp: a .venv made
# without it is made again.)
want=$( (cat settings.ini setup.py; "$py" --version; echo "$py $root $uv_version bytecode") | sha256sum | cut -c1-16)
own() { .venv/bin/python -c "import sys, tinyruntime, pathlib; sys.exit(pathlib.Path(tinyruntime.__file__).resolve().parent != pathlib.Path('$root/tinyruntime').resolve())" >/dev/null 2>&1; }
if [ -L .venv ]; then
  echo "setup: .venv was a link to a shared environment; this clone gets its own"
  rm -f .venv             # the link only, never what it points to
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! own; then
  echo "setup: creating .venv (pinned requirements from settings.ini; from the package cache $UV_CACHE_DIR)"
  rm -rf .venv
  log=$(mktemp "$cache/.setup-log-XXXXXX")
  trap 'rm -f "$log"' EXIT
  uv venv -q --seed --python "$py" .venv >"$log" 2>&1 || { cat "$log" >&2; echo "setup: uv venv failed" >&2; exit 1; }
  # First from the cache alone (no network at all); if something is missing there, fetch it.
  if ! uv pip install -q --compile-bytecode --python .venv/bin/python --offline "${sources[@]}" -e ".[dev]" >"$log" 2>&1; then
    echo "setup: fetching packages missing from the cache (torch is a large download the first time)"
    uv pip install -q --compile-bytecode --python .venv/bin/python "${sources[@]}" -e ".[dev]" >"$log" 2>&1 \
      || { cat "$log" >&2; echo "setup: installing the requirements failed (.venv left incomplete; rerun make setup)" >&2; exit 1; }
  fi
  own || { echo "setup: .venv does not import this clone's tinyruntime" >&2; exit 1; }
  echo "$want" > "$stamp"
  echo "setup: ok in $(( $(date +%s) - start ))s (.venv, tinyruntime from $root)"
else
  echo "setup: ok (.venv, tinyruntime from $root)"
fi
