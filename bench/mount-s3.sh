#!/usr/bin/env bash
# Issue 5 benchmarks, S3 half: the quiltfs mount of an S3 registry (a local S3Proxy on loopback)
# side by side, in one run, with a plain SDK GET and with s3fs and rclone mounting the same bucket.
#
#   cold read     one 1 GiB object read through each mount, nothing cached anywhere (fresh quiltfs
#                 home, fresh s3fs/rclone mount without caches, S3Proxy's file evicted from the page
#                 cache), vs one plain AWS SDK GET of the same object into a file
#                 (io.quiltfs.bench.S3Bench sdk-get). Targets: >= 0.8x the SDK GET, >= 3x the
#                 faster of s3fs and rclone.
#   cached read   the object already in the quiltfs object cache, first read after a fresh mount, vs
#                 s3fs with use_cache (object already in its cache, first read after a fresh s3fs
#                 mount); both cache files evicted from the page cache first. Target >= 1.2x.
#   metadata      `find` and `ls -lR` over a package of MOUNT_S3_WIDE (default 100,000) tiny files,
#                 pushed with `quiltfs build` so every key is a real object under ns/name/, each on
#                 a fresh mount, vs s3fs and rclone mounting that prefix. Target >= 5x faster than
#                 each.
#
# Every timed read is preceded by the same memory state (bench/memory.sh: MEMORY=primed, the
# default, or settled; MEMORY_MB, default 2x the object).
#
# The runs of the sides are interleaved; figures are medians of REPS (default 3) runs (metadata:
# WIDE_REPS, default 3). Prints the "## Mount on S3" section and writes it into bench/RESULTS.md
# up to its end marker, so notes after the marker stay (RESULTS=0 only prints it). PARTS (default
# "cold cached meta") runs some parts only and then just prints their runs. Needs: java, mvn, s3fs and rclone (apt-get install -y s3fs rclone).
# Every mount is unmounted and every server stopped on exit, even on failure. Work files go to
# bench/work/mount-s3 (MOUNT_S3_WORK).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${MOUNT_S3_WORK:-$here/bench/work/mount-s3}"
reps="${REPS:-3}"
wide_reps="${WIDE_REPS:-3}"
mb="${MOUNT_S3_MB:-1024}"
MEMORY_MB="${MEMORY_MB:-$((2 * mb))}"
. "$here/bench/memory.sh"
wide="${MOUNT_S3_WIDE:-100000}"
parts=" ${PARTS:-cold cached meta} "   # which parts to run (a partial run prints, never writes RESULTS.md)
has() { [[ "$parts" == *" $1 "* ]]; }
per_folder=1000
q="$here/quiltfs"
cd "$here"

missing=""
for t in s3fs rclone fusermount; do
  command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
  echo "bench/mount-s3.sh: missing:$missing (apt-get install -y s3fs rclone fuse)" >&2
  exit 1
fi

echo "building..." >&2
mvn -q -B -o -pl bench,cli -am package dependency:build-classpath -Dmdep.outputFile=target/cp.txt -DskipTests >&2
touch cli/target/quiltfs.jar
cp="bench/target/classes:$(cat bench/target/cp.txt)"
jar="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$jar" ] || { echo "bench/mount-s3.sh: S3Proxy is not at $jar (build the store module once)" >&2; exit 1; }

