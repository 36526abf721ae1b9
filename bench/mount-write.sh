#!/usr/bin/env bash
# Benchmarks of the mount's write side (issue 6), each against a baseline measured in the same run:
#   sequential write of MOUNT_WRITE_MB (default 512) MiB into the mount vs the same write to the
#   local disk (the home's disk), 1 MiB writes, fsync at the end in both;
#   commit from the mount of MOUNT_WRITE_FILES (default 10000) new small files vs `quiltfs commit`
#   of the same change in an installed working folder.
# Prints a Markdown section for bench/RESULTS.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mb="${MOUNT_WRITE_MB:-512}"
files="${MOUNT_WRITE_FILES:-10000}"
work="$here/bench/work/mount-write"
q="$here/quiltfs"

cleanup() {
  grep -qs " $work/mnt fuse" /proc/mounts && "$q" unmount --lazy "$work/mnt" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$work/src" "$work/mnt" "$work/small"
(cd "$here" && mvn -q -B -o -pl cli -am package -DskipTests >&2)
export QUILTFS_HOME="$work/home"

# MiB/s of writing N MiB to a new file with 1 MiB writes, fsync included.
wrate() {
  python3 - "$1" "$2" <<'PY'
import os, sys, time
path, mb = sys.argv[1], int(sys.argv[2])
buf = os.urandom(1 << 20)
t = time.perf_counter()
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for _ in range(mb):
    os.write(fd, buf)
os.fsync(fd); os.close(fd)
dt = time.perf_counter() - t
print(f"{mb / dt:.0f}")
PY
}
secs() {
  python3 -c 'import subprocess, sys, time
t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.3f}")' "$@"
}

echo "seed" > "$work/src/seed.txt"
"$q" build -r "$work/registry" bench/write "$work/src" -m seed >/dev/null
"$q" mount bench/write "$work/mnt" -r "$work/registry" >/dev/null

disk=(); fuse=()
for run in 1 2 3; do
  disk+=("$(wrate "$work/disk.bin" "$mb")"); rm -f "$work/disk.bin"
  fuse+=("$(wrate "$work/mnt/big$run.bin" "$mb")")
done
rm -f "$work"/mnt/big*.bin
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
d=$(med "${disk[@]}"); f=$(med "${fuse[@]}")

python3 - "$work/small" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i % 100}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.txt"), "w") as fh:
        fh.write(f"small file {i}\n" * 8)
PY
cp -r "$work/small" "$work/mnt/small"
tm=$(secs "$q" commit "$work/mnt" -m "10k small files")

# Baseline: the same change in a separate home's installed working folder.
export QUILTFS_HOME="$work/home2"
"$q" install bench/write -r "$work/registry" --dest "$work/wf" >/dev/null
cp -r "$work/small" "$work/wf/small"
tw=$(secs "$q" commit bench/write -m "10k small files")
export QUILTFS_HOME="$work/home"
"$q" unmount "$work/mnt" >/dev/null

cat <<MD
## Mount writes

$(date -u +%Y-%m-%d), $(nproc) cores, medians of 3 (MiB/s) or one run (s).

| measure | quiltfs mount | baseline | ratio | target |
|---|---|---|---|---|
| sequential write of $mb MiB (1 MiB writes + fsync) | $f MiB/s | $d MiB/s (local disk) | $(python3 -c "print(f'{$f/$d:.2f}x')") | >= 0.35x |
| commit of $files new small files | $tm s (from the mount) | $tw s (installed working folder) | $(python3 -c "print(f'{$tm/$tw:.2f}x')") | <= 1.5x |
MD
