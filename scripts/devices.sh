#!/usr/bin/env bash
# `make devices`: the tinyMLaaS device binaries, built from this (amd64) machine.
#
#   dist/inferences/{amd64,arm64}/vanilla/run    float32
#   dist/inferences/{amd64,arm64}/{dq,sq}/runq   int8 (one binary reads dq8 and sq8 files)
#   dist/inferences/measure.sh                   the installer's measurement (POSIX sh)
#   dist/inferences/manifest.json                version, commit, compilers, flags, ISAs, sha256/size
#
# Static and stripped; arm64 cross-compiled with Debian's gcc-aarch64-linux-gnu. Uses c/Makefile
# as it is, through its variables (CC, BUILD, CFLAGS, BINFLAGS). Reproducible: a fresh build folder
# per architecture, source paths mapped away (-ffile-prefix-map), sorted inputs (make 4.3's
# wildcard, LC_ALL=C), no timestamps; two builds of one commit are byte-identical
# (tests/test_devices.py checks it). The tree is built aside and renamed into place.
#
# Size (all under 1 MiB; tests/test_devices.py checks it): amd64 ~0.36 MB, linked with musl (Debian's musl-tools:
# ~70 KB of libc), arm64 ~0.73 MB, most of it static glibc (Debian has no arm64 musl cross toolchain): an empty main()
# links to 683 KB on amd64 with glibc (600 KB on arm64; libc-start alone pulls in stdio, gettext, iconv and the dynamic
# loader), printf/strtod add ~40 KB and pthread_create ~57 KB; tinyruntime itself is ~290 KB, most of it the kernels.
# Threads are the runtime's own pool (c/src/pool.c: OpenMP's libgomp was ~180 KB more). The cold sources are built
# with -Os (c/Makefile's COLD: ~8 KB less). Section GC and no code/data page separation trim ~20 KB. musl gives
# byte-identical output; its nearbyintf and memcpy are plain calls, so the loops that ran them per value or per short
# row do without (c/src/kernels_q8.h q8_rne, c/src/util.h rt_fcopy / rt_fzero): measured since,
# the two libcs run alike (c/README.md, "libc: musl on amd64").
#
# usage: scripts/devices.sh [OUT]     (OUT defaults to dist; the tree goes to OUT/inferences)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
dest="$out/inferences"
export LC_ALL=C SOURCE_DATE_EPOCH=0 TZ=UTC
JOBS=${JOBS:-$(nproc)}

# One place for the flags, recorded in the manifest: c/Makefile's own CFLAGS default, plus ours.
cflags_c=$(env -u CFLAGS make -s --no-print-directory -C c --eval 'tinyruntime-print-cflags: ; @echo $(CFLAGS)' tinyruntime-print-cflags)
# -fno-pie: a static binary is linked non-PIE (loaded at a fixed address) anyway, so position-independent code buys
# nothing: without it the const tables of function pointers (the kernel descriptors, libc's) go to .rodata instead of
# .data.rel.ro, the RELRO segment whose end the linker pads to a page, and some addresses are shorter (amd64 runq
# 2026-12-04: text and RELRO 2.6 KB less, the file 4 KiB less)
CFLAGS_DEV="${cflags_c:--O2} -fno-pie -ffile-prefix-map=$root/= -ffunction-sections -fdata-sections"
BINFLAGS_DEV="-static -no-pie -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=sha1"
declare -A CCS=([amd64]=musl-gcc [arm64]=aarch64-linux-gnu-gcc)
declare -A LIBC=([amd64]="musl musl-dev" [arm64]="glibc libc6-dev-arm64-cross")   # static (see Size above)