# --- cleanup: every mount we made, every process we started ---------------------------------------
s3proxy_pid=""
declare -A served   # mount point -> the s3fs or rclone process serving it (all under $work/mnt-*)
mounted() { grep -qs " $1 fuse" /proc/mounts; }
unmount_one() {
  local m="$1"
  mounted "$m" || return 0
  case "$m" in
    */mnt-qf) "$q" unmount "$m" >/dev/null 2>&1 || "$q" unmount --lazy "$m" >/dev/null 2>&1 || true ;;
  esac
  mounted "$m" && { fusermount -u "$m" 2>/dev/null || fusermount -uz "$m" 2>/dev/null || true; }
  return 0
}
cleanup() {
  set +e
  for m in "$work"/mnt-*; do [ -d "$m" ] && unmount_one "$m"; done
  for p in "${served[@]}" $s3proxy_pid; do kill "$p" 2>/dev/null; done
  for p in "${served[@]}" $s3proxy_pid; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"
for m in "$work"/mnt-*; do [ -d "$m" ] && unmount_one "$m"; done
rmdir "$work"/mnt-* 2>/dev/null || true
rm -rf "$work"/home-cold "$work"/home-cached "$work"/home-wide "$work"/s3fs-cache

# --- S3Proxy on a free loopback port (bench/s3proxy.sh) ------------------------------------------
. "$here/bench/s3proxy.sh"
data="$work/s3data"
bucket=mountbench
mkdir -p "$data/$bucket"
start_s3proxy "$work" "$data" "$jar"
echo "benchkey:benchsecret" > "$work/s3fs.passwd"
chmod 600 "$work/s3fs.passwd"

# --- helpers --------------------------------------------------------------------------------------
evict() { dd if="$1" iflag=nocache count=0 status=none; }
prep() { memory_prep "$work"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# Seconds to read a file once with 1 MiB reads.
read_secs() {
  python3 - "$1" <<'PY'
import os, sys, time
t = time.perf_counter()
fd = os.open(sys.argv[1], os.O_RDONLY)
n = 0
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    n += len(b)
os.close(fd)
dt = time.perf_counter() - t
if len(sys.argv) > 2 and n != int(sys.argv[2]):
    sys.exit(f"read {n} bytes of {sys.argv[1]}, expected {sys.argv[2]}")
print(f"{dt:.3f}")
PY
}
# Seconds a command takes (its output discarded).
secs() {
  python3 -c 'import subprocess, sys, time
t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.3f}")' "$@"
}
wait_mounted() {
  for _ in $(seq 300); do mounted "$1" && return 0; sleep 0.1; done
  echo "bench/mount-s3.sh: $1 did not mount" >&2
  return 1
}
new_mnt() { mkdir -p "$work/mnt-$1"; echo "$work/mnt-$1"; }
# quiltfs HOME PKG MNT
qf_mount() { "$q" --home "$1" mount "$2" "$3" -r "s3://$bucket" >/dev/null; }
# s3fs PREFIX MNT [extra -o options...]
s3fs_mount() {
  local prefix="$1" m="$2"; shift 2
  s3fs "$bucket:/$prefix" "$m" -o passwd_file="$work/s3fs.passwd" -o url="$endpoint" \
    -o use_path_request_style -o endpoint=us-east-1 -f "$@" >> "$work/s3fs.log" 2>&1 &
  served[$m]=$!
  wait_mounted "$m"
}
rclone_mount() {
  local prefix="$1" m="$2"
  rclone --config "$work/rclone.conf" mount "s3p:$bucket/$prefix" "$m" >> "$work/rclone.log" 2>&1 &
  served[$m]=$!
  wait_mounted "$m"
}
umnt() {
  unmount_one "$1"
  local p="${served[$1]:-}"
  if [ -n "$p" ]; then  # the peer's process ends with its mount
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset "served[$1]"
  fi
  rmdir "$1" 2>/dev/null || true
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

load_before=$(loadavg)
echo "load average before: $load_before" >&2

# --- data: one 1 GiB object, and a wide package of tiny files, pushed with quiltfs -----------------
# Kept in the S3Proxy folder between runs of the same sizes (pushing 100,000 objects takes minutes).
obj="$data/$bucket/bench/big/big.bin"
if [ "$(cat "$work/made" 2>/dev/null)" != "$mb $wide" ]; then
  rm -rf "$data" "$work/made" "$work/home-push" && mkdir -p "$data/$bucket"
  echo "generating ${mb} MiB and pushing it..." >&2
  mkdir -p "$work/big-src"
  if [ ! -f "$work/big-src/big.bin" ] || [ "$(stat -c %s "$work/big-src/big.bin")" != $((mb << 20)) ]; then
    head -c $((mb << 20)) /dev/urandom > "$work/big-src/big.bin"
  fi
  "$q" --home "$work/home-push" build bench/big "$work/big-src" -r "s3://$bucket" -m big >/dev/null
  [ -f "$obj" ] || { echo "bench/mount-s3.sh: the push did not leave $obj" >&2; exit 1; }

  echo "generating ${wide} tiny files and pushing them..." >&2
  rm -rf "$work/wide-src"
  python3 - "$work/wide-src" "$wide" "$per_folder" <<'PY'
import os, sys
root, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = os.path.join(root, "d%d" % (i // per))
    if i % per == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%d.txt" % (i % per)), "w") as f:
        f.write("%d\n" % i)
PY
  t0=$(date +%s.%N)
  "$q" --home "$work/home-push" build bench/wide "$work/wide-src" -r "s3://$bucket" -m wide >/dev/null
  python3 -c "import time; print(f'{time.time() - $t0:.0f}')" > "$work/wide-push-secs"
  pushed=$(find "$data/$bucket/bench/wide" -type f | wc -l)
  [ "$pushed" -ge "$wide" ] || { echo "bench/mount-s3.sh: only $pushed of $wide objects under bench/wide" >&2; exit 1; }
  rm -rf "$work/wide-src"
  echo "$mb $wide" > "$work/made"
fi
size=$(stat -c %s "$obj")
wide_push=$(cat "$work/wide-push-secs")

# --- 1. cold read: quiltfs (fresh home) / SDK GET / s3fs / rclone, interleaved ---------------------
if has cold; then
echo "cold reads..." >&2
: > "$work/cold.qf"; : > "$work/cold.sdk"; : > "$work/cold.s3fs"; : > "$work/cold.rclone"
for i in $(seq "$reps"); do
  h="$work/home-cold"; rm -rf "$h"
  m=$(new_mnt qf); qf_mount "$h" bench/big "$m"
  evict "$obj"; prep; read_secs "$m/big.bin" "$size" >> "$work/cold.qf"
  umnt "$m"; rm -rf "$h"

  evict "$obj"; prep
  java -cp "$cp" io.quiltfs.bench.S3Bench sdk-get "$endpoint" "$bucket" bench/big/big.bin "$work/sdk.out" \
    | awk '{print $1}' >> "$work/cold.sdk"
  rm -f "$work/sdk.out"

  m=$(new_mnt s3fs); s3fs_mount bench/big "$m"
  evict "$obj"; prep; read_secs "$m/big.bin" "$size" >> "$work/cold.s3fs"
  umnt "$m"

  m=$(new_mnt rclone); rclone_mount bench/big "$m"
  evict "$obj"; prep; read_secs "$m/big.bin" "$size" >> "$work/cold.rclone"
  umnt "$m"
  echo "  run $i: quiltfs $(tail -1 "$work/cold.qf") s, sdk $(tail -1 "$work/cold.sdk") s," \
    "s3fs $(tail -1 "$work/cold.s3fs") s, rclone $(tail -1 "$work/cold.rclone") s (load $(loadavg))" >&2
done
fi

# --- 2. cached read: quiltfs object cache vs s3fs use_cache, first read after a fresh mount --------
if has cached; then
echo "cached reads..." >&2
hc="$work/home-cached"; rm -rf "$hc"
m=$(new_mnt qf); qf_mount "$hc" bench/big "$m"; read_secs "$m/big.bin" "$size" > /dev/null; umnt "$m"
qf_cached_file=$(find "$hc" -path '*objects*' -type f -size +1M | head -1)
[ -n "$qf_cached_file" ] || { echo "bench/mount-s3.sh: no cached object in $hc" >&2; exit 1; }
s3fs_cache="$work/s3fs-cache"; mkdir -p "$s3fs_cache"
m=$(new_mnt s3fs); s3fs_mount bench/big "$m" -o use_cache="$s3fs_cache"
read_secs "$m/big.bin" "$size" > /dev/null; umnt "$m"
s3fs_cached_file=$(find "$s3fs_cache" -type f -size +1M | head -1)
[ -n "$s3fs_cached_file" ] || { echo "bench/mount-s3.sh: s3fs left nothing in $s3fs_cache" >&2; exit 1; }
: > "$work/cached.qf"; : > "$work/cached.s3fs"
for i in $(seq "$reps"); do
  m=$(new_mnt qf); qf_mount "$hc" bench/big "$m"
  evict "$qf_cached_file"; prep; read_secs "$m/big.bin" "$size" >> "$work/cached.qf"
  umnt "$m"

  m=$(new_mnt s3fs); s3fs_mount bench/big "$m" -o use_cache="$s3fs_cache"
  evict "$s3fs_cached_file"; prep; read_secs "$m/big.bin" "$size" >> "$work/cached.s3fs"
  umnt "$m"
  echo "  run $i: quiltfs $(tail -1 "$work/cached.qf") s, s3fs use_cache $(tail -1 "$work/cached.s3fs") s" \
    "(load $(loadavg))" >&2
done
fi

# --- 3. find and ls -lR over the wide package, each on a fresh mount -------------------------------
if has meta; then
echo "metadata over ${wide} entries..." >&2
hw="$work/home-wide"; rm -rf "$hw"
for k in find lslr; do for s in qf s3fs rclone; do : > "$work/$k.$s"; done; done
# wide_mount SIDE: a fresh mount of the wide package by SIDE, at $m (run in this shell, not in
# $(...): the mount functions record the processes they start).
wide_mount() {
  m=$(new_mnt "$1")
  case "$1" in
    qf) qf_mount "$hw" bench/wide "$m" ;;
    s3fs) s3fs_mount bench/wide "$m" ;;
    rclone) rclone_mount bench/wide "$m" ;;
  esac
}
# The count is checked once per side, on a mount of its own, so the timed run starts cold.
for s in qf s3fs rclone; do
  wide_mount "$s"
  n=$(find "$m" -type f | wc -l)
  umnt "$m"
  [ "$n" = "$wide" ] || { echo "bench/mount-s3.sh: $s shows $n files of $wide" >&2; exit 1; }
done
for i in $(seq "$wide_reps"); do
  for s in qf s3fs rclone; do
    for k in find lslr; do
      wide_mount "$s"
      case "$k" in
        find) secs find "$m" >> "$work/$k.$s" ;;
        lslr) secs ls -lR "$m" >> "$work/$k.$s" ;;
      esac
      umnt "$m"
    done
  done
  echo "  run $i: find qf $(tail -1 "$work/find.qf") s3fs $(tail -1 "$work/find.s3fs")" \
    "rclone $(tail -1 "$work/find.rclone"); ls -lR qf $(tail -1 "$work/lslr.qf")" \
    "s3fs $(tail -1 "$work/lslr.s3fs") rclone $(tail -1 "$work/lslr.rclone") (load $(loadavg))" >&2
