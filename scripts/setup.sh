#!/usr/bin/env bash
# Idempotent environment setup for tinyruntime (`make setup`).
#
# The virtual environment lives outside the clone, keyed by the hash of
# requirements.txt, so a fresh clone (CI's) reuses it; `.venv` is a link to it.
# A second run only checks and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# -- Debian packages (C toolchain, static OpenMP) ------------------------------------
apt_pkgs="gcc make libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user-static dash busybox clang"
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

# -- Python virtual environment -------------------------------------------------------
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3
"$py" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
  || { echo "setup: Python 3.11 or newer is needed (found $("$py" --version 2>&1))" >&2; exit 1; }
key=$( (cat requirements.txt; "$py" --version) | sha256sum | cut -c1-16)
cache=${TINYRUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tinyruntime}
venv="$cache/venv-$key"
# pip names every local index folder it skips; those lines are noise here
pipq() { local rc=0; "$venv/bin/python" -m pip -q "$@" > >(grep -v 'is ignored: it is neither a file nor a directory' >&2) 2>&1 || rc=$?; return $rc; }
if [ ! -f "$venv/.complete" ]; then
  echo "setup: creating $venv (pinned requirements; torch is a large download the first time)"
  rm -rf "$venv"          # an interrupted earlier attempt leaves no .complete
  mkdir -p "$cache"
  "$py" -m venv "$venv"
  pipq install --upgrade pip
  pipq install -r requirements.txt
  touch "$venv/.complete"
fi
if [ "$(readlink .venv 2>/dev/null)" != "$venv" ]; then rm -rf .venv; ln -s "$venv" .venv; fi

# -- this clone, installed in editable mode (re-pointed when the clone moves) ---------
if [ "$(cat "$venv/.tinyruntime-src" 2>/dev/null)" != "$root" ] || ! .venv/bin/python -c 'import tinyruntime' >/dev/null 2>&1 \
   || [ settings.ini -nt "$venv/.tinyruntime-src" ]; then
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . >/tmp/tinyruntime-editable.log 2>&1 \
    || { cat /tmp/tinyruntime-editable.log >&2; echo "setup: editable install failed" >&2; exit 1; }
  echo "$root" > "$venv/.tinyruntime-src"
fi
echo "setup: ok ($(readlink .venv))"
