#!/bin/sh
# measure.sh: the tinyMLaaS installer's measurement, run on the device (POSIX sh, awk, sed; no Python).
#
#   measure.sh BINARY MODEL RUNTIME_INFO DATA...
#
# Runs BINARY (a runtime binary such as arm64/sq/runq, or any command with the same contract as
# `run`, e.g. "python3 -m tinyruntime.infer"; it is split on spaces) on MODEL and the raw-tensor
# test set DATA (folders of <label>/<i>.bin, or files), and writes into RUNTIME_INFO (a JSON object)
#
#   "results": {"accuracy": top-1 accuracy in percent, "size": bytes of MODEL (a file, or all
#               files of a model folder), "speed": seconds per image, start-up excluded}
#
# replacing any earlier "results" and keeping every other field byte for byte. Speed: the whole
# test set (N files) and its first file alone are each run MEASURE_REPEATS times (default 3), the
# fastest of each kept; speed = (T_N - T_1) / (N - 1), so loading the binary and the model cancels
# out (BS and thread settings come from the environment, as for the binary). A malformed
# RUNTIME_INFO, a failing binary, fewer than 2 test files: one line on stderr, exit 1, and
# RUNTIME_INFO unchanged. The file is written beside itself and renamed into place.
set -u
me=measure.sh
die() { echo "$me: $*" >&2; [ -n "${tmp:-}" ] && rm -f "$tmp" "$tmp.out" "$tmp.err"; exit 1; }
[ $# -ge 4 ] || { echo "usage: $me BINARY MODEL RUNTIME_INFO DATA..." >&2; exit 2; }
bin=$1 model=$2 info=$3
shift 3
reps=${MEASURE_REPEATS:-3}
case $reps in ''|*[!0-9]*|0) die "MEASURE_REPEATS: not a positive integer: $reps" ;; esac
[ -e "$model" ] || die "$model: no such model file or folder"
[ -f "$info" ] || die "$info: no such file"
for d in "$@"; do [ -e "$d" ] || die "$d: no such test file or folder"; done

