#!/usr/bin/env bash
# Benchmarks of the package workflow (issue 3), each against a baseline measured in the same run:
#   1. `status` of a working folder of STATUS_FILES (100,000) unchanged files: target under 1 s.
#   2. `commit` of COMMIT_MIB (1 GiB) of changed files vs `quiltfs hash` of the same files: target <= 1.2x.
#   3. `install` of INSTALL_FILES (10,000) files, INSTALL_MIB (1 GiB) in all, from a local registry
#      vs `cp -r` of the same files (target <= 1.5x) and vs quilt3 installing the same package
#      from the same registry (target: quiltfs at least 3x faster).
# Times are medians of RUNS runs (wall clock, whole process including JVM start). The page cache is
# warm for every contender alike, and every timed run of parts 2 and 3 starts from the same memory
# state (bench/memory.sh: MEMORY=primed, the default, or settled). Prints a Markdown table for bench/RESULTS.md.
# Usage: bench/workflow.sh            (env: PARTS="status commit install", RUNS, STATUS_FILES, COMMIT_MIB, INSTALL_FILES, INSTALL_MIB,
#                                       BENCH_WORK, QUILT3_PYTHON, SKIP_QUILT3=1, MEMORY, MEMORY_MB)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
Q="$here/quiltfs"
RUNS=${RUNS:-3}
STATUS_FILES=${STATUS_FILES:-100000}
COMMIT_MIB=${COMMIT_MIB:-1024}
INSTALL_FILES=${INSTALL_FILES:-10000}
INSTALL_MIB=${INSTALL_MIB:-1024}
W=${BENCH_WORK:-$here/bench/work/workflow}
PY=${QUILT3_PYTHON:-$here/.venv/bin/python}
PARTS=${PARTS:-status commit install}
. "$here/bench/memory.sh"
want() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

rm -rf "$W"
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
# Build once, outside the timings, and run a snapshot of the jar (so that editing sources meanwhile
# does not rebuild in the middle), through the launcher (QUILTFS_JAR) so that every command runs
# with the options a user's ./quiltfs gives it.
"$Q" --help >/dev/null
mkdir -p "$W/jar"
cp -r "$here/cli/target/quiltfs.jar" "$here/cli/target/lib" "$W/jar/"
Q="$W/jar/quiltfs"
# The snapshot gets its own class-data-sharing archive, made the way the launcher makes its own,
# so that the timed commands start as they do for a user of ./quiltfs.
"$here/scripts/cds-archive" "$W/jar/quiltfs.jar" "$W/jar/quiltfs.jsa" || true
printf '#!/bin/sh\nQUILTFS_JAR="%s/quiltfs.jar" exec "%s/quiltfs" "$@"\n' "$W/jar" "$here" >"$Q"
chmod +x "$Q"

now() { date +%s.%N; }
# secs CMD...: wall-clock seconds of one run of CMD (its output discarded).
secs() {
  local s e
  s=$(now); "$@" >/dev/null 2>&1; e=$(now)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rows=()

# Files of distinct random content: gen DIR COUNT TOTAL_BYTES
gen() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
root, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = total // n
per_dir = 1000
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // per_dir))
    if i % per_dir == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d.bin" % i), "wb") as f:
        f.write(os.urandom(size) if size > 64 else (b"%d\n" % i))
PY
}

# 1. status of many unchanged files.
if want status; then
echo "status: generating $STATUS_FILES files" >&2
gen "$W/s-src" "$STATUS_FILES" 0
"$Q" build bench/status "$W/s-src" -r "$W/s-reg" -m status >/dev/null
rm -rf "$W/s-src"
"$Q" --home "$W/s-home" install bench/status -r "$W/s-reg" >/dev/null
"$Q" --home "$W/s-home" status bench/status --offline >/dev/null
ts=()
for _ in $(seq "$RUNS"); do ts+=("$(secs "$Q" --home "$W/s-home" status bench/status --offline)"); done
st=$(median "${ts[@]}")
tsr=()
for _ in $(seq "$RUNS"); do tsr+=("$(secs "$Q" --home "$W/s-home" status bench/status)"); done
str=$(median "${tsr[@]}")
rows+=("| status, $STATUS_FILES unchanged files (--offline) | ${st} s | target < 1 s |")
rows+=("| status, $STATUS_FILES unchanged files (asks the registry) | ${str} s | target < 1 s |")
rm -rf "$W/s-home" "$W/s-reg"
fi