tmp=$(mktemp -d "$out/.inferences.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for arch in amd64 arm64; do
  cc=${CCS[$arch]}
  command -v "$cc" >/dev/null || { echo "devices: $cc not found (make setup installs musl-tools and gcc-aarch64-linux-gnu)" >&2; exit 1; }
  build="$tmp/build-$arch"
  make --no-print-directory -C c -j"$JOBS" CC="$cc" BUILD="$build" CFLAGS="$CFLAGS_DEV" BINFLAGS="$BINFLAGS_DEV" \
    "$build/run" "$build/runq" > "$tmp/make-$arch.log"
  mkdir -p "$tmp/inferences/$arch/vanilla" "$tmp/inferences/$arch/dq" "$tmp/inferences/$arch/sq"
  install -m 0755 "$build/run" "$tmp/inferences/$arch/vanilla/run"
  install -m 0755 "$build/runq" "$tmp/inferences/$arch/dq/runq"
  install -m 0755 "$build/runq" "$tmp/inferences/$arch/sq/runq"
  # instruction sets compiled in: the scalar reference plus every kernels/<x86|arm>/*__<isa>.c (or *_<isa>.c)
  isas="ref"
  for o in $(cd "$build/obj" && find kernels -path 'kernels/ref' -prune -o -name '*.o' -print | sort); do
    b=$(basename "$o" .o); case "$b" in *__*) isa=${b##*__} ;; *) isa=${b##*_} ;; esac
    case " $isas " in *" $isa "*) ;; *) isas="$isas $isa" ;; esac
  done
  read -r libc_name libc_pkg <<< "${LIBC[$arch]}"
  libc="$libc_name ($libc_pkg $(dpkg-query -W -f '${Version}' "$libc_pkg" 2>/dev/null || echo unknown))"
  echo "$arch|$cc|$("$cc" --version | head -1)|$isas|$libc" >> "$tmp/arches"
  rm -rf "$build"
done
install -m 0755 scripts/measure.sh "$tmp/inferences/measure.sh"

version=$(sed -n 's/^version *= *//p' settings.ini)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no -- c scripts settings.ini 2>/dev/null | head -1)
python3 - "$tmp/inferences" "$tmp" "$version" "$commit" "${dirty:+1}" "$CFLAGS_DEV" "$BINFLAGS_DEV" <<'PY'
import hashlib, json, os, shlex, sys
top, tmp, version, commit, dirty, cflags, binflags = sys.argv[1:8]
arches = os.path.join(tmp, 'arches')
files = {}
for d, _, names in sorted(os.walk(top)):
    for n in sorted(names):
        p = os.path.join(d, n); rel = os.path.relpath(p, top)
        data = open(p, 'rb').read()
        files[rel] = {'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}
m = {'name': 'tinyruntime', 'version': version, 'commit': commit, 'dirty': bool(dirty),
     'cflags': cflags.replace(os.getcwd(), '<repo>'), 'ldflags': binflags,
     'architectures': {}, 'files': dict(sorted(files.items()))}
for line in open(arches).read().split('\n'):
    if not line: continue
    arch, cc, ver, isas, libc = line.split('|')
    # per-file flags from make's command lines: what differs from the common set (the ISA flags, and -Os
    # of the cold sources)
    cmds = [shlex.split(l) for l in open(os.path.join(tmp, f'make-{arch}.log')) if l.startswith(cc + ' ') and ' -c ' in l]
    common = set.intersection(*(set(c) for c in cmds)) if cmds else set()
    isa_flags = {}
    for c in cmds:
        srcf = c[c.index('-c') + 1]
        extra = [t for t in c[1:] if t not in common and t not in (srcf, '-o', c[c.index('-o') + 1])]
        if extra: isa_flags[srcf] = ' '.join(extra)
    base = [t for t in (cmds[0] if cmds else []) if t in common and t not in shlex.split(cflags) and t not in (cc, '-c', '-o')]
    m['architectures'][arch] = {'compiler': cc, 'compiler_version': ver, 'libc': libc, 'base_cflags': ' '.join(base),
                                'isa': isas.split(), 'isa_flags': dict(sorted(isa_flags.items())),
                                'binaries': {k: v for k, v in files.items() if k.startswith(arch + '/')}}
with open(os.path.join(top, 'manifest.json'), 'w') as f:
    json.dump(m, f, indent=2); f.write('\n')
PY
rm -f "$tmp/arches" "$tmp"/make-*.log
rm -rf "$dest.old"
[ -e "$dest" ] && mv "$dest" "$dest.old"
mv "$tmp/inferences" "$dest"
rm -rf "$dest.old"
echo "devices: $(cd "$out" && find inferences -type f | sort | tr '\n' ' ')"