# The JSON check and rewrite: a recursive-descent parser of the whole file (RFC 8259 grammar); the
# top-level value must be an object. mode=check prints nothing; mode=write prints the file with the
# top-level "results" value replaced by NEW (or added as the last member).
json_awk='
function fail(msg) { printf "%s", msg " at byte " p > "/dev/stderr"; bad = 1; exit 1 }
function ch() { return substr(s, p, 1) }
function ws() { while (p <= n && index(" \t\n\r", substr(s, p, 1))) p++ }
function str(   c, st) {
  if (ch() != "\"") fail("expected a string"); st = p; p++
  while (p <= n) {
    c = substr(s, p, 1)
    if (c == "\"") { p++; return substr(s, st + 1, p - st - 2) }
    if (c == "\\") {
      c = substr(s, p + 1, 1)
      if (c == "u") { if (substr(s, p + 2, 4) !~ /^[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$/) fail("bad \\u escape"); p += 6 }
      else if (index("\"\\/bfnrt", c) && c != "") p += 2
      else fail("bad escape")
    } else if (c < " ") fail("control character in a string")
    else p++
  }
  fail("unterminated string")
}
function num(   m) {
  m = substr(s, p)
  if (!match(m, /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) fail("bad value")
  p += RLENGTH
}
function value(depth,   c) {
  ws(); c = ch()
  if (c == "{") obj(depth + 1)
  else if (c == "[") arr(depth + 1)
  else if (c == "\"") str()
  else if (substr(s, p, 4) == "true" || substr(s, p, 4) == "null") p += 4
  else if (substr(s, p, 5) == "false") p += 5
  else num()
}
function arr(depth) {
  p++; ws(); if (ch() == "]") { p++; return }
  for (;;) { value(depth); ws(); if (ch() == ",") { p++; continue } if (ch() == "]") { p++; return } fail("expected , or ]") }
}
function obj(depth,   k, vs) {
  p++; ws(); if (ch() == "}") { p++; if (depth == 1) close1 = p - 1; return }
  for (;;) {
    ws(); k = str(); ws(); if (ch() != ":") fail("expected :"); p++
    ws(); vs = p; value(depth)
    if (depth == 1 && k == "results") { if (rs) fail("duplicate \"results\""); rs = vs; re = p }
    ws(); if (ch() == ",") { p++; continue }
    if (ch() == "}") { if (depth == 1) { close1 = p; last1 = vs } p++; return }
    fail("expected , or }")
  }
}
{ s = s $0 "\n" }
END {
  if (bad) exit 1
  n = length(s); p = 1; ws()
  if (ch() != "{") fail("not a JSON object")
  obj(1); ws()
  if (p <= n) fail("trailing data")
  if (mode != "write") exit 0
  if (rs) { printf "%s%s%s", substr(s, 1, rs - 1), new, substr(s, re); exit 0 }
  head = substr(s, 1, close1 - 1); sub(/[ \t\r\n]*$/, "", head)
  printf "%s%s\n  \"results\": %s\n%s", head, (last1 ? "," : ""), new, substr(s, close1)
}'

check_json() {
  err=$(LC_ALL=C awk -v mode=check "$json_awk" "$1" 2>&1 >/dev/null) || die "$1: malformed runtime_info.json: ${err:-unreadable}"
}
check_json "$info"

# the test files, in the binary's order (sorted by byte-wise name)
files=$(LC_ALL=C find "$@" -type f -name '*.bin' | LC_ALL=C sort)
count=$(printf '%s\n' "$files" | grep -c . || true)
[ "$count" -ge 2 ] || die "$*: need at least 2 .bin test files for a start-up-free speed, found $count"
first=$(printf '%s\n' "$files" | head -n 1)
case $first in *'
'*) die "odd file name" ;; esac

if [ -f "$model" ]; then size=$(wc -c < "$model" | tr -d ' ')
else size=$(find "$model" -type f -exec cat {} + | wc -c | tr -d ' '); fi

now() {  # nanoseconds; date +%N where it exists, else /proc/uptime (10 ms steps)
  t=$(date +%s%N 2>/dev/null)
  case $t in ''|*[!0-9]*) awk '{ printf "%.0f\n", $1 * 1e9; exit }' /proc/uptime ;; *) echo "$t" ;; esac
}
tmp=$(dirname "$info")/.$(basename "$info").measure.$$
trap 'rm -f "$tmp" "$tmp.out" "$tmp.err"' EXIT
trap 'exit 1' HUP INT TERM
timed() {  # timed FIRST_OUTPUT_FILE ARGS...: best of $reps wall times in ns, output of the first run kept
  o=$1; shift; best=
  i=0
  while [ $i -lt "$reps" ]; do
    t0=$(now)
    # shellcheck disable=SC2086
    $bin "$model" "$@" > "$tmp.out" 2> "$tmp.err" || die "$bin failed: $(head -n 1 "$tmp.err")"
    t1=$(now)
    [ $i -eq 0 ] && cp "$tmp.out" "$o"
    d=$((t1 - t0)); if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d; fi
    i=$((i + 1))
  done
  echo "$best"
}
tN=$(timed "$tmp.all" "$@") || exit 1
t1=$(timed "$tmp.one" "$first") || exit 1
acc=$(head -n 1 "$tmp.all"); rm -f "$tmp.all" "$tmp.one"
echo "$acc" | grep -Eq '^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$' || die "$bin printed no accuracy (got: $acc)"
speed=$(awk -v a="$tN" -v b="$t1" -v n="$count" 'BEGIN { d = (a - b) / (n - 1) / 1e9; if (d <= 0) { d = a / n / 1e9; print "start-up dominates: speed includes it" > "/dev/stderr" } printf "%.9g\n", d }')
new="{\"accuracy\": $acc, \"size\": $size, \"speed\": $speed}"

err=$(LC_ALL=C awk -v mode=write -v new="$new" "$json_awk" "$info" 2>&1 > "$tmp") || die "$info: malformed runtime_info.json: $err"
[ -s "$tmp" ] || die "$info: could not write"
chmod "$(stat -c %a "$info" 2>/dev/null || echo 644)" "$tmp" 2>/dev/null
mv -f "$tmp" "$info" || die "$info: could not replace"
echo "$me: $info: results $new"
