#!/usr/bin/env bash
# Benchmarks of the mount (issue 5), each against a baseline measured in the same run:
#   first read through the mount (cache empty) vs a plain read of the same object;
#   a cached object's first read after mount vs reading the cache file directly;
#   a re-read (kernel page cache) vs reading the cache file directly (warm);
#   the same two on a read-only mount (FUSE passthrough to the cache file where allowed);
#   time to first byte of a cold large file;
#   find and ls -lR over a 100,000-entry package vs the same tree on the local disk;
#   mount time and daemon heap of a 1,000,000-entry package.
# Prints a Markdown section for bench/RESULTS.md. Sizes: MOUNT_BENCH_MB (default 1024),
# MOUNT_BENCH_WIDE (default 100000), MOUNT_BENCH_HUGE (default 1000000; 0 skips).
# Every read that fills new page-cache pages (a first read, a read of an evicted file) is preceded
# by the same memory state (bench/memory.sh: MEMORY=primed, the default, or settled).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mb="${MOUNT_BENCH_MB:-1024}"
wide="${MOUNT_BENCH_WIDE:-100000}"
huge="${MOUNT_BENCH_HUGE:-1000000}"
work="$here/bench/work/mount"
q="$here/quiltfs"
. "$here/bench/memory.sh"

cleanup() {
  for m in "$work/mnt" "$work/mnt-wide" "$work/mnt-huge"; do
    grep -qs " $m fuse" /proc/mounts && "$q" unmount --lazy "$m" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$work/src" "$work/mnt" "$work/mnt-wide" "$work/mnt-huge"
(cd "$here" && mvn -q -B -o -pl cli,bench -am package -DskipTests >&2)
export QUILTFS_HOME="$work/home"

evict() { dd if="$1" iflag=nocache count=0 status=none; }
# MiB/s of reading a file once with 1 MiB reads.
rate() {
  python3 - "$1" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
t = time.perf_counter(); n = 0
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    n += len(b)
dt = time.perf_counter() - t
print(f"{n / dt / 2**20:.0f}")
PY
}
# Milliseconds to the first byte (open + read of 1 byte).
ttfb() {
  python3 - "$1" <<'PY'
import os, sys, time
t = time.perf_counter()
fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 1)
print(f"{(time.perf_counter() - t) * 1000:.1f}")
PY
}
# Seconds a command takes (its output discarded).
secs() {
  python3 -c 'import subprocess, sys, time
t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.3f}")' "$@"
}
mount_pkg() { "$q" mount "$@" --registry "$work/registry" >/dev/null; }
daemon_pid() { python3 -c "import json,glob,sys;print([json.load(open(f))['pid'] for f in glob.glob('$QUILTFS_HOME/mounts/*.json') if json.load(open(f))['mountpoint']==sys.argv[1]][0])" "$1"; }

echo "generating ${mb} MiB and building the package..." >&2
head -c $((mb << 20)) /dev/urandom > "$work/src/big.bin"
"$q" build bench/big "$work/src" --registry "$work/registry" >/dev/null
obj="$work/registry/bench/big/big.bin"

# 1. first read (cache empty, source not in the page cache) vs a plain read of the object
evict "$obj"; memory_prep "$work"; plain=$(rate "$obj")
mount_pkg bench/big "$work/mnt"
evict "$obj"; memory_prep "$work"; first=$(rate "$work/mnt/big.bin")
# 2. re-read through the kernel's page cache vs the cache file read directly (warm)
sleep 1; reread=$(rate "$work/mnt/big.bin")
cached_file=$(find "$QUILTFS_HOME/.quilt/objects" -type f -size +1M | head -1)
rate "$cached_file" >/dev/null; direct_warm=$(rate "$cached_file")
"$q" unmount "$work/mnt" >/dev/null
# 3. cached object, first read after mount vs the cache file read directly (both evicted)
# (one read of the evicted file first, so that both sides find the disk below in the same state:
# on a VM the host's cache answers the second read of a file the guest evicted)
evict "$cached_file"; rate "$cached_file" >/dev/null
mount_pkg bench/big "$work/mnt"
evict "$cached_file"; memory_prep "$work"; cached=$(rate "$work/mnt/big.bin")
evict "$cached_file"; memory_prep "$work"; direct_cold=$(rate "$cached_file")
"$q" unmount "$work/mnt" >/dev/null
# 3b. the same two reads on a read-only mount, where the kernel reads a cached object from the
# cache file itself (FUSE passthrough, when the kernel and privileges allow it)
mount_pkg bench/big "$work/mnt" --read-only
evict "$cached_file"; memory_prep "$work"; ro_cached=$(rate "$work/mnt/big.bin")
evict "$cached_file"; memory_prep "$work"; ro_direct_cold=$(rate "$cached_file")
rate "$work/mnt/big.bin" >/dev/null; ro_reread=$(rate "$work/mnt/big.bin")
rate "$cached_file" >/dev/null; ro_direct_warm=$(rate "$cached_file")
"$q" unmount "$work/mnt" >/dev/null
# 4. time to first byte of a cold large file
rm -rf "$QUILTFS_HOME/.quilt/objects" "$QUILTFS_HOME/.quilt/stamps"
mount_pkg bench/big "$work/mnt"
evict "$obj"; first_byte=$(ttfb "$work/mnt/big.bin")
plain_first_byte=$(evict "$obj"; ttfb "$obj")
"$q" unmount "$work/mnt" >/dev/null