# 2. commit of changed files vs quiltfs hash of the same files.
if want commit; then
echo "commit: generating ${COMMIT_MIB} MiB" >&2
mkdir -p "$W/c-src"
echo seed >"$W/c-src/seed.txt"
"$Q" build bench/commit "$W/c-src" -r "$W/c-reg" -m seed >/dev/null
gen "$W/c-new" 8 $((COMMIT_MIB * 1024 * 1024))
hs=(); cs=()
for i in $(seq "$RUNS"); do
  memory_prep "$W"
  hs+=("$(secs "$Q" hash $(find "$W/c-new" -type f))")
  rm -rf "$W/c-home"
  "$Q" --home "$W/c-home" install bench/commit -r "$W/c-reg" >/dev/null
  cp -r "$W/c-new" "$W/c-home/work/bench/commit/new"
  cat "$W/c-home/work/bench/commit/new"/*/* >/dev/null
  memory_prep "$W"
  cs+=("$(secs "$Q" --home "$W/c-home" commit bench/commit -m "run $i")")
done
h=$(median "${hs[@]}"); c=$(median "${cs[@]}")
rows+=("| quiltfs hash, ${COMMIT_MIB} MiB in 8 files (baseline) | ${h} s | |")
rows+=("| commit, the same ${COMMIT_MIB} MiB changed | ${c} s | $(ratio "$c" "$h")x hash (target <= 1.2x) |")
rm -rf "$W/c-home" "$W/c-reg" "$W/c-new" "$W/c-src"
fi

# 3. install vs cp -r vs quilt3, interleaved run by run. Nothing is deleted between or just before
# the timed runs: on this machine's ext4 (no journal) creating a file right after many deletions
# pays for a scan of the recently deleted inodes, which would charge one side for the other's
# clean-up. Every run writes into folders of its own; all is removed at the end.
if want install; then
echo "install: generating $INSTALL_FILES files, ${INSTALL_MIB} MiB" >&2
gen "$W/i-src" "$INSTALL_FILES" $((INSTALL_MIB * 1024 * 1024))
"$Q" build bench/install "$W/i-src" -r "$W/i-reg" -m install >/dev/null
data="$W/i-reg/bench/install"
cat $(find "$data" -type f) >/dev/null
have_q3=0
if [ "${SKIP_QUILT3:-0}" != 1 ] && [ -x "$PY" ] && "$PY" -c 'import quilt3' 2>/dev/null; then have_q3=1; fi
cps=(); qs=(); q3s=()
for i in $(seq "$RUNS"); do
  sync; memory_prep "$W"
  cps+=("$(secs cp -r "$data" "$W/i-cp$i")")
  sync; memory_prep "$W"
  qs+=("$(secs "$Q" --home "$W/i-home$i" install bench/install -r "$W/i-reg")")
  [ -f "$W/i-home$i/work/bench/install/d000/f000000.bin" ] || { echo "quiltfs install failed" >&2; exit 1; }
  if [ "$have_q3" = 1 ]; then
    sync; memory_prep "$W"
    q3s+=("$(secs env HOME="$W/q3-home$i" XDG_DATA_HOME="$W/q3-home$i/data" XDG_CACHE_HOME="$W/q3-home$i/cache" \
      XDG_CONFIG_HOME="$W/q3-home$i/config" "$PY" -c "import quilt3, sys; quilt3.Package.install('bench/install', \
registry='file://$W/i-reg', dest='$W/i-q3$i')")")
    [ -f "$W/i-q3$i/d000/f000000.bin" ] || { echo "quilt3 install failed" >&2; exit 1; }
  fi
done
cpt=$(median "${cps[@]}"); qt=$(median "${qs[@]}")
rows+=("| cp -r, $INSTALL_FILES files, ${INSTALL_MIB} MiB (baseline) | ${cpt} s | |")
rows+=("| install, same package, empty cache | ${qt} s | $(ratio "$qt" "$cpt")x cp -r (target <= 1.5x) |")
if [ "$have_q3" = 1 ]; then
  q3=$(median "${q3s[@]}")
  rows+=("| quilt3 Package.install, same package and registry | ${q3} s | quiltfs is $(ratio "$q3" "$qt")x faster (target >= 3x) |")
else
  rows+=("| quilt3 | not run | no quilt3 in $PY (run scripts/setup) |")
fi
fi

echo
echo "Machine: $(nproc) cores, $(uname -r), java $(java -version 2>&1 | head -1 | sed 's/.*"\(.*\)".*/\1/'); runs: $RUNS (median); memory: $memory"
echo
echo "| measure | time | ratio |"
echo "|---|---|---|"
printf '%s\n' "${rows[@]}"
