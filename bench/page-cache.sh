#!/usr/bin/env bash
# How the kernel's page cache holds a file read through the mount, against the cache file
# itself (issue 5, "re-read: at least 0.5x reading the cache file directly"). Mounts a package
# read-only, reads its object once through the mount, then for the mounted file and for the
# cache file prints how the page cache holds it (folio sizes, physical contiguity:
# bench/src/main/c/pagecache.c) and re-read speeds; counts the file reads the daemon makes
# during the mount's re-reads (strace) to show the kernel serves them alone. With FUSE
# passthrough (Linux >= 6.9, root) the mounted file is the cache file's pages; run with
# QUILTFS_PASSTHROUGH=0 to see FUSE's own page cache (4 KiB folios on Linux 6.18).
# Needs root (kpageflags), cc and strace. Size: PAGECACHE_BENCH_MB (default 1024).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mb="${PAGECACHE_BENCH_MB:-1024}"
work="$here/bench/work/page-cache"
q="$here/quiltfs"
cleanup() {
  grep -qs " $work/mnt fuse" /proc/mounts && "$q" unmount --lazy "$work/mnt" >/dev/null 2>&1 || true
  [ -n "${tracer:-}" ] && kill "$tracer" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$work/src" "$work/mnt"
export QUILTFS_HOME="$work/home"
cc -O2 -o "$work/pagecache" "$here/bench/src/main/c/pagecache.c"
head -c $((mb << 20)) /dev/urandom > "$work/src/big.bin"
"$q" build bench/big "$work/src" --registry "$work/registry" >/dev/null
"$q" mount bench/big "$work/mnt" --registry "$work/registry" --read-only >/dev/null
cat "$work/mnt/big.bin" > /dev/null
cached=$(find "$QUILTFS_HOME/.quilt/objects" -type f -size +1M | head -1)
cat "$cached" > /dev/null
pid=$(python3 -c "import json,glob;print([json.load(open(f))['pid'] for f in glob.glob('$QUILTFS_HOME/mounts/*.json')][0])")
echo "load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
echo "through the mount:"
strace -f -c -e trace=pread64,read -p "$pid" -o "$work/strace" 2>/dev/null & tracer=$!
sleep 1
"$work/pagecache" "$work/mnt/big.bin" 3
kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true; tracer=
echo "  system calls of the daemon meanwhile (read = requests from /dev/fuse, pread64 = file reads):"
grep -E " (pread64|read)$" "$work/strace" | awk '{print "   ", $4, $NF}' || echo "    none"
echo "the cache file directly:"
"$work/pagecache" "$cached" 3