# 5. metadata over a wide package vs the same tree on the local disk
cp_="$here/cli/target/quiltfs.jar:$here/bench/target/classes"
java -cp "$cp_" io.quiltfs.bench.WidePackage "$work/registry" bench/wide "$wide" 1000 "$work/tree" >/dev/null
mount_pkg bench/wide "$work/mnt-wide"
find_mnt=$(secs find "$work/mnt-wide"); find_mnt2=$(secs find "$work/mnt-wide")
find_local=$(secs find "$work/tree")
lslr_mnt=$(secs ls -lR "$work/mnt-wide"); lslr_mnt2=$(secs ls -lR "$work/mnt-wide")
lslr_local=$(secs ls -lR "$work/tree")
"$q" unmount "$work/mnt-wide" >/dev/null

# 6. a huge package: mount time and heap
huge_line="| mount a ${huge}-entry package | skipped | | |"
if [ "$huge" -gt 0 ]; then
  java -cp "$cp_" io.quiltfs.bench.WidePackage "$work/registry" bench/huge "$huge" 1000 >/dev/null
  mount_secs=$(secs "$q" mount bench/huge "$work/mnt-huge" --registry "$work/registry")
  pid=$(daemon_pid "$work/mnt-huge")
  jcmd "$pid" GC.run >/dev/null
  heap=$(jcmd "$pid" GC.heap_info | grep -oE 'used [0-9]+K' | grep -oE '[0-9]+' | awk '{s+=$1} END {printf "%.0f", s/1024}')
  "$q" unmount "$work/mnt-huge" >/dev/null
  huge_line="| mount a ${huge}-entry package | ${mount_secs} s, heap ${heap} MB after GC | target < 3 s, < 300 MB | |"
fi

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
cat <<MD
## Mount

$(date -u +%Y-%m-%d) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); local-folder
registry; ${mb} MiB object; memory state before each cold read: ${memory}; produced by
\`bench/mount.sh\`.

| measure | quiltfs mount | baseline (same run) | ratio |
|---|---|---|---|
| first read, cache empty (MiB/s) | ${first} | plain read of the object: ${plain} | $(ratio "$first" "$plain")x |
| cached object, first read after mount (MiB/s) | ${cached} | cache file read directly: ${direct_cold} | $(ratio "$cached" "$direct_cold")x |
| re-read, kernel page cache (MiB/s) | ${reread} | cache file read directly, warm: ${direct_warm} | $(ratio "$reread" "$direct_warm")x |
| read-only mount: cached object, first read after mount (MiB/s) | ${ro_cached} | cache file read directly: ${ro_direct_cold} | $(ratio "$ro_cached" "$ro_direct_cold")x |
| read-only mount: re-read (MiB/s) | ${ro_reread} | cache file read directly, warm: ${ro_direct_warm} | $(ratio "$ro_reread" "$ro_direct_warm")x |
| time to first byte, cold ${mb} MiB file (ms) | ${first_byte} | plain file: ${plain_first_byte} | |
| find over ${wide} entries (s), cold / warm | ${find_mnt} / ${find_mnt2} | local disk: ${find_local} | $(ratio "$find_mnt2" "$find_local")x slower |
| ls -lR over ${wide} entries (s), cold / warm | ${lslr_mnt} / ${lslr_mnt2} | local disk: ${lslr_local} | $(ratio "$lslr_mnt2" "$lslr_local")x slower |
${huge_line}
MD