done
fi

load_after=$(loadavg)
if [ "$parts" != " cold cached meta " ]; then
  echo "partial run ($parts): see the runs above; bench/RESULTS.md not written" >&2
  exit 0
fi

# --- report ---------------------------------------------------------------------------------------
md() { median < "$work/$1"; }
py() { python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; print($1)" "${@:2}"; }
mibs() { py "f'{$size / 2**20 / a[0]:.0f}'" "$1"; }
qf_c=$(md cold.qf); sdk_c=$(md cold.sdk); s3fs_c=$(md cold.s3fs); rc_c=$(md cold.rclone)
best_peer=$(py "min(a)" "$s3fs_c" "$rc_c")
best_peer_name=$([ "$(py "a[0] <= a[1]" "$s3fs_c" "$rc_c")" = True ] && echo s3fs || echo rclone)
qf_k=$(md cached.qf); s3fs_k=$(md cached.s3fs)
ratio() { py "f'{a[1] / a[0]:.2f}'" "$1" "$2"; }   # throughput of the first over the second
met() { [ "$(py "a[0] >= a[1]" "$1" "$2")" = True ] && echo met || echo "NOT met"; }
r_sdk=$(ratio "$qf_c" "$sdk_c"); r_peer=$(ratio "$qf_c" "$best_peer"); r_cached=$(ratio "$qf_k" "$s3fs_k")
rows=""
for k in find lslr; do
  label=$([ "$k" = find ] && echo '`find`' || echo '`ls -lR`')
  a=$(md "$k.qf"); b=$(md "$k.s3fs"); c=$(md "$k.rclone")
  rb=$(ratio "$a" "$b"); rc=$(ratio "$a" "$c")
  rows="$rows| $label over ${wide} entries, fresh mount | ${a} s | s3fs ${b} s / rclone ${c} s | ${rb}x / ${rc}x faster (>= 5 each): $(met "$rb" 5) / $(met "$rc" 5) |
"
done
section="$work/section.md"
cat > "$section" <<EOF
## Mount on S3

\`bash bench/mount-s3.sh\` (REPS=$reps, WIDE_REPS=$wide_reps, MOUNT_S3_WIDE=$wide), $(date -u '+%Y-%m-%d %H:%M') UTC,
$(nproc) cores shared with other work: load average (1/5/15 min) ${load_before} before, ${load_after}
after. S3Proxy 4.1.0 (filesystem backend) on loopback; s3fs $(s3fs --version 2>&1 | sed -n 's/.*V\([0-9.]*\).*/\1/p' | head -1)
and rclone $(rclone version 2>/dev/null | sed -n '1s/rclone v//p') (Debian) mounting the same bucket; the
quiltfs mount is the default (editable) one. A ${mb} MiB object of random bytes; a package of
${wide} files of a few bytes in folders of ${per_folder}, pushed with \`quiltfs build\` (${wide_push} s) so each is
an object under \`bench/wide/\`, which s3fs and rclone mount as their root. Medians of ${reps} interleaved
runs (metadata: ${wide_reps}); every run on a fresh mount; memory ${memory} before every timed read
(see the script's header).

| measure | quiltfs mount | baseline (same run) | ratio (target) |
|---|---|---|---|
| first read of ${mb} MiB, nothing cached (fresh home), vs one plain SDK GET into a file | ${qf_c} s ($(mibs "$qf_c") MiB/s) | ${sdk_c} s ($(mibs "$sdk_c") MiB/s) | ${r_sdk}x (>= 0.8): $(met "$r_sdk" 0.8) |
| same read vs s3fs / rclone without caches | ${qf_c} s | s3fs ${s3fs_c} s ($(mibs "$s3fs_c") MiB/s) / rclone ${rc_c} s ($(mibs "$rc_c") MiB/s) | ${r_peer}x the faster, ${best_peer_name} (>= 3): $(met "$r_peer" 3) |
| object already cached, first read after a fresh mount, vs s3fs \`use_cache\` (its cache filled) | ${qf_k} s ($(mibs "$qf_k") MiB/s) | ${s3fs_k} s ($(mibs "$s3fs_k") MiB/s) | ${r_cached}x (>= 1.2): $(met "$r_cached" 1.2) |
${rows}
Raw runs (seconds): cold quiltfs $(paste -sd' ' "$work/cold.qf"), SDK $(paste -sd' ' "$work/cold.sdk"),
s3fs $(paste -sd' ' "$work/cold.s3fs"), rclone $(paste -sd' ' "$work/cold.rclone"); cached quiltfs
$(paste -sd' ' "$work/cached.qf"), s3fs $(paste -sd' ' "$work/cached.s3fs"); find quiltfs $(paste -sd' ' "$work/find.qf"),
s3fs $(paste -sd' ' "$work/find.s3fs"), rclone $(paste -sd' ' "$work/find.rclone"); ls -lR quiltfs
$(paste -sd' ' "$work/lslr.qf"), s3fs $(paste -sd' ' "$work/lslr.s3fs"), rclone $(paste -sd' ' "$work/lslr.rclone").
<!-- end of bench/mount-s3.sh output -->
EOF

if [ "${RESULTS:-1}" != 0 ]; then
  results="$here/bench/RESULTS.md"
  python3 - "$results" "$section" <<'EOF'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
# The generated part ends at the marker; notes written by hand after it stay.
m = re.search(r'^## Mount on S3\n.*?(<!-- end of bench/mount-s3.sh output -->\n|(?=^## )|\Z)', text, flags=re.S | re.M)
text = text[:m.start()] + section + "\n" + text[m.end():].lstrip("\n") if m else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
EOF
fi
cat "$section"
