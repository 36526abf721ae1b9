# Sourced by the benchmarks that write page-cache pages (bench/mount-s3.sh, bench/workflow.sh,
# bench/s3.sh, bench/mount.sh):
# gives every timed run the same memory state.
#
# On this VM, guest memory left free for about a second goes back to the host (virtio-balloon
# free page reporting), and whoever fills page-cache pages next pays ~2 s per GiB for the host to
# hand them back; right after a free it is ~0.2 s per GiB (measured: writing 1 GiB into a new file
# took 0.21-0.28 s within 0.5 s of deleting another, 1.9-2.2 s after 1 s or more). A side that
# runs right after another side's clean-up would get cheap memory, so every timed run is preceded
# by `memory_prep`:
#   MEMORY=primed   (default) write and delete MEMORY_MB (default 2048) just before, as on a
#                   machine without a balloon;
#   MEMORY=settled  wait 3 s instead, so that every side pays the host's price.
memory="${MEMORY:-primed}"
memory_mb="${MEMORY_MB:-2048}"
case "$memory" in
  primed|settled) ;;
  *) echo "MEMORY is primed or settled, not '$memory'" >&2; exit 2 ;;
esac
# memory_prep DIR: the scratch file goes to DIR (on the file system the timed run writes to).
memory_prep() {
  if [ "$memory" = primed ]; then
    python3 - "$1/.memory-prime" "$memory_mb" <<'PY'
import os, sys
block = b"\x5a" * (1 << 20)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for _ in range(int(sys.argv[2])):
    os.write(fd, block)
os.close(fd)
os.unlink(sys.argv[1])
PY
  else
    sleep 3
  fi
}
